package roster

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Parse reads a roster from YAML (demo.yaml is the example) and validates
// it. Problems are all reported at once, each with its line, in a
// *ValidationError; a file that is not YAML at all gives yaml's own error.
//
// The shape:
//
//	subdistrict: {name: 董家街道, code: DJ, center: [117.15, 36.72]}
//	districts:   [{id, name}]
//	communities: [{id, name, district}]
//	grids:       [{id, name, district, community, geometry}]   # geometry: GeoJSON Polygon, object or string
//	people:      [{userid, name, phone, roles, district, grid, dept, communities}]
//	partners:    [{id, name, kind, contact, phone, district, community}]
//	chats:       [{id, name, district, robot}]
//
// roles and communities are lists or comma-separated strings.
func Parse(yamlBytes []byte) (*Roster, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(yamlBytes, &doc); err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, &ValidationError{Problems: []Problem{{Code: CodeEmpty, Field: "roster", Msg: "the roster is empty"}}}
	}
	y := &yamlReader{}
	raw := y.roster(doc.Content[0])
	r, problems := build(raw)
	if all := append(y.problems, problems...); len(all) > 0 {
		return nil, &ValidationError{Problems: sortProblems(all)}
	}
	return r, nil
}

// yamlReader turns the YAML node tree into a RawRoster, recording
// structural problems (unknown keys, a list where a string should be).
type yamlReader struct {
	problems []Problem
}

func (y *yamlReader) addf(line int, code Code, field, value, format string, args ...any) {
	y.problems = append(y.problems, Problem{Pos: Pos{Line: line}, Code: code, Field: field, Value: value,
		Msg: fmt.Sprintf(format, args...)})
}

// roster reads the document's root node.
func (y *yamlReader) roster(root *yaml.Node) RawRoster {
	var raw RawRoster
	fields, _ := y.mapping(root, "the roster", "subdistrict", "districts", "communities", "grids", "people", "partners", "chats")
	if n := fields["subdistrict"]; n != nil {
		f, src := y.mapping(n, "subdistrict", "name", "code", "center")
		raw.Subdistrict = RawSubdistrict{Source: src, Name: y.get(f, "name"), Code: y.get(f, "code")}
		if c := f["center"]; c != nil {
			raw.Subdistrict.Center = y.point(c)
		}
	}
	for _, n := range y.list(fields["districts"], "districts") {
		f, src := y.mapping(n, "a district", "id", "name")
		raw.Districts = append(raw.Districts, RawDistrict{Source: src, ID: y.get(f, "id"), Name: y.get(f, "name")})
	}
	for _, n := range y.list(fields["communities"], "communities") {
		f, src := y.mapping(n, "a community", "id", "name", "district")
		raw.Communities = append(raw.Communities, RawCommunity{Source: src,
			ID: y.get(f, "id"), Name: y.get(f, "name"), District: y.get(f, "district")})
	}
	for _, n := range y.list(fields["grids"], "grids") {
		f, src := y.mapping(n, "a grid", "id", "name", "district", "community", "geometry")
		raw.Grids = append(raw.Grids, RawGrid{Source: src, ID: y.get(f, "id"), Name: y.get(f, "name"),
			District: y.get(f, "district"), Community: y.get(f, "community"), Geometry: y.geometry(f["geometry"])})
	}
	for _, n := range y.list(fields["people"], "people") {
		f, src := y.mapping(n, "a person", "userid", "name", "phone", "roles", "district", "grid", "dept", "communities")
		raw.People = append(raw.People, RawPerson{Source: src, UserID: y.get(f, "userid"), Name: y.get(f, "name"),
			Phone: y.get(f, "phone"), Roles: y.strs(f, "roles"), District: y.get(f, "district"),
			Grid: y.get(f, "grid"), Dept: y.get(f, "dept"), Communities: y.strs(f, "communities")})
	}
	for _, n := range y.list(fields["partners"], "partners") {
		f, src := y.mapping(n, "a partner", "id", "name", "kind", "contact", "phone", "district", "community")
		raw.Partners = append(raw.Partners, RawPartner{Source: src, ID: y.get(f, "id"), Name: y.get(f, "name"),
			Kind: y.get(f, "kind"), Contact: y.get(f, "contact"), Phone: y.get(f, "phone"),
			District: y.get(f, "district"), Community: y.get(f, "community")})
	}
	for _, n := range y.list(fields["chats"], "chats") {
		f, src := y.mapping(n, "a chat", "id", "name", "district", "robot")
		raw.Chats = append(raw.Chats, RawChat{Source: src, ID: y.get(f, "id"), Name: y.get(f, "name"),
			District: y.get(f, "district"), Robot: y.get(f, "robot")})
	}
	return raw
}

