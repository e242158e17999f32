package roster

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// China's bounding box, generously: a coordinate outside it is a typo or a
// swapped lat/lng.
const (
	minLng, maxLng = 73.4, 135.1
	minLat, maxLat = 3.8, 53.6
)

// Build validates raw and returns the Roster. When anything is wrong it
// returns a *ValidationError listing every problem, sorted by position.
func Build(raw RawRoster) (*Roster, error) {
	r, problems := build(raw)
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: sortProblems(problems)}
	}
	return r, nil
}

// sortProblems orders problems by sheet, then line (stable: problems of one
// line keep the order they were found in).
func sortProblems(ps []Problem) []Problem {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Pos.Sheet, b.Pos.Sheet), cmp.Compare(a.Pos.Line, b.Pos.Line))
	})
	return ps
}

// builder collects problems while it builds, and what it has validated so
// far for the references that follow.
type builder struct {
	problems []Problem

	districts   seen              // valid district ids
	communities map[string]string // community id → its district ("" if that is invalid)
	grids       map[string]string // grid id → its district ("" if that is invalid)
}

func (b *builder) add(p Problem) { b.problems = append(b.problems, p) }

func (b *builder) addf(pos Pos, code Code, field, value, format string, args ...any) {
	b.add(Problem{Pos: pos, Code: code, Field: field, Value: value, Msg: fmt.Sprintf(format, args...)})
}

// required reports an empty field and returns whether it is set.
func (b *builder) required(src Source, field, value, what string) bool {
	if value == "" {
		b.addf(src.At(field), CodeRequired, field, "", "%s: %s is missing", what, field)
		return false
	}
	return true
}

// seen tracks the ids of one kind to report duplicates.
type seen map[string]Pos

// unique reports a duplicate value and records the first occurrence.
func (b *builder) unique(s seen, src Source, field, value, what string) {
	if value == "" {
		return
	}
	if first, dup := s[value]; dup {
		b.add(Problem{Pos: src.At(field), Code: CodeDuplicate, Field: field, Value: value, First: first,
			Msg: fmt.Sprintf("duplicate %s %s %q (first at %s)", what, field, value, first)})
		return
	}
	s[value] = src.At(field)
}

// id checks an id against pattern and its uniqueness.
func (b *builder) id(s seen, src Source, field, value, what string, valid func(string) bool, rule string) {
	if !b.required(src, field, value, what) {
		return
	}
	if !valid(value) {
		b.addf(src.At(field), CodeBadID, field, value, "%s %s %q is not valid (%s)", what, field, value, rule)
		return
	}
	b.unique(s, src, field, value, what)
}

func (b *builder) inChina(pos Pos, field string, lng, lat float64) bool {
	if math.IsNaN(lng) || math.IsNaN(lat) || lng < minLng || lng > maxLng || lat < minLat || lat > maxLat {
		v := strconv.FormatFloat(lng, 'f', -1, 64) + "," + strconv.FormatFloat(lat, 'f', -1, 64)
		b.addf(pos, CodeOutOfChina, field, v, "coordinates [%s] are outside China (GeoJSON order is [lng, lat])", v)
		return false
	}
	return true
}

