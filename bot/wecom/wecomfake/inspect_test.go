package wecomfake_test

import (
	"bytes"
	"testing"

	"gridbot/bot/wecom/wecomfake"
)

// Seq follows the records; Media returns what AddMedia stored, as a copy.
func TestSeqAndMedia(t *testing.T) {
	f := wecomfake.New(wecomfake.Options{CorpID: corpID, CorpSecret: secret, AgentID: agentID})
	if f.Seq() != 0 {
		t.Fatalf("seq of a new fake: %d", f.Seq())
	}
	data := []byte("\x89PNG\r\n\x1a\n a photo")
	id := f.AddMedia(data, "image/png", "p.png")
	got, ctype, ok := f.Media(id)
	if !ok || ctype != "image/png" || !bytes.Equal(got, data) {
		t.Fatalf("Media = %q %q %v", got, ctype, ok)
	}
	got[0] = 0
	if again, _, _ := f.Media(id); again[0] != 0x89 {
		t.Fatal("Media shares its buffer")
	}
	if _, _, ok := f.Media("nothing"); ok {
		t.Fatal("unknown media found")
	}
}
