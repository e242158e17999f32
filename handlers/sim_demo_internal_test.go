package handlers

import (
	"strings"
	"testing"

	"gridbot/templates"
)

// Every caption the demo uses exists and renders with the story's data.
func TestDemoWords(t *testing.T) {
	words, err := templates.Load()
	if err != nil {
		t.Fatal(err)
	}
	p := &demoPlay{words: words, data: demoWords{Inspector: "朱强", Grid: "东盛社区第一网格", District: "东城管区", Chief: "张伟",
		Officer: "蒋涛", Dept: "环卫", Text: "跳过", Button: "接单", CaseNo: "DJ-20261201-001", Who: "朱强", What: "回复", Seconds: 30}}
	for _, name := range []string{"report_text", "place", "skip", "photo", "location", "text", "pick", "new", "confirm", "chief",
		"accept", "handled", "after_photo", "verify", "close", "done", "timeout", "what_reply", "what_draft", "what_chief",
		"what_officer", "what_handling", "what_verify", "what_case", "what_closed", "no_cast", "stopped", "officers"} {
		got := p.word(name)
		if got == name || strings.TrimSpace(got) == "" || strings.Contains(got, "<no value>") {
			t.Errorf("%s renders %q", name, got)
		}
	}
	if got := p.word("chief"); got != "东城管区站长张伟收到先期处置卡片（DJ-20261201-001），点“接单”" {
		t.Errorf("chief: %q", got)
	}
}

// The demo's photos are PNGs the bot accepts, and before and after differ.
func TestDemoPhoto(t *testing.T) {
	a, b := demoPhoto(false), demoPhoto(true)
	if a == b || len(a) < 100 || !strings.HasPrefix(a, "iVBORw0KGgo") {
		t.Fatalf("photos: %d and %d bytes of base64", len(a), len(b))
	}
}