func build(raw RawRoster) (*Roster, []Problem) {
	b := &builder{districts: seen{}, communities: map[string]string{}, grids: map[string]string{}}
	r := &Roster{Subdistrict: b.subdistrict(raw.Subdistrict)}

	if len(raw.Districts) == 0 {
		b.addf(Pos{}, CodeEmpty, "districts", "", "the roster has no districts")
	}
	names := seen{}
	for _, d := range raw.Districts {
		d.ID, d.Name = strings.TrimSpace(d.ID), strings.TrimSpace(d.Name)
		b.id(b.districts, d.Source, "id", d.ID, "district", isID, "letters, digits, _ . -")
		if b.required(d.Source, "name", d.Name, "district") {
			b.unique(names, d.Source, "name", d.Name, "district")
		}
		r.Districts = append(r.Districts, District{ID: d.ID, Name: d.Name})
	}

	if len(raw.Communities) == 0 {
		b.addf(Pos{}, CodeEmpty, "communities", "", "the roster has no communities")
	}
	ids := seen{}
	for _, c := range raw.Communities {
		r.Communities = append(r.Communities, b.community(c, ids))
	}

	if len(raw.Grids) == 0 {
		b.addf(Pos{}, CodeEmpty, "grids", "", "the roster has no grids")
	}
	ids = seen{}
	for _, g := range raw.Grids {
		r.Grids = append(r.Grids, b.grid(g, ids))
	}

	if len(raw.People) == 0 {
		b.addf(Pos{}, CodeEmpty, "people", "", "the roster has no people")
	}
	ids = seen{}
	for _, p := range raw.People {
		r.People = append(r.People, b.person(p, ids))
	}

	// Every district has a chief.
	for i, d := range raw.Districts {
		id := r.Districts[i].ID
		if id != "" && !slices.ContainsFunc(r.People, func(p Person) bool { return p.District == id && p.HasRole(RoleChief) }) {
			b.addf(d.At("id"), CodeNoChief, "id", id, "district %q has no chief (站长)", id)
		}
	}

	ids = seen{}
	for _, p := range raw.Partners {
		r.Partners = append(r.Partners, b.partner(p, ids))
	}

	ids = seen{}
	owners := seen{} // district → its chat; "" → the committee chat
	for _, c := range raw.Chats {
		r.Chats = append(r.Chats, b.chat(c, ids, owners))
	}

	if len(b.problems) > 0 {
		return nil, b.problems
	}
	return r, nil
}

// subdistrict validates the subdistrict.
func (b *builder) subdistrict(sd RawSubdistrict) Subdistrict {
	sd.Name, sd.Code = strings.TrimSpace(sd.Name), strings.TrimSpace(sd.Code)
	if sd.Name == "" && sd.Code == "" && sd.Center == (orb.Point{}) {
		b.addf(sd.Pos, CodeRequired, "subdistrict", "", "the subdistrict (name, code, center) is missing")
	} else {
		b.required(sd.Source, "name", sd.Name, "subdistrict")
		if b.required(sd.Source, "code", sd.Code, "subdistrict") && !isCode(sd.Code) {
			b.addf(sd.At("code"), CodeBadID, "code", sd.Code, "subdistrict code %q is not valid (1–8 upper-case letters or digits, starting with a letter)", sd.Code)
		}
		b.inChina(sd.At("center"), "center", sd.Center[0], sd.Center[1])
	}
	return Subdistrict{Name: sd.Name, Code: sd.Code, Center: sd.Center}
}

// district checks a district reference. With no valid district at all,
// every reference would be unknown: that is reported once, as CodeEmpty or
// as the districts' own problems.
func (b *builder) district(src Source, field, id, what string) bool {
	if len(b.districts) == 0 {
		return false
	}
	if _, ok := b.districts[id]; !ok {
		b.addf(src.At(field), CodeUnknownRef, field, id, "%s: unknown district %q", what, id)
		return false
	}
	return true
}

// communityRef checks a community reference and returns the community's
// district ("" if that is itself invalid).
func (b *builder) communityRef(src Source, field, id, what string) (string, bool) {
	if len(b.communities) == 0 {
		return "", false
	}
	d, ok := b.communities[id]
	if !ok {
		b.addf(src.At(field), CodeUnknownRef, field, id, "%s: unknown community %q", what, id)
	}
	return d, ok
}

// sameDistrict reports a reference (field = value) whose district (got)
// differs from the item's (want). An invalid district ("") was reported
// already.
func (b *builder) sameDistrict(src Source, field, value, got, want, what string) {
	if got != "" && want != "" && got != want {
		b.add(Problem{Pos: src.At(field), Code: CodeMismatch, Field: field, Value: value, Want: got,
			Msg: fmt.Sprintf("%s: %s %q is in district %q, not %q", what, field, value, got, want)})
	}
}

