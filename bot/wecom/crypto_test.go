package wecom_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/wecom"
)

func TestNewCrypto(t *testing.T) {
	tests := []struct {
		name                  string
		token, aesKey, corpID string
		ok                    bool
	}{
		{"official", officialToken, officialAESKey, officialCorpID, true},
		{"no token", "", officialAESKey, officialCorpID, false},
		{"short key", officialToken, officialAESKey[:42], officialCorpID, false},
		{"long key", officialToken, officialAESKey + "A", officialCorpID, false},
		{"key not base64", officialToken, strings.Repeat("!", 43), officialCorpID, false},
		{"no corp", officialToken, officialAESKey, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := wecom.NewCrypto(tt.token, tt.aesKey, tt.corpID)
			if tt.ok {
				if err != nil || c == nil {
					t.Fatalf("NewCrypto = %v, %v; want a Crypto", c, err)
				}
				return
			}
			wantCode(t, err, bot.EINVALID)
		})
	}
}

// TestOfficialVectors checks the three vectors of reference/wecom.md §9.
func TestOfficialVectors(t *testing.T) {
	c := newCrypto(t)

	t.Run("VerifyURL", func(t *testing.T) {
		got, err := c.VerifyURL(officialEchoSig, officialEchoTS, officialEchoNonce, officialEchostr)
		if err != nil {
			t.Fatalf("VerifyURL: %v", err)
		}
		if string(got) != officialEchoReply {
			t.Fatalf("VerifyURL = %q, want %q", got, officialEchoReply)
		}
	})

	t.Run("DecryptMsg", func(t *testing.T) {
		r := wecom.Receiver{Crypto: c, AgentID: "218"} // Window 0: the vector is from 2014
		q := wecom.Query{Signature: officialPostSig, Timestamp: officialPostTS, Nonce: officialPostNonce}
		cb, err := r.Open(q, []byte(officialPostBody))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		want := bot.Inbound{
			Kind: bot.KindText, MsgType: "text", MsgID: "4561255354251345929",
			CorpID: officialCorpID, UserID: "mycreate", AgentID: "218",
			CreateTime: time.Unix(1409659813, 0).UTC(), Content: "hello",
		}
		if !equalInbound(cb.Msg, want) {
			t.Fatalf("Open msg = %+v\nwant %+v", cb.Msg, want)
		}
		if cb.DedupeKey != "msg:4561255354251345929" {
			t.Errorf("DedupeKey = %q", cb.DedupeKey)
		}
		if !strings.HasPrefix(string(cb.Plain), "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n") {
			t.Errorf("Plain = %q", cb.Plain)
		}
	})

	t.Run("EncryptMsg fixture", func(t *testing.T) {
		enc, err := c.Encrypt([]byte(fixtureRandom), []byte(fixturePlain))
		if err != nil {
			t.Fatalf("Encrypt: %v", err)
		}
		if enc != fixtureEncrypt {
			t.Fatalf("Encrypt = %s\nwant      %s", enc, fixtureEncrypt)
		}
		if sig := c.Signature(fixtureTS, fixtureNonce, enc); sig != fixtureSig {
			t.Fatalf("Signature = %s, want %s", sig, fixtureSig)
		}
		plain, err := c.Decrypt(enc)
		if err != nil || string(plain) != fixturePlain {
			t.Fatalf("Decrypt(fixture) = %q, %v", plain, err)
		}
	})

	t.Run("signatures", func(t *testing.T) {
		for _, v := range []struct{ sig, ts, nonce, data string }{
			{officialEchoSig, officialEchoTS, officialEchoNonce, officialEchostr},
			{officialPostSig, officialPostTS, officialPostNonce, officialEncrypt},
			{fixtureSig, fixtureTS, fixtureNonce, fixtureEncrypt},
		} {
			if got := c.Signature(v.ts, v.nonce, v.data); got != v.sig {
				t.Errorf("Signature(%s, %s, …) = %s, want %s", v.ts, v.nonce, got, v.sig)
			}
			if err := c.CheckSignature(strings.ToUpper(v.sig), v.ts, v.nonce, v.data); err != nil {
				t.Errorf("CheckSignature(upper-case hex): %v", err)
			}
		}
	})
}

