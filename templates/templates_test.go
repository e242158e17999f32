package templates_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gridbot/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Each template renders its typed data to exactly its golden file.
func TestGolden(t *testing.T) {
	set, err := templates.Load()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		golden string
		name   string
		data   any
	}{
		{"help_named", templates.Help, templates.HelpData{Name: "张三"}},
		{"help_anonymous", templates.Help, templates.HelpData{}},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.name] = true
		t.Run(c.golden, func(t *testing.T) {
			got, err := set.Render(c.name, c.data)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", c.golden+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./templates -update)", err)
			}
			if got != strings.TrimSuffix(string(want), "\n") {
				t.Errorf("%s renders\n%s\nwant\n%s", c.name, got, want)
			}
		})
	}
	for _, n := range templates.Names {
		if !seen[n] {
			t.Errorf("template %s has no golden case", n)
		}
	}
}

// A template given the wrong data fails loudly instead of printing "<no value>".
func TestMissingKeyFails(t *testing.T) {
	set := templates.MustLoad()
	if _, err := set.Render(templates.Help, map[string]string{}); err == nil {
		t.Fatal("rendering help with no Name field succeeded")
	}
}
