package wecom_test

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"net/url"
	"reflect"
	"testing"

	"gridbot/bot"
	"gridbot/bot/wecom"
)

// The constants of WeCom's official sample (reference/wecom.md §9).
const (
	officialToken  = "QDG6eK"
	officialAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	officialCorpID = "wx5823bf96d3bd56c7"

	officialEchoSig   = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
	officialEchoTS    = "1409659589"
	officialEchoNonce = "263014780"
	officialEchostr   = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
	officialEchoReply = "1616140317555161061"

	officialPostSig   = "477715d11cdb4164915debcba66cb864d751f3e6"
	officialPostTS    = "1409659813"
	officialPostNonce = "1372623149"
	officialEncrypt   = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
	officialPostBody  = "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[" + officialEncrypt + "]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>"

	// The deterministic EncryptMsg fixture (§9): not official, but produced
	// identically by silenceper and an independent Python implementation.
	fixtureRandom  = "0123456789abcdef"
	fixturePlain   = "<xml><ToUserName><![CDATA[mycreate]]></ToUserName><FromUserName><![CDATA[wx5823bf96d3bd56c7]]></FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[this is a test]]></Content><MsgId>1234567890123456</MsgId><AgentID>128</AgentID></xml>"
	fixtureEncrypt = "sKqRbbiSUnDhFHOvPjtUMdc23JsNXVqHAPPZdO0pIWIMYDThPIeGEfKX2v40MaN9wqY6jfiEfXjU91lWT29R5DJekiGh+kvvWbgJb/xv+e4E7ohGxVjHMNbvtW/W79/IDuKgVJBfBuHgGc9otUO0w1l7Hsae/Ln6/jSCx2GMGlPTrk/Pd9Du8oTb3PrIs9a90wxwbaI9txmYwPqRSx+UWHWpEqcaMDQrfWyNOrIC1LMxfJN98WVM1lo7rHKcEzvuCkg0KtnJTML2WgkG7/evV+9gUXmIvHuAUwYvYhHEQjwQc8mFWnT1QCHyMMAaTYTs9YkB/njRL+wc5wMGWfU13eiwnl5qqIiQ7mvzi8TevQtz+Svc7SLFfrDfOWKuQmQOeAl9qFb+6QvXPBwEA1jAHo2cjnyeAPiQSi0YuLrvv4GqcDtRnbUKYlOP6sETKok0mOls1Z87pkjkonVbXJWABw=="
	fixtureSig     = "d9cdf134dbf5386e31896eb2a79c68dbe53e8cc2"
	fixtureTS      = "1409659813"
	fixtureNonce   = "1372623149"
)

// newCrypto returns a Crypto with the official sample's key material.
func newCrypto(tb testing.TB) *wecom.Crypto {
	tb.Helper()
	return newCryptoFor(tb, officialCorpID)
}

// newCryptoFor returns a Crypto with the official token and key for corpID.
func newCryptoFor(tb testing.TB, corpID string) *wecom.Crypto {
	tb.Helper()
	c, err := wecom.NewCrypto(officialToken, officialAESKey, corpID)
	if err != nil {
		tb.Fatalf("NewCrypto: %v", err)
	}
	return c
}

// errCode returns the code of err's *bot.Error, or "" if it has none.
func errCode(err error) string {
	var e *bot.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// wantCode fails the test unless err is a *bot.Error with code want.
func wantCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("error = nil, want a *bot.Error with code %q", want)
	}
	if got := errCode(err); got != want {
		tb.Fatalf("error %v: code %q, want %q", err, got, want)
	}
}

// rawCBC encrypts a hand-made plaintext (already padded to whole blocks)
// with the official key, IV = key[:16], as WeCom does, and returns base64.
func rawCBC(tb testing.TB, plaintext []byte) string {
	tb.Helper()
	key, err := base64.StdEncoding.DecodeString(officialAESKey + "=")
	if err != nil {
		tb.Fatal(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]byte, len(plaintext))
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(out, plaintext)
	return base64.StdEncoding.EncodeToString(out)
}

// layout builds random(16) ‖ msgLen ‖ msg ‖ receiveid, PKCS#7-padded to 32,
// and overwrites the final (pad) byte with last unless last is negative.
func layout(msg string, msgLen uint32, receiveID string, last int) []byte {
	p := make([]byte, 0, 64+len(msg)+len(receiveID))
	p = append(p, fixtureRandom...)
	p = binary.BigEndian.AppendUint32(p, msgLen)
	p = append(p, msg...)
	p = append(p, receiveID...)
	pad := 32 - len(p)%32
	for range pad {
		p = append(p, byte(pad))
	}
	if last >= 0 {
		p[len(p)-1] = byte(last)
	}
	return p
}

// equalInbound reports whether a and b are the same message.
func equalInbound(a, b bot.Inbound) bool {
	return reflect.DeepEqual(a, b)
}

// urlRoundTrip parses an encoded query the way net/http (and Gin) will.
func urlRoundTrip(rawQuery string) (url.Values, error) {
	return url.ParseQuery(rawQuery)
}

// xmlUnmarshal decodes XML into v.
func xmlUnmarshal(b []byte, v any) error {
	return xml.Unmarshal(b, v)
}