func TestDecryptErrors(t *testing.T) {
	c := newCrypto(t)
	const msg = "hello"
	tests := []struct {
		name       string
		ciphertext string
		want       string // error code; "" means success
	}{
		{"valid hand-made", rawCBC(t, layout(msg, 5, officialCorpID, -1)), ""},
		{"pad byte 0", rawCBC(t, layout(msg, 5, officialCorpID, 0)), bot.EINVALID},
		{"pad byte 33", rawCBC(t, layout(msg, 5, officialCorpID, 33)), bot.EINVALID},
		{"pad byte 255", rawCBC(t, layout(msg, 5, officialCorpID, 255)), bot.EINVALID},
		{"msg_len 2^32-1", rawCBC(t, layout(msg, 0xFFFFFFFF, officialCorpID, -1)), bot.EINVALID},
		{"msg_len 2^31", rawCBC(t, layout(msg, 1<<31, officialCorpID, -1)), bot.EINVALID},
		{"msg_len leaves no receive id", rawCBC(t, layout(msg, uint32(len(msg)+len(officialCorpID)), officialCorpID, -1)), bot.EINVALID},
		{"wrong receive id", rawCBC(t, layout(msg, 5, "wx0000000000000000", -1)), bot.EUNAUTHORIZED},
		{"empty receive id", rawCBC(t, layout(msg, 5, "", -1)), bot.EINVALID},
		{"receive id prefix", rawCBC(t, layout(msg, 5, officialCorpID[:10], -1)), bot.EUNAUTHORIZED},
		{"not base64", "%%%not base64%%%", bot.EINVALID},
		{"base64 url alphabet", strings.NewReplacer("+", "-", "/", "_").Replace(officialEncrypt), bot.EINVALID},
		{"empty", "", bot.EINVALID},
		{"one block", base64.StdEncoding.EncodeToString(make([]byte, 16)), bot.EINVALID},
		{"48 bytes", base64.StdEncoding.EncodeToString(make([]byte, 48)), bot.EINVALID},
		{"33 bytes", base64.StdEncoding.EncodeToString(make([]byte, 33)), bot.EINVALID},
		{"truncated official", officialEncrypt[:len(officialEncrypt)-44], bot.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain, err := c.Decrypt(tt.ciphertext)
			if tt.want == "" {
				if err != nil || string(plain) != msg {
					t.Fatalf("Decrypt = %q, %v; want %q", plain, err, msg)
				}
				return
			}
			wantCode(t, err, tt.want)
		})
	}

	t.Run("other corp's ciphertext", func(t *testing.T) {
		enc, err := newCryptoFor(t, "wwOTHERCORP0000001").Encrypt(nil, []byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Decrypt(enc)
		wantCode(t, err, bot.EUNAUTHORIZED)
	})
}

func TestVerifyURL(t *testing.T) {
	c := newCrypto(t)
	tampered := []byte(officialEchostr)
	tampered[10] ^= 1
	tests := []struct {
		name                 string
		sig, ts, nonce, echo string
		want                 string
	}{
		{"official", officialEchoSig, officialEchoTS, officialEchoNonce, officialEchostr, ""},
		{"bad signature", strings.Repeat("0", 40), officialEchoTS, officialEchoNonce, officialEchostr, bot.EUNAUTHORIZED},
		{"short signature", officialEchoSig[:39], officialEchoTS, officialEchoNonce, officialEchostr, bot.EUNAUTHORIZED},
		{"empty signature", "", officialEchoTS, officialEchoNonce, officialEchostr, bot.EUNAUTHORIZED},
		{"other timestamp", officialEchoSig, "1409659590", officialEchoNonce, officialEchostr, bot.EUNAUTHORIZED},
		{"other nonce", officialEchoSig, officialEchoTS, "263014781", officialEchostr, bot.EUNAUTHORIZED},
		{"tampered echostr", officialEchoSig, officialEchoTS, officialEchoNonce, string(tampered), bot.EUNAUTHORIZED},
		{"plus decoded as space", officialEchoSig, officialEchoTS, officialEchoNonce, strings.ReplaceAll(officialEchostr, "+", " "), bot.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.VerifyURL(tt.sig, tt.ts, tt.nonce, tt.echo)
			if tt.want == "" {
				if err != nil || string(got) != officialEchoReply {
					t.Fatalf("VerifyURL = %q, %v", got, err)
				}
				return
			}
			wantCode(t, err, tt.want)
		})
	}
}

func TestEchoQuery(t *testing.T) {
	c := newCrypto(t)
	ts := time.Unix(1718000000, 0)
	for _, echo := range []string{officialEchoReply, "", "回显 echo+/=&?"} {
		v, err := c.EchoQuery(echo, ts, "")
		if err != nil {
			t.Fatalf("EchoQuery(%q): %v", echo, err)
		}
		if v.Get("timestamp") != "1718000000" || v.Get("nonce") == "" {
			t.Fatalf("EchoQuery(%q) = %v", echo, v)
		}
		// Through a real URL, as the handler will see it.
		parsed, err := urlRoundTrip(v.Encode())
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.VerifyURL(parsed.Get("msg_signature"), parsed.Get("timestamp"), parsed.Get("nonce"), parsed.Get("echostr"))
		if err != nil || string(got) != echo {
			t.Fatalf("VerifyURL(EchoQuery(%q)) = %q, %v", echo, got, err)
		}
	}
}

func TestEncryptRandomPrefix(t *testing.T) {
	c := newCrypto(t)
	if _, err := c.Encrypt([]byte("short"), []byte("x")); errCode(err) != bot.EINVALID {
		t.Fatalf("Encrypt with a 5-byte random: %v, want EINVALID", err)
	}
	a, err := c.Encrypt(nil, []byte("same"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Encrypt(nil, []byte("same"))
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two Encrypt(nil, …) calls gave the same ciphertext; the random prefix is not random")
	}
	// Every plaintext length around the 32-byte pad boundary round-trips.
	for n := range 80 {
		plain := []byte(strings.Repeat("x", n))
		enc, err := c.Encrypt(nil, plain)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decrypt(enc)
		if err != nil || string(got) != string(plain) {
			t.Fatalf("len %d: Decrypt(Encrypt) = %q, %v", n, got, err)
		}
	}
}
