package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"gridbot/bot"
	"gridbot/bot/roster"
	"gridbot/bot/wecom"
)

// reportTexts are what inspectors write; every other report of a member is
// 取消, so that no draft grows without end.
func reportTexts() []string {
	return []string{
		"东盛路菜市场门口垃圾桶满了，垃圾溢出来没人清理",
		"幸福路菜市场门口有人占道经营，摆摊卖菜，影响通行",
		"小区北门井盖丢了，很危险",
		"路灯不亮了，晚上黑乎乎的",
		"墙上贴满了小广告",
		"绿化带里被人种了菜",
	}
}

// generator makes callbacks exactly as WeCom sends them: plaintext XML
// (wecom.BuildXML) sealed with a fresh random prefix, nonce and timestamp
// (Crypto.Seal). It is safe for concurrent use.
type generator struct {
	crypto  *wecom.Crypto
	corpID  string
	agentID string
	mix     mix
	members []string // roster userids
	texts   []string // reportTexts
	msgBase uint64   // MsgIds are msgBase+1, msgBase+2 …: unique across runs
	seq     atomic.Uint64

	mu      sync.Mutex
	reports map[string]int // member → reports sent, for the 取消 rhythm
	recent  [][]byte       // plaintexts sent, the newest 4096, for retries
	next    int
}

// sealed is one callback ready to post.
type sealed struct {
	kind  kind
	query string
	body  []byte
}

func newGenerator(c config) (*generator, error) {
	crypto, err := wecom.NewCrypto(c.Token, c.AESKey, c.CorpID)
	if err != nil {
		return nil, err
	}
	var members []string
	for _, p := range roster.Demo().People {
		members = append(members, p.UserID)
	}
	return &generator{
		crypto: crypto, corpID: c.CorpID, agentID: strconv.Itoa(c.AgentID), mix: c.Mix, members: members, texts: reportTexts(),
		msgBase: uint64(time.Now().UnixMicro()) * 1000, reports: map[string]int{},
	}, nil
}

// make draws one callback of the mix and seals it.
func (g *generator) make(rnd *rand.Rand) (sealed, error) {
	k := g.mix.pick(rnd.IntN(g.mix.total))
	var plain []byte
	if k == kindRetry {
		if plain = g.old(rnd); plain == nil {
			k = kindStranger // nothing to retry yet
		}
	}
	if plain == nil {
		plain = g.plain(k, rnd)
		g.remember(plain)
	}
	q, body, err := g.crypto.Seal(plain, g.agentID, time.Now(), "")
	if err != nil {
		return sealed{}, err
	}
	return sealed{kind: k, query: q.URLValues().Encode(), body: body}, nil
}

// plain builds the decrypted XML of a new callback of kind k.
func (g *generator) plain(k kind, rnd *rand.Rand) []byte {
	n := g.seq.Add(1)
	m := bot.Inbound{CorpID: g.corpID, AgentID: g.agentID, CreateTime: time.Now().Truncate(time.Second)}
	switch k {
	case kindClick:
		// A tap on a card the bot never sent: answered "unknown card".
		m.Kind, m.MsgType, m.Event = bot.KindCardClick, "event", "template_card_event"
		m.UserID = g.members[rnd.IntN(len(g.members))]
		m.EventKey, m.TaskID, m.CardType = "confirm", fmt.Sprintf("bench%d", n), "button_interaction"
		m.ResponseCode = fmt.Sprintf("rc%d-%d", g.msgBase, n)
	case kindReport:
		m.Kind, m.MsgType, m.MsgID = bot.KindText, "text", strconv.FormatUint(g.msgBase+n, 10)
		m.UserID = g.members[rnd.IntN(len(g.members))]
		g.mu.Lock()
		i := g.reports[m.UserID]
		g.reports[m.UserID]++
		g.mu.Unlock()
		m.Content = "取消"
		if i%2 == 0 {
			m.Content = g.texts[rnd.IntN(len(g.texts))]
		}
	default: // a stranger: one polite line back, nothing else
		m.Kind, m.MsgType, m.MsgID = bot.KindText, "text", strconv.FormatUint(g.msgBase+n, 10)
		m.UserID = fmt.Sprintf("loadtest%06d", n%100000)
		m.Content = g.texts[rnd.IntN(len(g.texts))]
	}
	return wecom.BuildXML(m)
}

// remember keeps plain for later retries.
func (g *generator) remember(plain []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.recent) < 4096 {
		g.recent = append(g.recent, plain)
		return
	}
	g.recent[g.next] = plain
	g.next = (g.next + 1) % len(g.recent)
}

// old returns a plaintext already sent, or nil.
func (g *generator) old(rnd *rand.Rand) []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.recent) == 0 {
		return nil
	}
	return g.recent[rnd.IntN(len(g.recent))]
}
