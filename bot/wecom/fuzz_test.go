package wecom_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/wecom"
)

// Fuzz targets of reference/reliability.md §6. Seed corpora live in
// testdata/fuzz/<FuzzName>/ (official vectors, golden plaintexts and the
// malformed cases found so far) and run as plain tests with go test.
// Explore with: go test -run='^$' -fuzz=FuzzOpen -fuzztime=15s ./bot/wecom/

// wantBotError fails unless err is a *bot.Error with one of codes.
func wantBotError(t *testing.T, what string, err error, codes ...string) {
	t.Helper()
	got := errCode(err)
	for _, c := range codes {
		if got == c {
			return
		}
	}
	t.Fatalf("%s: error %v has code %q, want one of %q", what, err, got, codes)
}

// FuzzOpen feeds Open arbitrary query values and bodies, then seals the
// body as a plaintext and opens that: Open never panics, every failure is a
// *bot.Error, a success has a Kind, and a sealed plaintext opens exactly
// when Parse accepts it and it names this corp and agent.
func FuzzOpen(f *testing.F) {
	f.Add(officialPostSig, officialPostTS, officialPostNonce, []byte(officialPostBody))
	c := newCrypto(f)
	r := wecom.Receiver{Crypto: c, AgentID: "218"}
	now := time.Unix(1718000000, 0)

	f.Fuzz(func(t *testing.T, sig, ts, nonce string, body []byte) {
		// 1. Whatever arrives on the wire.
		cb, err := r.Open(wecom.Query{Signature: sig, Timestamp: ts, Nonce: nonce}, body)
		if err != nil {
			wantBotError(t, "Open(raw)", err, bot.EINVALID, bot.EUNAUTHORIZED)
		} else if cb.Msg.Kind == "" || cb.DedupeKey == "" {
			t.Fatalf("Open(raw) succeeded without a Kind or key: %+v", cb)
		}

		// 2. The body as a plaintext that WeCom signed and encrypted.
		q, sealed, err := c.Seal(body, "218", now, nonce)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		cb, err = r.Open(q, sealed)
		want, perr := wecom.Parse(body)
		switch {
		case perr != nil:
			wantBotError(t, "Open(sealed unparsable)", err, bot.EINVALID)
		case want.CorpID != "" && want.CorpID != officialCorpID,
			want.AgentID != "" && want.AgentID != "218":
			wantBotError(t, "Open(sealed foreign)", err, bot.EUNAUTHORIZED)
		case err != nil:
			t.Fatalf("Open(Seal(plain)) = %v; Parse accepted it as %+v", err, want)
		default:
			if !bytes.Equal(cb.Plain, body) || !equalInbound(cb.Msg, want) {
				t.Fatalf("Open(Seal(plain)) = %+v, want %+v", cb.Msg, want)
			}
			if cb.DedupeKey != wecom.DedupeKey(want, body) {
				t.Fatalf("DedupeKey %q != %q", cb.DedupeKey, wecom.DedupeKey(want, body))
			}
		}

		// 3. Any one flipped byte of the sealed ciphertext is refused.
		start := bytes.Index(sealed, []byte("<Encrypt><![CDATA[")) + len("<Encrypt><![CDATA[")
		end := bytes.Index(sealed, []byte("]]></Encrypt>"))
		if start < len("<Encrypt><![CDATA[") || end <= start {
			t.Fatalf("Seal body has no Encrypt: %q", sealed)
		}
		i := start + len(body)%(end-start)
		tampered := bytes.Clone(sealed)
		tampered[i] ^= 0x01
		if _, err := r.Open(q, tampered); err == nil {
			t.Fatalf("Open accepted a ciphertext with byte %d flipped", i-start)
		}
	})
}

