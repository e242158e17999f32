package roster

import (
	"fmt"
	"strings"

	"github.com/paulmach/orb"
)

// RawRoster is a roster as read from a file, before validation: every value
// is the text the file held, and every item remembers where it came from.
// Parse fills one from YAML and rosterxlsx.Parse from a workbook; Build turns
// either into a Roster, so both are validated by the same code.
type RawRoster struct {
	Subdistrict RawSubdistrict
	Districts   []RawDistrict
	Communities []RawCommunity
	Grids       []RawGrid
	People      []RawPerson
	Partners    []RawPartner
	Chats       []RawChat
}

// RawSubdistrict is the unvalidated Subdistrict.
type RawSubdistrict struct {
	Source
	Name, Code string
	Center     orb.Point // [lng, lat]
}

// RawDistrict is the unvalidated District.
type RawDistrict struct {
	Source
	ID, Name string
}

// RawCommunity is the unvalidated Community.
type RawCommunity struct {
	Source
	ID, Name, District string
}

// RawGrid is the unvalidated Grid. District may be left empty: it is taken
// from the community.
type RawGrid struct {
	Source
	ID, Name, District, Community string
	Geometry                      string // a GeoJSON Polygon geometry object
}

// RawPerson is the unvalidated Person. Roles are role codes (Role values);
// anything else is reported. An inspector's District may be left empty: it is
// taken from the grid.
type RawPerson struct {
	Source
	UserID, Name, Phone  string
	Roles                []string
	District, Grid, Dept string
	Communities          []string
}

// RawPartner is the unvalidated Partner. District may be left empty when
// Community is given: it is taken from the community.
type RawPartner struct {
	Source
	ID, Name, Kind, Contact, Phone, District, Community string
}

// RawChat is the unvalidated Chat.
type RawChat struct {
	Source
	ID, Name, District, Robot string
}

// Pos is a position in a roster file: a YAML line, or a row of an xlsx sheet.
type Pos struct {
	Sheet string // the xlsx sheet; "" for YAML
	Line  int    // 1-based line or row; 0 when unknown
}

// String renders p as "line 12" or "人员 row 12" ("" when unknown).
func (p Pos) String() string {
	switch {
	case p.Line <= 0 && p.Sheet == "":
		return ""
	case p.Sheet == "":
		return fmt.Sprintf("line %d", p.Line)
	case p.Line <= 0:
		return p.Sheet
	default:
		return fmt.Sprintf("%s row %d", p.Sheet, p.Line)
	}
}

// Source is where an item came from: the item's own position, and
// optionally the position of each field (YAML gives each key its line; a sheet
// row has one position for all its cells).
type Source struct {
	Pos    Pos
	Fields map[string]Pos // keyed by field name: "id", "district", "roles", …
}

// At returns the position of field, or the item's position when the field's
// own is not known.
func (s Source) At(field string) Pos {
	if p, ok := s.Fields[field]; ok {
		return p
	}
	return s.Pos
}

// Code classifies a Problem, so that a front end can word it in its own
// language (rosterxlsx does, in Chinese).
type Code string

// Problem codes.
const (
	CodeSyntax        Code = "syntax"         // the file's structure is wrong (Msg says how)
	CodeUnknownField  Code = "unknown_field"  // a key the roster does not know (Value)
	CodeRequired      Code = "required"       // Field is empty
	CodeBadID         Code = "bad_id"         // Field's Value is not a valid id / userid / chatid
	CodeDuplicate     Code = "duplicate"      // Field's Value was used before, at First
	CodeUnknownRef    Code = "unknown_ref"    // Field refers to a district, community or grid (Value) that does not exist
	CodeMismatch      Code = "mismatch"       // Field's Value belongs to district Want, not to the item's district
	CodeBadRole       Code = "bad_role"       // Value is not a Role
	CodeNoRole        Code = "no_role"        // a person without roles
	CodeNoGrid        Code = "no_grid"        // an inspector without a grid
	CodeNotInspector  Code = "not_inspector"  // a grid given for someone who is not an inspector
	CodeNoDept        Code = "no_dept"        // a guidance officer without a department
	CodeBadDept       Code = "bad_dept"       // Value is not a Dept
	CodeBadKind       Code = "bad_kind"       // Value is not a PartnerKind
	CodeNoChief       Code = "no_chief"       // district Value has no chief
	CodeExtraChat     Code = "extra_chat"     // a second chat for district Value ("" = committee), first at First
	CodeNoPolygon     Code = "no_polygon"     // a grid without geometry
	CodeBadGeoJSON    Code = "bad_geojson"    // the geometry is not a GeoJSON Polygon (Msg says why)
	CodeShortRing     Code = "short_ring"     // a ring with fewer than 4 positions
	CodeOpenRing      Code = "open_ring"      // a ring whose last position is not its first
	CodeSelfIntersect Code = "self_intersect" // a ring that crosses itself
	CodeOutOfChina    Code = "out_of_china"   // coordinates (Value, "lng,lat") outside China
	CodeBadPhone      Code = "bad_phone"      // Value is not a valid phone number for Field
	CodeEmpty         Code = "empty"          // the roster has no Field (districts, grids, people)
)

// Problem is one thing wrong with a roster file.
type Problem struct {
	Pos   Pos
	Code  Code
	Field string // the field concerned: "id", "district", "roles", "geometry", …
	Value string // the offending value, if any
	Want  string // CodeMismatch: the district the value belongs to
	First Pos    // CodeDuplicate, CodeExtraChat: where the value was first used
	Msg   string // the problem in English, without the position
}

// String renders p as "line 12: unknown district \"x\"".
func (p Problem) String() string {
	if at := p.Pos.String(); at != "" {
		return at + ": " + p.Msg
	}
	return p.Msg
}

// ValidationError lists every problem found in a roster file, in file order.
type ValidationError struct {
	Problems []Problem
}

// Error renders one problem per line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	if len(e.Problems) == 1 {
		b.WriteString("roster: ")
		b.WriteString(e.Problems[0].String())
		return b.String()
	}
	fmt.Fprintf(&b, "roster: %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(p.String())
	}
	return b.String()
}
