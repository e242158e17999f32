package wecom_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/wecom"
)

// updateGolden rewrites testdata/callbacks/*.golden.json from Parse. It is
// the package's one -update flag: other golden tests here should share it.
var updateGolden = flag.Bool("update", false, "rewrite golden files")

// goldenCase is one testdata/callbacks/NAME.xml with its expectations.
type goldenCase struct {
	name string
	kind bot.Kind
}

// goldenCases lists every golden file, one per kind WeCom sends us.
func goldenCases() []goldenCase {
	return []goldenCase{
		{"text", bot.KindText},
		{"image", bot.KindImage},
		{"voice", bot.KindVoice},
		{"video", bot.KindVideo},
		{"location", bot.KindLocation},
		{"link", bot.KindLink},
		{"event_enter_agent", bot.KindEnter},
		{"event_click", bot.KindClick},
		{"event_location", bot.KindLocEvent},
		{"event_template_card", bot.KindCardClick},
		{"event_change_contact", bot.KindUnknown},
		{"unknown_msgtype", bot.KindUnknown},
	}
}

// readGolden returns the plaintext XML of a golden case.
func readGolden(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "callbacks", name+".xml"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestParseGolden parses each golden XML and compares the Inbound, as
// JSON, with its .golden.json. Run with -update to rewrite the JSON.
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "callbacks", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(goldenCases()) {
		t.Errorf("%d XML files in testdata/callbacks, %d listed in goldenCases", len(files), len(goldenCases()))
	}
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			m, err := wecom.Parse(readGolden(t, tc.name))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.Kind != tc.kind {
				t.Errorf("Kind = %q, want %q", m.Kind, tc.kind)
			}
			got, err := json.MarshalIndent(m, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "callbacks", tc.name+".golden.json")
			if *updateGolden {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Parse(%s.xml) differs from %s\ngot:\n%s\nwant:\n%s", tc.name, path, got, want)
			}
		})
	}
}

// TestParseFields pins the fields the golden files exist for, so an
// -update cannot silently bless a regression in them.
func TestParseFields(t *testing.T) {
	parse := func(name string) bot.Inbound {
		t.Helper()
		m, err := wecom.Parse(readGolden(t, name))
		if err != nil {
			t.Fatalf("Parse(%s): %v", name, err)
		}
		return m
	}
	text := parse("text")
	if text.Content != `上报 3号楼 楼道堆物 <已拍照> & "请处理"` || text.MsgID != "7379811238409338880" ||
		text.UserID != "zhangsan" || text.AgentID != "218" || text.CorpID != officialCorpID ||
		!text.CreateTime.Equal(time.Unix(1718000000, 0)) {
		t.Errorf("text = %+v", text)
	}
	loc := parse("location")
	if loc.Lat != 23.134521 || loc.Lng != 113.358803 || loc.Scale != 15 || loc.Label != "广东省广州市天河区天河路385号" {
		t.Errorf("location = %+v", loc)
	}
	ev := parse("event_location")
	if ev.Lat != 23.104105 || ev.Lng != 113.320107 || ev.Precision != 65 || ev.MsgID != "" {
		t.Errorf("LOCATION = %+v", ev)
	}
	card := parse("event_template_card")
	wantItems := []bot.SelectedItem{
		{QuestionKey: "result", OptionIDs: []string{"fixed"}},
		{QuestionKey: "tags", OptionIDs: []string{"fire_risk", "blocked_exit"}},
	}
	if card.EventKey != "submit" || card.TaskID != "t_9f2c1e7a4b6d8e0f" || card.CardType != "multiple_interaction" ||
		card.ResponseCode != "ZnH3vxlhYBLnhQ0Tmbo2D1GgjzK5sZ-CUw3DY7zEKAs" || !equalItems(card.SelectedItems, wantItems) {
		t.Errorf("template_card_event = %+v", card)
	}
	if cc := parse("event_change_contact"); cc.Event != "change_contact" || cc.MsgType != "event" || cc.UserID != "sys" {
		t.Errorf("change_contact = %+v", cc)
	}
	if f := parse("unknown_msgtype"); f.MsgType != "file" || f.MsgID != "7379811238409338886" || f.MediaID != "" {
		t.Errorf("unknown msgtype = %+v", f)
	}
}

