package roster

import (
	_ "embed"
	"fmt"
	"slices"
	"sync"
)

// demoYAML is the demo roster of 董家街道.
//
//go:embed demo.yaml
var demoYAML []byte

// demo parses demoYAML once.
var demo = sync.OnceValue(func() *Roster {
	r, err := Parse(demoYAML)
	if err != nil {
		panic(fmt.Sprintf("roster: the embedded demo.yaml is broken: %v", err))
	}
	return r
})

// Demo returns the embedded demo roster: 董家街道 with five districts,
// eighteen grids and everyone the plan needs, all made up. It is parsed once
// and shared, so callers must not modify it. It panics only if demo.yaml is
// broken, which the package's tests prevent.
func Demo() *Roster { return demo() }

// DemoYAML returns a copy of the demo roster's YAML source, the example of
// the format Parse reads.
func DemoYAML() []byte { return slices.Clone(demoYAML) }
