package bot_test

import (
	"os"
	"strings"
	"testing"

	"gridbot/bot"
)

// The README's copy of the transition table is the table.
func TestREADMETableIsCurrent(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "<!-- transition table: generated from bot.DescribeTable -->")
	end := strings.Index(s, "<!-- end of transition table -->")
	if start < 0 || end < start {
		t.Fatal("README.md has no transition table markers")
	}
	var rows []string
	for _, l := range strings.Split(s[start:end], "\n") {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| from |") && !strings.HasPrefix(l, "| ---") {
			rows = append(rows, l)
		}
	}
	want := bot.DescribeTable()
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Fatalf("README.md's transition table is stale; it should read:\n%s", strings.Join(want, "\n"))
	}
}