func equalItems(a, b []bot.SelectedItem) bool {
	return equalInbound(bot.Inbound{SelectedItems: a}, bot.Inbound{SelectedItems: b})
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		plain string
	}{
		{"empty", ""},
		{"not xml", "hello"},
		{"truncated", "<xml><ToUserName><![CDATA[wx]]></ToUserName><FromUserName>"},
		{"other root", "<msg><FromUserName>a</FromUserName><MsgType>text</MsgType></msg>"},
		{"no MsgType", "<xml><FromUserName>a</FromUserName></xml>"},
		{"blank MsgType", "<xml><FromUserName>a</FromUserName><MsgType> </MsgType></xml>"},
		{"no FromUserName", "<xml><MsgType>text</MsgType></xml>"},
		{"undefined entity", "<xml><FromUserName>&lol;</FromUserName><MsgType>text</MsgType></xml>"},
		{"invalid utf-8", "<xml><FromUserName>\xff</FromUserName><MsgType>text</MsgType></xml>"},
		{"nul", "<xml><FromUserName>\x00</FromUserName><MsgType>text</MsgType></xml>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wecom.Parse([]byte(tt.plain))
			wantCode(t, err, bot.EINVALID)
		})
	}
}

// TestParseOddValues: values a signed callback could carry that are not
// errors but must still give an Inbound that can be stored as JSON.
func TestParseOddValues(t *testing.T) {
	tests := []struct {
		name  string
		plain string
		check func(bot.Inbound) bool
	}{
		{"NaN coordinates", `<xml><FromUserName>u</FromUserName><MsgType>location</MsgType><Location_X>NaN</Location_X><Location_Y>-Inf</Location_Y><Scale>+Inf</Scale></xml>`,
			func(m bot.Inbound) bool { return m.Lat == 0 && m.Lng == 0 && m.Scale == 0 }},
		{"NaN precision", `<xml><FromUserName>u</FromUserName><MsgType>event</MsgType><Event>LOCATION</Event><Latitude>1</Latitude><Longitude>2</Longitude><Precision>nan</Precision></xml>`,
			func(m bot.Inbound) bool { return m.Lat == 1 && m.Lng == 2 && m.Precision == 0 }},
		{"huge scale", `<xml><FromUserName>u</FromUserName><MsgType>location</MsgType><Scale>1e300</Scale></xml>`,
			func(m bot.Inbound) bool { return m.Scale == 0 }},
		{"year 10000", `<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><CreateTime>253402300800</CreateTime></xml>`,
			func(m bot.Inbound) bool { return m.CreateTime.IsZero() }},
		{"negative year", `<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><CreateTime>-99999999999999</CreateTime></xml>`,
			func(m bot.Inbound) bool { return m.CreateTime.IsZero() }},
		{"CreateTime not a number", `<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><CreateTime>soon</CreateTime></xml>`,
			func(m bot.Inbound) bool { return m.CreateTime.IsZero() }},
		{"last second of 9999", `<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><CreateTime>253402300799</CreateTime></xml>`,
			func(m bot.Inbound) bool { return m.CreateTime.Year() == 9999 }},
		{"content kept verbatim", "<xml><FromUserName> u </FromUserName><MsgType> text </MsgType><Content><![CDATA[  两行\n文本  ]]></Content></xml>",
			func(m bot.Inbound) bool {
				return m.Kind == bot.KindText && m.UserID == "u" && m.Content == "  两行\n文本  "
			}},
		{"event without Event", `<xml><FromUserName>u</FromUserName><MsgType>event</MsgType></xml>`,
			func(m bot.Inbound) bool { return m.Kind == bot.KindUnknown }},
		{"doctype ignored", `<!DOCTYPE xml [<!ENTITY a "b">]><xml><FromUserName>u</FromUserName><MsgType>text</MsgType></xml>`,
			func(m bot.Inbound) bool { return m.Kind == bot.KindText }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := wecom.Parse([]byte(tt.plain))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !tt.check(m) {
				t.Errorf("Parse = %+v", m)
			}
			if _, err := json.Marshal(m); err != nil {
				t.Errorf("json.Marshal(Parse(…)): %v", err)
			}
		})
	}
}