// FuzzDecrypt feeds Decrypt arbitrary base64 text and arbitrary decrypted
// layouts (encrypted with raw AES-CBC, so padding and the length prefix are
// under the fuzzer's control), and checks Encrypt→Decrypt returns its input.
func FuzzDecrypt(f *testing.F) {
	f.Add(officialEncrypt, []byte("hello"))
	c := newCrypto(f)

	f.Fuzz(func(t *testing.T, ciphertext string, inner []byte) {
		// 1. Arbitrary text.
		if _, err := c.Decrypt(ciphertext); err != nil {
			wantBotError(t, "Decrypt(text)", err, bot.EINVALID, bot.EUNAUTHORIZED)
		}

		// 2. Round trip, with a random and with a fixed prefix.
		for _, random := range [][]byte{nil, []byte(fixtureRandom)} {
			enc, err := c.Encrypt(random, inner)
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			got, err := c.Decrypt(enc)
			if err != nil || !bytes.Equal(got, inner) {
				t.Fatalf("Decrypt(Encrypt(%q)) = %q, %v", inner, got, err)
			}
		}

		// 3. inner as the decrypted layout itself, zero-filled to whole
		// 32-byte blocks: random ‖ msg_len ‖ msg ‖ receiveid ‖ pad.
		if len(inner) == 0 {
			return
		}
		layout := bytes.Clone(inner)
		for len(layout)%32 != 0 {
			layout = append(layout, 0)
		}
		got, err := c.Decrypt(rawCBC(t, layout))
		if err != nil {
			wantBotError(t, "Decrypt(layout)", err, bot.EINVALID, bot.EUNAUTHORIZED)
			return
		}
		pad := int(layout[len(layout)-1])
		unpadded := layout[:len(layout)-pad]
		n := int(binary.BigEndian.Uint32(unpadded[16:20]))
		if pad < 1 || pad > 32 || len(unpadded) < 20+n ||
			!bytes.Equal(got, unpadded[20:20+n]) || string(unpadded[20+n:]) != officialCorpID {
			t.Fatalf("Decrypt accepted layout %q and returned %q", layout, got)
		}
	})
}

// FuzzParse feeds Parse arbitrary bytes: it never panics, fails only with
// EINVALID, and what it accepts has a Kind, encodes as JSON (so the inbox
// can store it), has a dedupe key and survives Parse(BuildXML(m)).
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "callbacks", "*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}

	f.Fuzz(func(t *testing.T, plain []byte) {
		m, err := wecom.Parse(plain)
		if err != nil {
			wantBotError(t, "Parse", err, bot.EINVALID)
			return
		}
		if m.Kind == "" || m.MsgType == "" || m.UserID == "" {
			t.Fatalf("Parse accepted %q without Kind, MsgType or UserID: %+v", plain, m)
		}
		if _, err := json.Marshal(m); err != nil {
			t.Fatalf("json.Marshal(Parse(%q)): %v", plain, err)
		}
		if k := wecom.DedupeKey(m, plain); !strings.HasPrefix(k, "msg:") && !strings.HasPrefix(k, "evt:") {
			t.Fatalf("DedupeKey = %q", k)
		}
		built := wecom.BuildXML(m)
		again, err := wecom.Parse(built)
		if err != nil {
			t.Fatalf("Parse(BuildXML(m)): %v\nin:  %q\nxml: %q", err, plain, built)
		}
		if !equalInbound(again, m) {
			t.Fatalf("Parse(BuildXML(m)) differs\nin:   %q\nxml:  %q\nm:    %+v\ngot:  %+v", plain, built, m, again)
		}
	})
}

// FuzzCheckSignature: CheckSignature never panics, accepts exactly the
// signature Signature computes (in either case of hex), refuses it with any
// one character changed, and the order of the three values does not
// matter (the scheme sorts them).
func FuzzCheckSignature(f *testing.F) {
	f.Add(officialPostSig, officialPostTS, officialPostNonce, officialEncrypt)
	c := newCrypto(f)

	f.Fuzz(func(t *testing.T, sig, ts, nonce, data string) {
		want := c.Signature(ts, nonce, data)
		if err := c.CheckSignature(sig, ts, nonce, data); err != nil {
			wantBotError(t, "CheckSignature", err, bot.EUNAUTHORIZED)
		} else if strings.ToLower(sig) != want {
			t.Fatalf("CheckSignature accepted %q, the signature is %q", sig, want)
		}
		if len(want) != 40 || strings.Trim(want, "0123456789abcdef") != "" {
			t.Fatalf("Signature = %q, want 40 lower-case hex digits", want)
		}
		for _, s := range []string{want, strings.ToUpper(want)} {
			if err := c.CheckSignature(s, ts, nonce, data); err != nil {
				t.Fatalf("CheckSignature(Signature()) = %v", err)
			}
		}
		i := len(sig) % 40
		wrong := []byte(want)
		wrong[i] = "1032547698badcfe"[strings.IndexByte("0123456789abcdef", wrong[i])]
		if err := c.CheckSignature(string(wrong), ts, nonce, data); err == nil {
			t.Fatalf("CheckSignature accepted %s with digit %d changed", wrong, i)
		}
		if p := c.Signature(data, ts, nonce); p != want {
			t.Fatalf("Signature depends on argument order: %s != %s", p, want)
		}
	})
}