// community validates one community.
func (b *builder) community(c RawCommunity, ids seen) Community {
	c.ID, c.Name, c.District = strings.TrimSpace(c.ID), strings.TrimSpace(c.Name), strings.TrimSpace(c.District)
	what := fmt.Sprintf("community %q", c.ID)
	b.id(ids, c.Source, "id", c.ID, "community", isID, "letters, digits, _ . -")
	b.required(c.Source, "name", c.Name, what)
	valid := b.required(c.Source, "district", c.District, what) && b.district(c.Source, "district", c.District, what)
	if _, dup := b.communities[c.ID]; !dup {
		b.communities[c.ID] = ""
		if valid {
			b.communities[c.ID] = c.District
		}
	}
	return Community{ID: c.ID, Name: c.Name, District: c.District}
}

// grid validates one grid; its district defaults to its community's.
func (b *builder) grid(g RawGrid, ids seen) Grid {
	g.ID, g.Name = strings.TrimSpace(g.ID), strings.TrimSpace(g.Name)
	g.District, g.Community = strings.TrimSpace(g.District), strings.TrimSpace(g.Community)
	what := fmt.Sprintf("grid %q", g.ID)
	b.id(ids, g.Source, "id", g.ID, "grid", isID, "letters, digits, _ . -")
	b.required(g.Source, "name", g.Name, what)
	valid := g.District == "" || b.district(g.Source, "district", g.District, what)
	if b.required(g.Source, "community", g.Community, what) {
		if cd, ok := b.communityRef(g.Source, "community", g.Community, what); ok {
			if g.District == "" {
				g.District = cd
			} else if valid {
				b.sameDistrict(g.Source, "community", g.Community, cd, g.District, what)
			}
		}
	}
	if _, dup := b.grids[g.ID]; !dup {
		b.grids[g.ID] = ""
		if valid {
			b.grids[g.ID] = g.District
		}
	}
	poly := b.polygon(g.Source, what, g.Geometry)
	return Grid{ID: g.ID, Name: g.Name, District: g.District, Community: g.Community,
		Polygon: poly, Center: interiorPoint(poly)}
}

// partner validates one partner body; its district defaults to its
// community's.
func (b *builder) partner(p RawPartner, ids seen) Partner {
	p.ID, p.Name, p.Kind = strings.TrimSpace(p.ID), strings.TrimSpace(p.Name), strings.TrimSpace(p.Kind)
	p.Contact, p.Phone = strings.TrimSpace(p.Contact), strings.TrimSpace(p.Phone)
	p.District, p.Community = strings.TrimSpace(p.District), strings.TrimSpace(p.Community)
	what := fmt.Sprintf("partner %q", p.ID)
	b.id(ids, p.Source, "id", p.ID, "partner", isID, "letters, digits, _ . -")
	b.required(p.Source, "name", p.Name, what)
	if b.required(p.Source, "kind", p.Kind, what) && !PartnerKind(p.Kind).Valid() {
		b.addf(p.At("kind"), CodeBadKind, "kind", p.Kind, "%s: unknown kind %q (one of %s)", what, p.Kind, joinKinds())
	}
	if p.Phone != "" && !isMobile(p.Phone) && !isLandline(p.Phone) {
		b.addf(p.At("phone"), CodeBadPhone, "phone", p.Phone, "%s: phone %q is neither a mobile (11 digits starting with 1), a landline (0531-88886666) nor a service number", what, p.Phone)
	}
	valid := p.District == "" || b.district(p.Source, "district", p.District, what)
	if p.Community != "" {
		if cd, ok := b.communityRef(p.Source, "community", p.Community, what); ok {
			if p.District == "" {
				p.District = cd
			} else if valid {
				b.sameDistrict(p.Source, "community", p.Community, cd, p.District, what)
			}
		}
	}
	return Partner{ID: p.ID, Name: p.Name, Kind: PartnerKind(p.Kind),
		Contact: p.Contact, Phone: p.Phone, District: p.District, Community: p.Community}
}

