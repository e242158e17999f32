package roster

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// baseYAML is a small valid roster the cases below break.
const baseYAML = `subdistrict: {name: 测试街道, code: CS, center: [117.15, 36.72]}
districts:
  - {id: d1, name: 一管区}
  - {id: d2, name: 二管区}
communities:
  - {id: c1, name: 一社区, district: d1}
  - {id: c2, name: 二社区, district: d2}
grids:
  - id: g1
    name: 一网格
    community: c1
    geometry: {type: Polygon, coordinates: [[[117.14, 36.71], [117.15, 36.71], [117.15, 36.72], [117.14, 36.72], [117.14, 36.71]]]}
  - id: g2
    name: 二网格
    district: d2
    community: c2
    geometry: '{"type":"Polygon","coordinates":[[[117.15,36.71],[117.16,36.71],[117.16,36.72],[117.15,36.72],[117.15,36.71]]]}'
people:
  - {userid: chief1, name: 站长一, phone: "13800000001", roles: [chief], district: d1}
  - {userid: chief2, name: 站长二, phone: 13800000002, roles: "chief, deputy", district: d2}
  - {userid: insp1, name: 网格员一, roles: [inspector], grid: g1}
  - {userid: guide1, name: 指导员一, roles: [guidance], dept: 环卫, district: d1, communities: [c1, c2]}
partners:
  - {id: police, name: 派出所, kind: 公安, phone: 0531-80000110}
  - {id: jwh1, name: 一社区居委会, kind: 居委会, community: c1}
chats:
  - {id: CSd1, name: 一管区, district: d1}
  - {id: CScommittee, name: 城管委}
`

func TestParseBase(t *testing.T) {
	r, err := Parse([]byte(baseYAML))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := r.Person("insp1"); p.District != "d1" {
		t.Errorf("inspector's district = %q, want d1 (from the grid)", p.District)
	}
	if p, _ := r.Person("chief2"); p.Phone != "13800000002" || !p.HasRole(RoleDeputy) {
		t.Errorf("chief2 = %+v", p)
	}
	if g, _ := r.Grid("g1"); g.District != "d1" {
		t.Errorf("grid g1's district = %q, want d1 (from the community)", g.District)
	}
	if p := r.PartnersOf(KindResidents, "d1"); len(p) != 1 || p[0].District != "d1" {
		t.Errorf("居委会 of d1 = %+v", p)
	}
}

// lineOf returns the 1-based line of the first occurrence of marker.
func lineOf(t *testing.T, doc, marker string) int {
	t.Helper()
	i := strings.Index(doc, marker)
	if i < 0 {
		t.Fatalf("marker %q not in the YAML", marker)
	}
	return strings.Count(doc[:i], "\n") + 1
}

// replace changes one occurrence of old in baseYAML, failing if it is absent.
func replace(old, new string) string {
	if !strings.Contains(baseYAML, old) {
		panic(fmt.Sprintf("%q not in baseYAML", old))
	}
	return strings.Replace(baseYAML, old, new, 1)
}