// TestBuildXMLRoundTrip: Parse(BuildXML(m)) == m for every golden kind and
// for values that need escaping.
func TestBuildXMLRoundTrip(t *testing.T) {
	var msgs []bot.Inbound
	for _, tc := range goldenCases() {
		m, err := wecom.Parse(readGolden(t, tc.name))
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	odd := msgs[0]
	odd.Content = "a]]>b]]]>c\r\nd\re <![CDATA[x]]> &amp; \t "
	msgs = append(msgs, odd)

	for _, m := range msgs {
		got, err := wecom.Parse(wecom.BuildXML(m))
		if err != nil {
			t.Fatalf("Parse(BuildXML(%s)): %v\n%s", m.Kind, err, wecom.BuildXML(m))
		}
		if !equalInbound(got, m) {
			t.Errorf("Parse(BuildXML(m)) for %s/%s:\n got %+v\nwant %+v\nxml %s", m.MsgType, m.Event, got, m, wecom.BuildXML(m))
		}
	}
}

// TestBuildXMLFromKind: a simulator can set only Kind and the fields.
func TestBuildXMLFromKind(t *testing.T) {
	ts := time.Unix(1718000000, 0).UTC()
	for _, m := range []bot.Inbound{
		{Kind: bot.KindText, Content: "hi"},
		{Kind: bot.KindEnter},
		{Kind: bot.KindClick, EventKey: "k"},
		{Kind: bot.KindLocEvent, Lat: 1.5, Lng: -2.25, Precision: 10},
		{Kind: bot.KindCardClick, EventKey: "ok", TaskID: "t1", CardType: "button_interaction", ResponseCode: "rc",
			SelectedItems: []bot.SelectedItem{{QuestionKey: "q", OptionIDs: []string{"a", "b"}}}},
	} {
		m.CorpID, m.UserID, m.AgentID, m.CreateTime = officialCorpID, "zhangsan", "218", ts
		got, err := wecom.Parse(wecom.BuildXML(m))
		if err != nil {
			t.Fatalf("%s: %v", m.Kind, err)
		}
		want := m
		if m.Kind.IsEvent() {
			want.MsgType, want.Event = "event", string(m.Kind)
		} else {
			want.MsgType = string(m.Kind)
		}
		if !equalInbound(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", m.Kind, got, want)
		}
	}
}

// TestBuildXMLShape pins WeCom's rendering: CDATA strings, plain numbers.
func TestBuildXMLShape(t *testing.T) {
	m, err := wecom.Parse(readGolden(t, "text"))
	if err != nil {
		t.Fatal(err)
	}
	got := string(wecom.BuildXML(m))
	for _, want := range []string{
		"<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n",
		"<FromUserName><![CDATA[zhangsan]]></FromUserName>\n",
		"<CreateTime>1718000000</CreateTime>\n",
		"<MsgType><![CDATA[text]]></MsgType>\n",
		"<MsgId>7379811238409338880</MsgId>\n",
		"<AgentID>218</AgentID>\n</xml>",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("BuildXML(text) lacks %q:\n%s", want, got)
		}
	}
	if b := readGolden(t, "text"); got != string(b[:len(b)-1]) { // the file ends in a newline
		t.Errorf("BuildXML(text) differs from testdata/callbacks/text.xml:\n%s", got)
	}
}

// testReceiver returns a Receiver for the official corp, agent 218, with a
// 300 s window around now.
func testReceiver(tb testing.TB, now time.Time) wecom.Receiver {
	return wecom.Receiver{
		Crypto:  newCrypto(tb),
		AgentID: "218",
		Window:  300 * time.Second,
		Now:     func() time.Time { return now },
	}
}