// chat validates one chat: at most one per district, one for the committee.
func (b *builder) chat(c RawChat, ids, owners seen) Chat {
	c.ID, c.Name = strings.TrimSpace(c.ID), strings.TrimSpace(c.Name)
	c.District, c.Robot = strings.TrimSpace(c.District), strings.TrimSpace(c.Robot)
	what := fmt.Sprintf("chat %q", c.ID)
	b.id(ids, c.Source, "id", c.ID, "chat", isChatID, "1–32 letters or digits")
	b.required(c.Source, "name", c.Name, what)
	if c.District == "" || b.district(c.Source, "district", c.District, what) {
		if first, dup := owners[c.District]; dup {
			owner := fmt.Sprintf("district %q", c.District)
			if c.District == "" {
				owner = "the committee office"
			}
			b.add(Problem{Pos: c.Pos, Code: CodeExtraChat, Field: "district", Value: c.District, First: first,
				Msg: fmt.Sprintf("%s: %s already has a chat (at %s)", what, owner, first)})
		} else {
			owners[c.District] = c.Pos
		}
	}
	return Chat{ID: c.ID, Name: c.Name, District: c.District, Robot: c.Robot}
}

// person validates one person; an inspector's district defaults to their
// grid's.
func (b *builder) person(p RawPerson, ids seen) Person {
	p.UserID, p.Name, p.Phone = strings.TrimSpace(p.UserID), strings.TrimSpace(p.Name), strings.TrimSpace(p.Phone)
	p.District, p.Grid, p.Dept = strings.TrimSpace(p.District), strings.TrimSpace(p.Grid), strings.TrimSpace(p.Dept)
	what := fmt.Sprintf("person %q", p.UserID)
	b.id(ids, p.Source, "userid", p.UserID, "person", isUserID, "1–64 letters, digits, _ - @ .")
	b.required(p.Source, "name", p.Name, what)
	if p.Phone != "" && !isMobile(p.Phone) {
		b.addf(p.At("phone"), CodeBadPhone, "phone", p.Phone, "%s: phone %q is not 11 digits starting with 1", what, p.Phone)
	}

	var roles []Role
	bad := 0
	for _, s := range p.Roles {
		role := Role(strings.TrimSpace(s))
		switch {
		case role == "":
		case !role.Valid():
			bad++
			b.addf(p.At("roles"), CodeBadRole, "roles", string(role), "%s: unknown role %q (one of %s)", what, role, joinRoles())
		case !slices.Contains(roles, role):
			roles = append(roles, role)
		}
	}
	if len(roles) == 0 && bad == 0 {
		b.addf(p.At("roles"), CodeNoRole, "roles", "", "%s has no role", what)
	}
	person := Person{UserID: p.UserID, Name: p.Name, Phone: p.Phone, Roles: roles, Grid: p.Grid, Dept: Dept(p.Dept)}

	districtOK := p.District == "" || b.district(p.Source, "district", p.District, what)
	if p.Grid != "" {
		gd, ok := b.grids[p.Grid]
		switch {
		case !ok && len(b.grids) == 0:
			// No grids at all: reported once.
		case !ok:
			b.addf(p.At("grid"), CodeUnknownRef, "grid", p.Grid, "%s: unknown grid %q", what, p.Grid)
		case !person.HasRole(RoleInspector):
			if bad > 0 {
				break // the unknown role was probably meant to be inspector: reported already
			}
			b.addf(p.At("grid"), CodeNotInspector, "grid", p.Grid, "%s has grid %q but is not an inspector", what, p.Grid)
		case p.District == "":
			p.District = gd
		case districtOK:
			b.sameDistrict(p.Source, "grid", p.Grid, gd, p.District, what)
		}
	} else if person.HasRole(RoleInspector) {
		b.addf(p.At("grid"), CodeNoGrid, "grid", "", "%s is an inspector without a grid", what)
	}
	person.District = p.District
	if p.District == "" && slices.ContainsFunc(roles, func(r Role) bool {
		return r == RoleChief || r == RoleDeputy || r == RoleStationStaff || r == RoleGuidance
	}) {
		b.addf(p.At("district"), CodeRequired, "district", "", "%s: district is missing (required for chiefs, deputies, station staff and guidance officers)", what)
	}

	if person.HasRole(RoleGuidance) && p.Dept == "" {
		b.addf(p.At("dept"), CodeNoDept, "dept", "", "%s is a guidance officer without a dept (one of %s)", what, joinDepts())
	} else if p.Dept != "" && !Dept(p.Dept).Valid() {
		b.addf(p.At("dept"), CodeBadDept, "dept", p.Dept, "%s: unknown dept %q (one of %s)", what, p.Dept, joinDepts())
	}

	for _, c := range p.Communities {
		c = strings.TrimSpace(c)
		if c == "" || slices.Contains(person.Communities, c) {
			continue
		}
		b.communityRef(p.Source, "communities", c, what)
		person.Communities = append(person.Communities, c)
	}
	return person
}

