package roster

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
)

func TestDemoParses(t *testing.T) {
	r, err := Parse(DemoYAML())
	if err != nil {
		t.Fatalf("demo.yaml: %v", err)
	}
	if Demo() != Demo() {
		t.Error("Demo is not parsed once")
	}
	if r.Subdistrict.Name != "董家街道" || r.Subdistrict.Code != "DJ" {
		t.Errorf("subdistrict = %+v", r.Subdistrict)
	}
	if c := r.Subdistrict.Center; math.Abs(c[0]-117.15) > 0.01 || math.Abs(c[1]-36.72) > 0.01 {
		t.Errorf("centre = %v, want near [117.15, 36.72]", c)
	}
	if n := len(r.Districts); n != 5 {
		t.Errorf("%d districts, want 5", n)
	}
	if n := len(r.Grids); n < 15 || n > 20 {
		t.Errorf("%d grids, want 15–20", n)
	}
	// The subdistrict's centre lies in one of its grids.
	if _, ok := r.GridAt(r.Subdistrict.Center[1], r.Subdistrict.Center[0]); !ok {
		t.Error("the subdistrict's centre is in no grid")
	}
}

func TestDemoGridCentres(t *testing.T) {
	r := Demo()
	for _, g := range r.Grids {
		if !planar.PolygonContains(g.Polygon, g.Center) {
			t.Errorf("grid %s: centre %v is outside its polygon", g.ID, g.Center)
		}
		got, ok := r.GridAt(g.Center[1], g.Center[0])
		if !ok || got.ID != g.ID {
			t.Errorf("GridAt(centre of %s) = %q, %v", g.ID, got.ID, ok)
		}
	}
}

// The demo's grids tile their bounding box: every sample point lies in
// exactly one grid (no overlaps, no gaps), and the box is about 4 km × 3 km.
func TestDemoGridsTile(t *testing.T) {
	r := Demo()
	var box orb.Bound
	for i, g := range r.Grids {
		if i == 0 {
			box = g.Polygon.Bound()
		} else {
			box = box.Union(g.Polygon.Bound())
		}
	}
	w := geo.Distance(orb.Point{box.Min[0], box.Min[1]}, orb.Point{box.Max[0], box.Min[1]})
	h := geo.Distance(orb.Point{box.Min[0], box.Min[1]}, orb.Point{box.Min[0], box.Max[1]})
	if w < 3500 || w > 4500 || h < 2500 || h > 3500 {
		t.Errorf("the grids cover %.0f m × %.0f m, want about 4000 × 3000", w, h)
	}

	// A 97 × 73 lattice, offset so that no sample falls on a shared edge.
	const nx, ny = 97, 73
	samples := 0
	for i := range nx {
		for j := range ny {
			pt := orb.Point{
				box.Min[0] + (float64(i)+0.37)/nx*(box.Max[0]-box.Min[0]),
				box.Min[1] + (float64(j)+0.61)/ny*(box.Max[1]-box.Min[1]),
			}
			var in []string
			for _, g := range r.Grids {
				if planar.PolygonContains(g.Polygon, pt) {
					in = append(in, g.ID)
				}
			}
			if len(in) != 1 {
				t.Errorf("point %v is in grids %v, want exactly one", pt, in)
			}
			samples++
		}
	}
	if samples != nx*ny {
		t.Fatalf("sampled %d points", samples)
	}
}

func TestDemoDistricts(t *testing.T) {
	r := Demo()
	for _, d := range r.Districts {
		chiefs := r.Chiefs(d.ID)
		if len(chiefs) < 2 || !chiefs[0].HasRole(RoleChief) || !chiefs[len(chiefs)-1].HasRole(RoleDeputy) {
			t.Errorf("%s: Chiefs = %v, want a chief then a deputy", d.ID, userIDs(chiefs))
		}
		if len(r.StationStaff(d.ID)) == 0 {
			t.Errorf("%s: no station staff", d.ID)
		}
		for _, dept := range Depts() {
			if len(r.Guidance(d.ID, dept)) == 0 {
				t.Errorf("%s: no %s guidance officer", d.ID, dept)
			}
		}
		if n := len(r.CommunitiesOf(d.ID)); n < 2 || n > 3 {
			t.Errorf("%s: %d communities, want 2–3", d.ID, n)
		}
		grids := r.GridsOf(d.ID)
		if n := len(grids); n < 3 || n > 4 {
			t.Errorf("%s: %d grids, want 3–4", d.ID, n)
		}
		for _, g := range grids {
			if ins := r.InspectorsOf(g.ID); len(ins) != 1 || ins[0].District != d.ID {
				t.Errorf("grid %s: inspectors %v, want one of district %s", g.ID, userIDs(ins), d.ID)
			}
		}
		chat, ok := r.DistrictChat(d.ID)
		if !ok || !isChatID(chat.ID) || chat.Robot == "" {
			t.Errorf("%s: chat %+v, %v", d.ID, chat, ok)
		}
	}
	if chat, ok := r.CommitteeChat(); !ok || !isChatID(chat.ID) || chat.Robot == "" {
		t.Errorf("committee chat %+v, %v", chat, ok)
	}
	if n := len(r.Committee()); n != 2 {
		t.Errorf("%d committee-office staff, want 2", n)
	}
	if n := len(r.Leaders()); n < 1 || n > 2 {
		t.Errorf("%d leaders, want 1–2", n)
	}
	// Some guidance officers serve two districts.
	two := 0
	for _, p := range r.WithRole(RoleGuidance) {
		if len(r.ServedDistricts(p)) == 2 {
			two++
		}
	}
	if two == 0 {
		t.Error("no guidance officer serves two districts")
	}
	// Partners: police, traffic police, a 居委会 per community, 2–3 物业.
	if len(r.PartnersOf(KindPolice, "")) == 0 || len(r.PartnersOf(KindTraffic, "")) == 0 {
		t.Error("no police or traffic police")
	}
	for _, c := range r.Communities {
		found := false
		for _, p := range r.PartnersOf(KindResidents, c.District) {
			found = found || p.Community == c.ID
		}
		if !found {
			t.Errorf("community %s has no 居委会", c.ID)
		}
	}
	if n := len(r.PartnersOf(KindProperty, "")); n < 2 || n > 3 {
		t.Errorf("%d 物业, want 2–3", n)
	}
	for _, p := range r.People {
		if !isMobile(p.Phone) {
			t.Errorf("%s: phone %q", p.UserID, p.Phone)
		}
	}
}

func userIDs(ps []Person) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.UserID)
	}
	return out
}
