package roster

import "slices"

// Person returns the person with the WeCom userid.
func (r *Roster) Person(userID string) (Person, bool) {
	i := slices.IndexFunc(r.People, func(p Person) bool { return p.UserID == userID })
	if i < 0 {
		return Person{}, false
	}
	return r.People[i], true
}

// HasRole reports whether the person with the userid holds role; false for
// someone not in the roster.
func (r *Roster) HasRole(userID string, role Role) bool {
	p, ok := r.Person(userID)
	return ok && p.HasRole(role)
}

// District returns the district with the id.
func (r *Roster) District(id string) (District, bool) {
	i := slices.IndexFunc(r.Districts, func(d District) bool { return d.ID == id })
	if i < 0 {
		return District{}, false
	}
	return r.Districts[i], true
}

// Community returns the community with the id.
func (r *Roster) Community(id string) (Community, bool) {
	i := slices.IndexFunc(r.Communities, func(c Community) bool { return c.ID == id })
	if i < 0 {
		return Community{}, false
	}
	return r.Communities[i], true
}

// Grid returns the grid with the id.
func (r *Roster) Grid(id string) (Grid, bool) {
	i := slices.IndexFunc(r.Grids, func(g Grid) bool { return g.ID == id })
	if i < 0 {
		return Grid{}, false
	}
	return r.Grids[i], true
}

// CommunitiesOf returns the district's communities in roster order.
func (r *Roster) CommunitiesOf(district string) []Community {
	var out []Community
	for _, c := range r.Communities {
		if c.District == district {
			out = append(out, c)
		}
	}
	return out
}

// GridsOf returns the district's grids in roster order.
func (r *Roster) GridsOf(district string) []Grid {
	var out []Grid
	for _, g := range r.Grids {
		if g.District == district {
			out = append(out, g)
		}
	}
	return out
}

// WithRole returns everyone holding role, in roster order.
func (r *Roster) WithRole(role Role) []Person {
	return r.people(func(p Person) bool { return p.HasRole(role) })
}

// Chiefs returns the district's station chiefs (站长) and then its deputies
// (副站长): the people a district's case goes to first.
func (r *Roster) Chiefs(district string) []Person {
	out := r.people(func(p Person) bool { return p.District == district && p.HasRole(RoleChief) })
	return append(out, r.people(func(p Person) bool {
		return p.District == district && p.HasRole(RoleDeputy) && !p.HasRole(RoleChief)
	})...)
}

// StationStaff returns the people at the district's station desk.
func (r *Roster) StationStaff(district string) []Person {
	return r.people(func(p Person) bool { return p.District == district && p.HasRole(RoleStationStaff) })
}

// Guidance returns the guidance officers of dept serving the district ("" =
// every dept). An officer serves their own district and the districts of the
// communities they are responsible for.
func (r *Roster) Guidance(district string, dept Dept) []Person {
	return r.people(func(p Person) bool {
		return p.HasRole(RoleGuidance) && (dept == "" || p.Dept == dept) && r.serves(p, district)
	})
}

// ServedDistricts returns the districts a person works in: their own and
// those of their responsible communities, in roster order.
func (r *Roster) ServedDistricts(p Person) []string {
	var out []string
	for _, d := range r.Districts {
		if r.serves(p, d.ID) {
			out = append(out, d.ID)
		}
	}
	return out
}

func (r *Roster) serves(p Person, district string) bool {
	if p.District == district {
		return true
	}
	for _, id := range p.Communities {
		if c, ok := r.Community(id); ok && c.District == district {
			return true
		}
	}
	return false
}

// Committee returns the committee office's staff (城管委办公室).
func (r *Roster) Committee() []Person { return r.WithRole(RoleCommittee) }

// Leaders returns the leading group (领导小组).
func (r *Roster) Leaders() []Person { return r.WithRole(RoleLeader) }

// InspectorsOf returns the inspectors who patrol the grid.
func (r *Roster) InspectorsOf(grid string) []Person {
	return r.people(func(p Person) bool { return p.Grid == grid && p.HasRole(RoleInspector) })
}

// DistrictChat returns the district's group chat.
func (r *Roster) DistrictChat(district string) (Chat, bool) {
	if district == "" {
		return Chat{}, false
	}
	return r.chat(district)
}

// CommitteeChat returns the committee office's group chat.
func (r *Roster) CommitteeChat() (Chat, bool) { return r.chat("") }

func (r *Roster) chat(district string) (Chat, bool) {
	i := slices.IndexFunc(r.Chats, func(c Chat) bool { return c.District == district })
	if i < 0 {
		return Chat{}, false
	}
	return r.Chats[i], true
}

// PartnersOf returns the partner bodies of kind ("" = every kind) serving the
// district: those of the district and those of the whole subdistrict. An
// empty district returns them all.
func (r *Roster) PartnersOf(kind PartnerKind, district string) []Partner {
	var out []Partner
	for _, p := range r.Partners {
		if (kind == "" || p.Kind == kind) && (district == "" || p.District == "" || p.District == district) {
			out = append(out, p)
		}
	}
	return out
}

func (r *Roster) people(keep func(Person) bool) []Person {
	var out []Person
	for _, p := range r.People {
		if keep(p) {
			out = append(out, p)
		}
	}
	return out
}