// mapping returns the values of a mapping node by key, with each key's line,
// reporting keys outside known and repeated keys.
func (y *yamlReader) mapping(n *yaml.Node, what string, known ...string) (map[string]*yaml.Node, Source) {
	n = resolve(n)
	src := Source{Pos: Pos{Line: n.Line}, Fields: map[string]Pos{}}
	out := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		y.addf(n.Line, CodeSyntax, "", "", "%s must be a mapping (key: value), not %s", what, kindName(n))
		return out, src
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		switch {
		case !slices.Contains(known, key):
			y.addf(k.Line, CodeUnknownField, key, key, "%s: unknown field %q (known: %s)", what, key, strings.Join(known, ", "))
		case out[key] != nil:
			y.addf(k.Line, CodeSyntax, key, key, "%s: field %q is given twice", what, key)
		default:
			out[key] = v
			src.Fields[key] = Pos{Line: k.Line}
		}
	}
	return out, src
}

// list returns the items of a sequence node (nil for a missing section).
func (y *yamlReader) list(n *yaml.Node, what string) []*yaml.Node {
	if n == nil {
		return nil
	}
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		y.addf(n.Line, CodeSyntax, what, "", "%s must be a list, not %s", what, kindName(n))
		return nil
	}
	return n.Content
}

// get returns the text of field key ("" when missing).
func (y *yamlReader) get(f map[string]*yaml.Node, key string) string { return y.str(f[key], key) }

// str returns a scalar's text ("" for a missing or null value).
func (y *yamlReader) str(n *yaml.Node, key string) string {
	if n == nil {
		return ""
	}
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		y.addf(n.Line, CodeSyntax, key, "", "%s must be a single value, not %s", key, kindName(n))
		return ""
	}
	if n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// strs returns field key as a list: a YAML list of values, or one value
// split by SplitList.
func (y *yamlReader) strs(f map[string]*yaml.Node, key string) []string {
	n := f[key]
	if n == nil {
		return nil
	}
	n = resolve(n)
	if n.Kind == yaml.SequenceNode {
		var out []string
		for _, c := range n.Content {
			out = append(out, y.str(c, key))
		}
		return out
	}
	return SplitList(y.str(n, key))
}

// point reads [lng, lat].
func (y *yamlReader) point(n *yaml.Node) [2]float64 {
	n = resolve(n)
	var p [2]float64
	if n.Kind != yaml.SequenceNode || len(n.Content) != 2 {
		y.addf(n.Line, CodeSyntax, "center", "", "center must be [lng, lat]")
		return p
	}
	for i, c := range n.Content {
		v, err := strconv.ParseFloat(y.str(c, "center"), 64)
		if err != nil {
			y.addf(c.Line, CodeSyntax, "center", c.Value, "center: %q is not a number", c.Value)
		}
		p[i] = v
	}
	return p
}

// geometry returns a GeoJSON geometry as JSON text: a YAML mapping (which a
// JSON object also is) is re-encoded; a string is taken as JSON text.
func (y *yamlReader) geometry(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	n = resolve(n)
	if n.Kind == yaml.ScalarNode {
		return y.str(n, "geometry")
	}
	var v any
	if err := n.Decode(&v); err != nil {
		y.addf(n.Line, CodeBadGeoJSON, "geometry", "", "geometry: %v", err)
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		y.addf(n.Line, CodeBadGeoJSON, "geometry", "", "geometry: %v", err)
		return ""
	}
	return string(b)
}

// resolve follows an alias to its anchor.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

// SplitList splits a list written in one cell or string: items separated by
// commas (ASCII or Chinese), 、, semicolons or whitespace. Empty items are
// dropped.
func SplitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool {
		switch r {
		case ',', '，', '、', ';', '；', '/', ' ', '\t', '\n', '\r', '\u3000':
			return true
		}
		return false
	})
	if len(f) == 0 {
		return nil
	}
	return f
}
