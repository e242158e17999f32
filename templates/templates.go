// Package templates holds every word a user of gridbot sees: one
// text/template file per message, embedded, each with a typed data struct
// and a golden test. A missing or broken template fails the boot, not a user.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"
)

//go:embed *.tmpl
var files embed.FS

// Set is the parsed templates.
type Set struct {
	t *template.Template
}

// Load parses every embedded template.
func Load() (*Set, error) {
	t, err := template.New("").Option("missingkey=error").Funcs(template.FuncMap{
		"join": strings.Join,
	}).ParseFS(files, "*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	for _, name := range Names {
		if t.Lookup(name) == nil {
			return nil, fmt.Errorf("templates: %s is missing", name)
		}
	}
	return &Set{t: t}, nil
}

// MustLoad is Load for tests and startup.
func MustLoad() *Set {
	s, err := Load()
	if err != nil {
		panic(err)
	}
	return s
}

// Render executes the named template with data and trims surrounding space.
func (s *Set) Render(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := s.t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("templates: render %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// Names lists the templates Load insists on.
var Names = []string{Help}

// Template names and their data.
const (
	// Help answers any text while no other conversation applies. Data: HelpData.
	Help = "help.tmpl"
)

// HelpData is the data of Help.
type HelpData struct {
	Name string // the member's name, or "" when unknown
}