// TestSealOpenRoundTrip seals every golden plaintext as WeCom would, opens
// it, and checks the Inbound and the dedupe key.
func TestSealOpenRoundTrip(t *testing.T) {
	now := time.Unix(1718000700, 0)
	r := testReceiver(t, now)
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			plain := readGolden(t, tc.name)
			want, err := wecom.Parse(plain)
			if err != nil {
				t.Fatal(err)
			}
			q, body, err := r.Crypto.Seal(plain, "218", now.Add(-4*time.Second), "")
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			// Through a real URL, as the handler will see it.
			v, err := urlRoundTrip(q.URLValues().Encode())
			if err != nil {
				t.Fatal(err)
			}
			q2 := wecom.Query{Signature: v.Get("msg_signature"), Timestamp: v.Get("timestamp"), Nonce: v.Get("nonce")}
			if q2 != q {
				t.Fatalf("URLValues lost data: %+v != %+v", q2, q)
			}
			cb, err := r.Open(q2, body)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(cb.Plain, plain) {
				t.Errorf("Plain differs")
			}
			if !equalInbound(cb.Msg, want) {
				t.Errorf("Open msg = %+v\nwant %+v", cb.Msg, want)
			}
			isEvent := want.MsgType == "event"
			switch {
			case isEvent && !strings.HasPrefix(cb.DedupeKey, "evt:"):
				t.Errorf("event DedupeKey = %q, want evt:<sha256>", cb.DedupeKey)
			case isEvent && len(cb.DedupeKey) != len("evt:")+64:
				t.Errorf("event DedupeKey = %q, want 64 hex digits", cb.DedupeKey)
			case !isEvent && cb.DedupeKey != "msg:"+want.MsgID:
				t.Errorf("message DedupeKey = %q, want msg:%s", cb.DedupeKey, want.MsgID)
			}
			if k := wecom.DedupeKey(want, plain); k != cb.DedupeKey {
				t.Errorf("DedupeKey(Parse) = %q, Open gave %q", k, cb.DedupeKey)
			}

			// A retry: same plaintext, new random prefix, nonce and timestamp.
			q3, body3, err := r.Crypto.Seal(plain, "218", now.Add(-1*time.Second), "")
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(body3, body) || q3.Nonce == q.Nonce {
				t.Fatal("two Seal calls gave the same body or nonce")
			}
			cb3, err := r.Open(q3, body3)
			if err != nil {
				t.Fatalf("Open(retry): %v", err)
			}
			if cb3.DedupeKey != cb.DedupeKey {
				t.Errorf("retry DedupeKey = %q, first %q", cb3.DedupeKey, cb.DedupeKey)
			}
		})
	}
}

// TestDedupeKeyDistinctEvents: two different events of one member in the
// same second (WeCom's FromUserName+CreateTime) must not collide.
func TestDedupeKeyDistinctEvents(t *testing.T) {
	base := bot.Inbound{
		MsgType: "event", CorpID: officialCorpID, UserID: "zhangsan", AgentID: "218",
		CreateTime: time.Unix(1718000000, 0).UTC(),
	}
	enter := base
	enter.Kind, enter.Event = bot.KindEnter, "enter_agent"
	loc := base
	loc.Kind, loc.Event, loc.Lat, loc.Lng, loc.Precision = bot.KindLocEvent, "LOCATION", 23.1, 113.3, 30
	clickA := base
	clickA.Kind, clickA.Event, clickA.EventKey = bot.KindClick, "click", "a"
	clickB := clickA
	clickB.EventKey = "b"
	cardA := base
	cardA.Kind, cardA.Event, cardA.EventKey, cardA.TaskID, cardA.ResponseCode = bot.KindCardClick, "template_card_event", "ok", "t1", "rc1"
	cardB := cardA
	cardB.ResponseCode = "rc2"

	r := testReceiver(t, base.CreateTime)
	seen := map[string]string{}
	for _, m := range []bot.Inbound{enter, loc, clickA, clickB, cardA, cardB} {
		q, body, err := r.Crypto.Seal(wecom.BuildXML(m), "218", base.CreateTime, "")
		if err != nil {
			t.Fatal(err)
		}
		cb, err := r.Open(q, body)
		if err != nil {
			t.Fatalf("Open(%s): %v", m.Kind, err)
		}
		name := string(m.Kind) + "/" + m.EventKey + "/" + m.ResponseCode
		if other, dup := seen[cb.DedupeKey]; dup {
			t.Errorf("%s and %s share DedupeKey %s", name, other, cb.DedupeKey)
		}
		seen[cb.DedupeKey] = name
	}
}