func joinRoles() string {
	var s []string
	for _, r := range Roles() {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

func joinDepts() string {
	var s []string
	for _, d := range Depts() {
		s = append(s, string(d))
	}
	return strings.Join(s, ", ")
}

func joinKinds() string {
	var s []string
	for _, k := range PartnerKinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// isID reports whether s is a valid district, community, grid or partner id:
// 1–64 ASCII letters, digits, '_', '.' or '-', starting with a letter or digit.
func isID(s string) bool {
	return len(s) >= 1 && len(s) <= 64 && isAlnum(s[0]) && allBytes(s, func(c byte) bool {
		return isAlnum(c) || c == '_' || c == '.' || c == '-'
	})
}

// isUserID is WeCom's rule for a userid: 1–64 of letters, digits, _ - @ .
func isUserID(s string) bool {
	return len(s) >= 1 && len(s) <= 64 && allBytes(s, func(c byte) bool {
		return isAlnum(c) || c == '_' || c == '-' || c == '@' || c == '.'
	})
}

// isChatID is WeCom's rule for an appchat chatid: 1–32 of [0-9A-Za-z].
func isChatID(s string) bool { return len(s) >= 1 && len(s) <= 32 && allBytes(s, isAlnum) }

// isCode reports whether s is a subdistrict code: 1–8 upper-case letters or
// digits, starting with a letter.
func isCode(s string) bool {
	return len(s) >= 1 && len(s) <= 8 && s[0] >= 'A' && s[0] <= 'Z' && allBytes(s, func(c byte) bool {
		return c >= 'A' && c <= 'Z' || isDigit(c)
	})
}

// isMobile reports whether s is a mainland mobile number: 11 digits starting with 1.
func isMobile(s string) bool { return len(s) == 11 && s[0] == '1' && allBytes(s, isDigit) }

// isLandline reports whether s is an area code and a local number
// (0531-88886666, 053188886666) or a short service number (110, 95598).
func isLandline(s string) bool {
	if area, local, ok := strings.Cut(s, "-"); ok {
		return len(area) >= 3 && len(area) <= 4 && area[0] == '0' && allBytes(area, isDigit) &&
			len(local) >= 7 && len(local) <= 8 && allBytes(local, isDigit)
	}
	if !allBytes(s, isDigit) {
		return false
	}
	return len(s) >= 3 && len(s) <= 6 || s != "" && s[0] == '0' && len(s) >= 10 && len(s) <= 12
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}