func TestParseErrors(t *testing.T) {
	type want struct {
		marker string // the problem is on the line holding this text ("": no line)
		code   Code
		text   string // in the message
	}
	bowtie := `{type: Polygon, coordinates: [[[117.14, 36.71], [117.15, 36.725], [117.15, 36.71], [117.14, 36.72], [117.14, 36.71]]]}`
	cases := []struct {
		name string
		yaml string
		want []want
	}{
		{"unknown district", replace("{id: c1, name: 一社区, district: d1}", "{id: c1, name: 一社区, district: d9}"),
			[]want{{"district: d9", CodeUnknownRef, `unknown district "d9"`}}},
		{"unknown community", replace("community: c1\n", "community: c7\n"),
			[]want{{"community: c7", CodeUnknownRef, `unknown community "c7"`}}},
		{"unknown grid", replace("grid: g1}", "grid: g5}"),
			[]want{{"grid: g5", CodeUnknownRef, `unknown grid "g5"`}}},
		{"duplicate district id", replace("{id: d2, name: 二管区}\n", "{id: d2, name: 二管区}\n  - {id: d1, name: 三管区}\n"),
			[]want{{"{id: d1, name: 三管区}", CodeDuplicate, `duplicate district id "d1" (first at line 3)`}}},
		{"duplicate userid", replace("{userid: insp1,", "{userid: chief1,"),
			[]want{{"{userid: chief1, name: 网格员一", CodeDuplicate, `duplicate person userid "chief1"`}}},
		{"bad role", replace("roles: [inspector]", "roles: [inspector, gridlord]"),
			[]want{{"gridlord", CodeBadRole, `unknown role "gridlord"`}}},
		{"no role", replace("roles: [inspector], grid: g1", "roles: [], grid: g1"),
			[]want{{"name: 网格员一", CodeNoRole, "has no role"}, {"name: 网格员一", CodeNotInspector, "not an inspector"}}},
		{"inspector without a grid", replace("roles: [inspector], grid: g1", "roles: [inspector], district: d1"),
			[]want{{"name: 网格员一", CodeNoGrid, "inspector without a grid"}}},
		{"guidance officer without a dept", replace("dept: 环卫, ", ""),
			[]want{{"name: 指导员一", CodeNoDept, "without a dept"}}},
		{"bad dept", replace("dept: 环卫", "dept: 环保"),
			[]want{{"dept: 环保", CodeBadDept, `unknown dept "环保"`}}},
		{"district without a chief", replace("roles: \"chief, deputy\"", "roles: [deputy]"),
			[]want{{"{id: d2", CodeNoChief, `district "d2" has no chief`}}},
		{"chief without a district", replace("roles: [chief], district: d1}", "roles: [chief]}"),
			[]want{{"{userid: chief1", CodeRequired, "district is missing"}, {"{id: d1", CodeNoChief, `district "d1" has no chief`}}},
		{"grid without a polygon", replace("    geometry: {type: Polygon, coordinates: [[[117.14", "    geometryx: {type: Polygon, coordinates: [[[117.14"),
			[]want{{"geometryx", CodeUnknownField, `unknown field "geometryx"`}, {"- id: g1", CodeNoPolygon, `grid "g1" has no polygon`}}},
		{"too few points", replace("[[[117.14, 36.71], [117.15, 36.71], [117.15, 36.72], [117.14, 36.72], [117.14, 36.71]]]", "[[[117.14, 36.71], [117.15, 36.71], [117.14, 36.71]]]"),
			[]want{{"geometry: {type", CodeShortRing, "needs at least 4"}}},
		{"not closed", replace("[117.14, 36.72], [117.14, 36.71]]]", "[117.14, 36.72], [117.141, 36.71]]]"),
			[]want{{"geometry: {type", CodeOpenRing, "not closed"}}},
		{"self-intersecting", replace("{type: Polygon, coordinates: [[[117.14, 36.71], [117.15, 36.71], [117.15, 36.72], [117.14, 36.72], [117.14, 36.71]]]}", bowtie),
			[]want{{"geometry: {type", CodeSelfIntersect, "crosses itself"}}},
		{"not a polygon", replace(`'{"type":"Polygon","coordinates":[[[117.15,36.71],[117.16,36.71],[117.16,36.72],[117.15,36.72],[117.15,36.71]]]}'`, `'{"type":"LineString","coordinates":[[117.15,36.71],[117.16,36.71]]}'`),
			[]want{{`geometry: '{"type":"LineString"`, CodeBadGeoJSON, "LineString, not a Polygon"}}},
		{"broken GeoJSON", replace(`'{"type":"Polygon","coordinates":[[[117.15,36.71]`, `'{"type":"Polygon","coordinates":[[[117.15,36.71`),
			[]want{{`geometry: '{"type":"Polygon"`, CodeBadGeoJSON, "not valid GeoJSON"}}},
		{"lat and lng swapped", replace("[[[117.14, 36.71], [117.15, 36.71], [117.15, 36.72], [117.14, 36.72], [117.14, 36.71]]]", "[[[36.71, 117.14], [36.71, 117.15], [36.72, 117.15], [36.72, 117.14], [36.71, 117.14]]]"),
			[]want{{"geometry: {type", CodeOutOfChina, "outside China"}}},
		{"centre outside China", replace("center: [117.15, 36.72]", "center: [36.72, 117.15]"),
			[]want{{"center: [36.72", CodeOutOfChina, "outside China"}}},
		{"phone too short", replace(`phone: "13800000001"`, `phone: "1380000001"`),
			[]want{{`phone: "1380000001"`, CodeBadPhone, "not 11 digits starting with 1"}}},
		{"phone not starting with 1", replace(`phone: "13800000001"`, `phone: "23800000001"`),
			[]want{{`phone: "23800000001"`, CodeBadPhone, "not 11 digits starting with 1"}}},
		{"bad partner kind", replace("kind: 公安", "kind: 城管"),
			[]want{{"kind: 城管", CodeBadKind, `unknown kind "城管"`}}},
		{"bad chat id", replace("{id: CSd1,", "{id: CS-d1,"),
			[]want{{"CS-d1", CodeBadID, `chat id "CS-d1" is not valid`}}},
		{"second committee chat", replace("  - {id: CScommittee, name: 城管委}\n", "  - {id: CScommittee, name: 城管委}\n  - {id: CSoffice, name: 办公室}\n"),
			[]want{{"CSoffice", CodeExtraChat, "the committee office already has a chat"}}},
		{"grid's community in another district", replace("    district: d2\n    community: c2", "    district: d1\n    community: c2"),
			[]want{{"community: c2", CodeMismatch, `community "c2" is in district "d2", not "d1"`}}},
		{"unknown top-level key", replace("chats:", "chatz:"),
			[]want{{"chatz:", CodeUnknownField, `unknown field "chatz"`}}},
		{"list expected", replace("districts:\n  - {id: d1, name: 一管区}\n  - {id: d2, name: 二管区}", "districts: d1"),
			[]want{{"districts: d1", CodeSyntax, "districts must be a list"}, {"", CodeEmpty, "the roster has no districts"}}},
		{"list for a single value", replace("{id: d2, name: 二管区}", "{id: d2, name: [二, 管区]}"),
			[]want{{"name: [二", CodeSyntax, "name must be a single value, not a list"}, {"name: [二", CodeRequired, "name is missing"}}},
		{"key given twice", replace("    name: 一网格\n", "    name: 一网格\n    name: 网格一\n"),
			[]want{{"name: 网格一", CodeSyntax, `field "name" is given twice`}}},
		{"bad subdistrict code", replace("code: CS", "code: cs"),
			[]want{{"code: cs", CodeBadID, `subdistrict code "cs" is not valid`}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			for _, w := range tc.want {
				line := 0
				if w.marker != "" {
					line = lineOf(t, tc.yaml, w.marker)
				}
				found := false
				for _, p := range ve.Problems {
					if p.Pos.Line == line && p.Code == w.code && strings.Contains(p.Msg, w.text) {
						found = true
					}
				}
				if !found {
					t.Errorf("no %s problem at line %d containing %q; got:\n%v", w.code, line, w.text, err)
				}
				if want := fmt.Sprintf("line %d: ", line); line > 0 && !strings.Contains(err.Error(), want) {
					t.Errorf("the error does not name %q:\n%v", want, err)
				}
			}
			if len(ve.Problems) != len(tc.want) {
				t.Errorf("%d problems, want %d:\n%v", len(ve.Problems), len(tc.want), err)
			}
		})
	}
}