// TestDedupeKeyUnknownEventWithMsgID: an event is keyed by its content even
// if it carries a MsgId, and a message of an unknown type by its MsgId.
func TestDedupeKeyUnknownEventWithMsgID(t *testing.T) {
	ev := []byte("<xml><FromUserName>u</FromUserName><MsgType>event</MsgType><Event>kf_msg_or_event</Event><MsgId>42</MsgId></xml>")
	m, err := wecom.Parse(ev)
	if err != nil {
		t.Fatal(err)
	}
	if k := wecom.DedupeKey(m, ev); !strings.HasPrefix(k, "evt:") {
		t.Errorf("unknown event DedupeKey = %q, want evt:…", k)
	}
	msg := []byte("<xml><FromUserName>u</FromUserName><MsgType>file</MsgType><MsgId>42</MsgId></xml>")
	if m, err = wecom.Parse(msg); err != nil {
		t.Fatal(err)
	}
	if k := wecom.DedupeKey(m, msg); k != "msg:42" {
		t.Errorf("unknown message DedupeKey = %q, want msg:42", k)
	}
}

// TestOpenErrors checks every way Open refuses a callback.
func TestOpenErrors(t *testing.T) {
	c := newCrypto(t)
	now := time.Unix(1718000000, 0)
	seal := func(plain string, agentID string, ts time.Time) (wecom.Query, []byte) {
		t.Helper()
		q, body, err := c.Seal([]byte(plain), agentID, ts, "12345")
		if err != nil {
			t.Fatal(err)
		}
		return q, body
	}
	text := func(corp, agent string) string {
		return string(wecom.BuildXML(bot.Inbound{
			Kind: bot.KindText, CorpID: corp, UserID: "zhangsan", AgentID: agent,
			CreateTime: now, MsgID: "1", Content: "hi",
		}))
	}
	official := wecom.Query{Signature: officialPostSig, Timestamp: officialPostTS, Nonce: officialPostNonce}
	padZero := rawCBC(t, layout("hi", 2, officialCorpID, 0))
	okQ, okBody := seal(text(officialCorpID, "218"), "218", now)
	withEnvelope := func(old, new string) []byte {
		return bytes.Replace(okBody, []byte(old), []byte(new), 1)
	}
	signed := func(ts string) wecom.Query { // okBody signed with another timestamp
		var env struct {
			Encrypt string `xml:"Encrypt"`
		}
		if err := xmlUnmarshal(okBody, &env); err != nil {
			t.Fatal(err)
		}
		return wecom.Query{Signature: c.Signature(ts, "12345", env.Encrypt), Timestamp: ts, Nonce: "12345"}
	}

	type receiver struct {
		agentID string
		window  time.Duration
	}
	strict := receiver{"218", 300 * time.Second}
	tests := []struct {
		name string
		r    receiver
		q    wecom.Query
		body []byte
		want string // "" = success
	}{
		{"sealed ok", strict, okQ, okBody, ""},
		{"official, window 0", receiver{"218", 0}, official, []byte(officialPostBody), ""},
		{"official, no agent configured", receiver{"", 0}, official, []byte(officialPostBody), ""},
		{"official is stale with a 300 s window", strict, official, []byte(officialPostBody), bot.EUNAUTHORIZED},
		{"bad signature", strict, wecom.Query{Signature: strings.Repeat("a", 40), Timestamp: okQ.Timestamp, Nonce: okQ.Nonce}, okBody, bot.EUNAUTHORIZED},
		{"empty signature", strict, wecom.Query{Timestamp: okQ.Timestamp, Nonce: okQ.Nonce}, okBody, bot.EUNAUTHORIZED},
		{"nonce swapped", strict, wecom.Query{Signature: okQ.Signature, Timestamp: okQ.Timestamp, Nonce: "54321"}, okBody, bot.EUNAUTHORIZED},
		{"299 s old", strict, signed("1717999701"), okBody, ""},
		{"301 s old", strict, signed("1717999699"), okBody, bot.EUNAUTHORIZED},
		{"301 s ahead", strict, signed("1718000301"), okBody, bot.EUNAUTHORIZED},
		{"timestamp not a number", strict, signed("now"), okBody, bot.EINVALID},
		{"envelope AgentID mismatch", strict, okQ, withEnvelope("<AgentID><![CDATA[218]]>", "<AgentID><![CDATA[219]]>"), bot.EUNAUTHORIZED},
		{"envelope ToUserName mismatch", strict, okQ, withEnvelope(officialCorpID, "wwOTHERCORP0000001"), bot.EUNAUTHORIZED},
		{"envelope without AgentID", strict, okQ, withEnvelope("<AgentID><![CDATA[218]]></AgentID>", ""), ""},
		{"malformed outer XML", strict, okQ, okBody[:len(okBody)-8], bot.EINVALID},
		{"outer XML other root", strict, okQ, withEnvelope("<xml>", "<root>"), bot.EINVALID},
		{"not XML", strict, okQ, []byte("msg_signature=1&Encrypt=2"), bot.EINVALID},
		{"empty body", strict, okQ, nil, bot.EINVALID},
		{"no Encrypt", strict, okQ, []byte("<xml><ToUserName>x</ToUserName></xml>"), bot.EINVALID},
		{"signed ciphertext that is not base64", strict,
			wecom.Query{Signature: c.Signature("1718000000", "1", "%%%"), Timestamp: "1718000000", Nonce: "1"},
			[]byte("<xml><Encrypt>%%%</Encrypt></xml>"), bot.EINVALID},
		{"signed ciphertext with pad byte 0", strict,
			wecom.Query{Signature: c.Signature("1718000000", "1", padZero), Timestamp: "1718000000", Nonce: "1"},
			[]byte("<xml><Encrypt>" + padZero + "</Encrypt></xml>"), bot.EINVALID},
	}
	// Plaintexts that are signed and decrypt but must still be refused.
	for _, p := range []struct {
		name, plain, envAgent string
		r                     receiver
		want                  string
	}{
		{"plaintext for another corp", text("wwOTHERCORP0000001", "218"), "218", strict, bot.EUNAUTHORIZED},
		{"plaintext for another agent", text(officialCorpID, "219"), "218", strict, bot.EUNAUTHORIZED},
		{"plaintext and envelope agents disagree", text(officialCorpID, "219"), "218", receiver{"", 300 * time.Second}, bot.EUNAUTHORIZED},
		{"plaintext not XML", "hello", "218", strict, bot.EINVALID},
		{"plaintext without MsgType", "<xml><FromUserName>u</FromUserName></xml>", "218", strict, bot.EINVALID},
		{"system event without AgentID", "<xml><ToUserName>" + officialCorpID + "</ToUserName><FromUserName>sys</FromUserName><MsgType>event</MsgType><Event>change_contact</Event></xml>", "", strict, ""},
	} {
		q, body := seal(p.plain, p.envAgent, now)
		tests = append(tests, struct {
			name string
			r    receiver
			q    wecom.Query
			body []byte
			want string
		}{p.name, p.r, q, body, p.want})
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := wecom.Receiver{Crypto: c, AgentID: tt.r.agentID, Window: tt.r.window, Now: func() time.Time { return now }}
			cb, err := r.Open(tt.q, tt.body)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if cb.Msg.Kind == "" || cb.DedupeKey == "" {
					t.Fatalf("Open = %+v", cb)
				}
				return
			}
			wantCode(t, err, tt.want)
		})
	}
}

// TestOpenTamper flips every byte of a sealed ciphertext (and of the
// official one): Open must refuse each.
func TestOpenTamper(t *testing.T) {
	c := newCrypto(t)
	r := wecom.Receiver{Crypto: c, AgentID: "218"}
	official := wecom.Query{Signature: officialPostSig, Timestamp: officialPostTS, Nonce: officialPostNonce}
	for i := range len(officialEncrypt) {
		enc := []byte(officialEncrypt)
		enc[i] ^= 0x01
		body := strings.Replace(officialPostBody, officialEncrypt, string(enc), 1)
		if _, err := r.Open(official, []byte(body)); err == nil {
			t.Fatalf("Open accepted the official vector with ciphertext byte %d flipped", i)
		}
	}
}
