package wecom_test

import (
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/wecom"
)

// benchText is a typical inspector report: a text message of about a
// hundred bytes of Chinese.
func benchText() bot.Inbound {
	return bot.Inbound{
		Kind: bot.KindText, CorpID: officialCorpID, UserID: "zhangsan", AgentID: "218",
		CreateTime: time.Unix(1718000000, 0).UTC(), MsgID: "7379811238409338880",
		Content: "上报：3号楼2单元楼道堆放杂物，堵塞消防通道，已拍照，请尽快处理。",
	}
}

// BenchmarkOpen is the bare baseline of the callback path: signature check,
// timestamp window, AES decrypt, XML parse and dedupe key of one sealed
// text message, with no HTTP, store or queue around it.
func BenchmarkOpen(b *testing.B) {
	now := time.Unix(1718000000, 0)
	r := wecom.Receiver{Crypto: newCrypto(b), AgentID: "218", Window: 300 * time.Second, Now: func() time.Time { return now }}
	q, body, err := r.Crypto.Seal(wecom.BuildXML(benchText()), "218", now, "1372623149")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Open(q, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeal is the other half of the pair: what a load generator or the
// simulator spends to build one callback (build XML, encrypt, sign).
func BenchmarkSeal(b *testing.B) {
	c := newCrypto(b)
	now := time.Unix(1718000000, 0)
	m := benchText()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Seal(wecom.BuildXML(m), "218", now, "1372623149"); err != nil {
			b.Fatal(err)
		}
	}
}
