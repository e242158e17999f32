// Package simweb holds the simulator's page — plain HTML, CSS and
// JavaScript with no build step, served from the binary — and the Chinese
// captions of the scripted demo. Both are embedded.
package simweb

import (
	"embed"
	"io/fs"
	"text/template"
)

// embedded is the package's files; go:embed needs a package-level variable.
//
//go:embed static words.tmpl
var embedded embed.FS

// Static returns the page's files: index.html, sim.css and sim.js.
func Static() (fs.FS, error) {
	return fs.Sub(embedded, "static")
}

// Words parses the demo's captions (words.tmpl): one template per step,
// named as the step, executed with the step's data.
func Words() (*template.Template, error) {
	return template.New("words.tmpl").Option("missingkey=error").ParseFS(embedded, "words.tmpl")
}
