package rosterxlsx

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"gridbot/bot/roster"
)

// Problem codes of the workbook's own structure, beside roster's.
const (
	CodeMissingSheet  roster.Code = "missing_sheet"  // a required sheet is absent
	CodeMissingColumn roster.Code = "missing_column" // a required column is absent (Value: its header)
)

// Size limits for an uploaded workbook (a roster is well under 1 MB).
const (
	maxUnzipped    = 64 << 20
	maxUnzippedXML = 16 << 20
)

// Parse reads a roster workbook in the template's layout and validates it
// like roster.Parse does. Columns are found by their header in row 1 (order
// does not matter, extra columns are ignored); blank rows are skipped.
// References to a district, community or grid may be written as its id or
// its name. When anything is wrong the error is an *Error listing every
// problem by sheet and row; a missing sheet or column is reported alone,
// before the rows are looked at.
func Parse(r io.Reader) (*roster.Roster, error) {
	f, err := excelize.OpenReader(r, excelize.Options{
		RawCellValue: true, UnzipSizeLimit: maxUnzipped, UnzipXMLSizeLimit: maxUnzippedXML,
	})
	if err != nil {
		return nil, fmt.Errorf("rosterxlsx: not an xlsx workbook: %w", err)
	}
	defer f.Close()

	p := &parser{tables: map[string]*table{}}
	for _, s := range sheets() {
		if err := p.read(f, s); err != nil {
			return nil, err
		}
	}
	if len(p.problems) > 0 {
		return nil, newError(p.problems)
	}
	raw := p.raw()
	built, err := roster.Build(raw)
	var ve *roster.ValidationError
	if err != nil && !errors.As(err, &ve) {
		return nil, err
	}
	if ve != nil {
		p.problems = append(p.problems, ve.Problems...)
	}
	if len(p.problems) > 0 {
		return nil, newError(p.problems)
	}
	return built, nil
}

// table is one sheet's data rows, cells keyed by field.
type table struct {
	rows []row
}

type row struct {
	line  int
	cells map[string]string
}

// parser collects the workbook's tables and its problems.
type parser struct {
	tables   map[string]*table
	problems []roster.Problem
}

func (p *parser) add(sheet string, line int, code roster.Code, field, value, msg string) {
	p.problems = append(p.problems, roster.Problem{Pos: roster.Pos{Sheet: sheet, Line: line},
		Code: code, Field: field, Value: value, Msg: msg})
}

// read loads one sheet, reporting a missing sheet or required column.
func (p *parser) read(f *excelize.File, s sheet) error {
	if idx, err := f.GetSheetIndex(s.name); err != nil || idx < 0 {
		if s.required {
			p.add(s.name, 0, CodeMissingSheet, "", s.name, fmt.Sprintf("缺少工作表“%s”", s.name))
		}
		p.tables[s.name] = &table{}
		return nil
	}
	rows, err := f.GetRows(s.name)
	if err != nil {
		return fmt.Errorf("rosterxlsx: reading sheet %s: %w", s.name, err)
	}
	var header []string
	if len(rows) > 0 {
		header = rows[0]
	}
	index := map[string]int{}
	for _, c := range s.columns {
		for i, h := range header {
			if _, dup := index[c.field]; !dup && matches(h, c) {
				index[c.field] = i
			}
		}
		if _, ok := index[c.field]; !ok && c.required {
			p.add(s.name, 1, CodeMissingColumn, c.field, c.header, fmt.Sprintf("缺少列“%s”", c.header))
		}
	}
	t := &table{}
	for i := 1; i < len(rows); i++ {
		cells := map[string]string{}
		blank := true
		for field, col := range index {
			if col < len(rows[i]) {
				v := strings.TrimSpace(rows[i][col])
				cells[field] = v
				blank = blank && v == ""
			}
		}
		if !blank {
			t.rows = append(t.rows, row{line: i + 1, cells: cells})
		}
	}
	p.tables[s.name] = t
	return nil
}

// matches reports whether a header cell names the column.
func matches(h string, c column) bool {
	h = normalize(h)
	if h == normalize(c.header) {
		return true
	}
	for _, a := range c.aliases {
		if h == normalize(a) {
			return true
		}
	}
	return false
}

// normalize folds case, drops blanks and turns full-width parentheses into
// ASCII ones, so "边界 (GeoJSON)" and "边界（geojson）" match.
func normalize(s string) string {
	s = strings.NewReplacer("（", "(", "）", ")").Replace(s)
	return strings.ToLower(strings.Join(strings.Fields(s), ""))
}