// Several problems in one file are all reported, in line order.
func TestParseReportsAllProblems(t *testing.T) {
	doc := strings.NewReplacer(
		"{id: c2, name: 二社区, district: d2}", "{id: c2, name: 二社区, district: nowhere}",
		`phone: "13800000001"`, `phone: "12345"`,
		"roles: [inspector], grid: g1", "roles: [inspector, boss]",
		"dept: 环卫, ", "",
	).Replace(baseYAML)
	_, err := Parse([]byte(doc))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a *ValidationError", err)
	}
	want := []struct {
		marker string
		code   Code
	}{
		{"district: nowhere", CodeUnknownRef},
		{`phone: "12345"`, CodeBadPhone},
		{"boss", CodeBadRole},
		{"boss", CodeNoGrid},
		{"name: 指导员一", CodeNoDept},
	}
	if len(ve.Problems) != len(want) {
		t.Fatalf("%d problems, want %d:\n%v", len(ve.Problems), len(want), err)
	}
	for i, w := range want {
		p := ve.Problems[i]
		if line := lineOf(t, doc, w.marker); p.Pos.Line != line || p.Code != w.code {
			t.Errorf("problem %d = %s (%s), want %s at line %d", i, p, p.Code, w.code, line)
		}
	}
	if !strings.HasPrefix(err.Error(), "roster: 5 problems:\n\tline ") {
		t.Errorf("error text:\n%v", err)
	}
}

func TestParseNotYAML(t *testing.T) {
	_, err := Parse([]byte("districts:\n  - {id: d1\n  - x: [\n"))
	if err == nil || !strings.Contains(err.Error(), "line") {
		t.Fatalf("err = %v, want yaml's error with a line", err)
	}
	_, err = Parse(nil)
	var ve *ValidationError
	if !errors.As(err, &ve) || err.Error() != "roster: the roster is empty" {
		t.Errorf("empty file: err = %v", err)
	}
}

func TestBuildFromRaw(t *testing.T) {
	raw := RawRoster{
		Subdistrict: RawSubdistrict{Name: "测试街道", Code: "CS", Center: [2]float64{117.15, 36.72}},
		Districts:   []RawDistrict{{Source: Source{Pos: Pos{Sheet: "管区", Line: 2}}, ID: "d1", Name: "一管区"}},
	}
	_, err := Build(raw)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	// No grids, no people, and d1 has no chief — the last named by sheet and row.
	text := err.Error()
	for _, s := range []string{"the roster has no grids", "the roster has no people", `管区 row 2: district "d1" has no chief`} {
		if !strings.Contains(text, s) {
			t.Errorf("error lacks %q:\n%s", s, text)
		}
	}
}
