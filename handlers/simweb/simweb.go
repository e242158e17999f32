// Package simweb holds the simulator's page — plain HTML, CSS and
// JavaScript with no build step, served from the binary. (The scripted
// demo's captions are in templates/simdemo.tmpl.)
package simweb

import (
	"embed"
	"io/fs"
)

// embedded is the package's files; go:embed needs a package-level variable.
//
//go:embed static
var embedded embed.FS

// Static returns the page's files: index.html, sim.css and sim.js.
func Static() (fs.FS, error) {
	return fs.Sub(embedded, "static")
}