// raw turns the tables into a RawRoster, resolving names to ids and
// Chinese labels to codes. Cells it cannot read are reported as problems.
func (p *parser) raw() roster.RawRoster {
	var raw roster.RawRoster
	src := func(sheet string, r row) roster.Source {
		return roster.Source{Pos: roster.Pos{Sheet: sheet, Line: r.line}}
	}

	// 街道: one row.
	sd := p.tables[SheetSubdistrict].rows
	switch {
	case len(sd) == 0:
		raw.Subdistrict.Pos = roster.Pos{Sheet: SheetSubdistrict, Line: 2}
	default:
		for _, extra := range sd[1:] {
			p.add(SheetSubdistrict, extra.line, roster.CodeSyntax, "", "", "街道只能填一行")
		}
		r := sd[0]
		raw.Subdistrict = roster.RawSubdistrict{Source: src(SheetSubdistrict, r),
			Name: r.cells["name"], Code: r.cells["code"]}
		for i, field := range []string{"lng", "lat"} {
			v := r.cells[field]
			x, err := strconv.ParseFloat(v, 64)
			switch {
			case v == "":
				p.add(SheetSubdistrict, r.line, roster.CodeRequired, field, "", "缺少"+header(SheetSubdistrict, field))
			case err != nil:
				p.add(SheetSubdistrict, r.line, roster.CodeSyntax, field, v, fmt.Sprintf("%s“%s”不是数字", header(SheetSubdistrict, field), v))
			}
			raw.Subdistrict.Center[i] = x
		}
	}

	// Names → ids, so that references may use either.
	districts := resolver{}
	for _, r := range p.tables[SheetDistricts].rows {
		districts.add(r.cells["id"], r.cells["name"])
		raw.Districts = append(raw.Districts, roster.RawDistrict{Source: src(SheetDistricts, r),
			ID: r.cells["id"], Name: r.cells["name"]})
	}
	communities := resolver{}
	for _, r := range p.tables[SheetCommunities].rows {
		communities.add(r.cells["id"], r.cells["name"])
		raw.Communities = append(raw.Communities, roster.RawCommunity{Source: src(SheetCommunities, r),
			ID: r.cells["id"], Name: r.cells["name"], District: districts.id(r.cells["district"])})
	}
	grids := resolver{}
	for _, r := range p.tables[SheetGrids].rows {
		grids.add(r.cells["id"], r.cells["name"])
		raw.Grids = append(raw.Grids, roster.RawGrid{Source: src(SheetGrids, r),
			ID: r.cells["id"], Name: r.cells["name"], District: districts.id(r.cells["district"]),
			Community: communities.id(r.cells["community"]), Geometry: r.cells["geometry"]})
	}

	roles := roleByLabel()
	for _, r := range p.tables[SheetPeople].rows {
		person := roster.RawPerson{Source: src(SheetPeople, r), UserID: r.cells["userid"], Name: r.cells["name"],
			Phone: r.cells["phone"], District: districts.id(r.cells["district"]),
			Grid: grids.id(r.cells["grid"]), Dept: r.cells["dept"]}
		for _, label := range roster.SplitList(r.cells["roles"]) {
			if role, ok := roles[label]; ok {
				label = string(role)
			}
			// An unknown label is passed on: roster.Build reports it.
			person.Roles = append(person.Roles, label)
		}
		for _, c := range roster.SplitList(r.cells["communities"]) {
			person.Communities = append(person.Communities, communities.id(c))
		}
		raw.People = append(raw.People, person)
	}

	for _, r := range p.tables[SheetPartners].rows {
		kind := r.cells["kind"]
		if kind == kindOther {
			kind = string(roster.KindOther)
		}
		raw.Partners = append(raw.Partners, roster.RawPartner{Source: src(SheetPartners, r),
			ID: r.cells["id"], Name: r.cells["name"], Kind: kind, Contact: r.cells["contact"],
			Phone: r.cells["phone"], District: districts.id(r.cells["district"]),
			Community: communities.id(r.cells["community"])})
	}

	for _, r := range p.tables[SheetChats].rows {
		raw.Chats = append(raw.Chats, roster.RawChat{Source: src(SheetChats, r),
			ID: r.cells["id"], Name: r.cells["name"], District: districts.id(r.cells["district"]),
			Robot: r.cells["robot"]})
	}
	return raw
}

// resolver maps names to ids for one kind of thing.
type resolver struct {
	ids   map[string]bool
	names map[string]string
}

func (r *resolver) add(id, name string) {
	if r.ids == nil {
		r.ids, r.names = map[string]bool{}, map[string]string{}
	}
	r.ids[id] = true
	if _, dup := r.names[name]; !dup && name != "" {
		r.names[name] = id
	}
}

// id returns v itself when it is an id, the id of the thing named v, or v
// unchanged (for roster.Build to report).
func (r *resolver) id(v string) string {
	if v == "" || r.ids[v] {
		return v
	}
	if id, ok := r.names[v]; ok {
		return id
	}
	return v
}

// header returns the header of a sheet's column for field.
func header(sheetName, field string) string {
	for _, s := range sheets() {
		if s.name != sheetName {
			continue
		}
		for _, c := range s.columns {
			if c.field == field {
				return c.header
			}
		}
	}
	return field
}
