package roster

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
)

// metresEast returns the point d metres east of p.
func metresEast(p orb.Point, d float64) orb.Point {
	return geo.PointAtBearingAndDistance(p, 90, d)
}

func TestGridAt(t *testing.T) {
	r := Demo()
	xc01, _ := r.Grid("xc01")
	xc02, _ := r.Grid("xc02")
	dc03, _ := r.Grid("dc03")
	// xc01's east edge is xc02's west edge: ring positions 1→2 of xc01.
	shared := orb.Point{(xc01.Polygon[0][1][0] + xc01.Polygon[0][2][0]) / 2, (xc01.Polygon[0][1][1] + xc01.Polygon[0][2][1]) / 2}
	eastEdge := orb.Point{dc03.Polygon[0][1][0], (dc03.Polygon[0][1][1] + dc03.Polygon[0][2][1]) / 2} // on the outer boundary

	cases := []struct {
		name string
		pt   orb.Point // [lng, lat]
		want string    // "" = none
	}{
		{"inside xc02", xc02.Center, "xc02"},
		{"near a corner inside xc01", orb.Point{xc01.Polygon[0][0][0] + 0.0002, xc01.Polygon[0][0][1] + 0.0002}, "xc01"},
		{"on the edge xc01|xc02: the first in roster order", shared, "xc01"},
		{"just east of that edge", metresEast(shared, 5), "xc02"},
		{"on the subdistrict's outer boundary", eastEdge, "dc03"},
		{"500 m outside", metresEast(eastEdge, 500), ""},
		{"Beijing", orb.Point{116.397, 39.909}, ""},
		{"lat and lng swapped", orb.Point{36.72, 117.15}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, ok := r.GridAt(tc.pt[1], tc.pt[0])
			if g.ID != tc.want || ok != (tc.want != "") {
				t.Errorf("GridAt(%v) = %q, %v; want %q", tc.pt, g.ID, ok, tc.want)
			}
		})
	}
}

func TestNearest(t *testing.T) {
	r := Demo()
	dc03, _ := r.Grid("dc03")
	eastEdge := orb.Point{dc03.Polygon[0][1][0], (dc03.Polygon[0][1][1] + dc03.Polygon[0][2][1]) / 2}

	cases := []struct {
		name   string
		pt     orb.Point
		want   string
		metres float64
	}{
		{"inside", dc03.Center, "dc03", 0},
		{"50 m outside", metresEast(eastEdge, 50), "dc03", 50},
		{"99 m outside", metresEast(eastEdge, 99), "dc03", 99},
		{"150 m outside", metresEast(eastEdge, 150), "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, d, ok := r.Nearest(tc.pt[1], tc.pt[0], NearbyMeters)
			if g.ID != tc.want || ok != (tc.want != "") {
				t.Fatalf("Nearest(%v) = %q, %.1f, %v; want %q", tc.pt, g.ID, d, ok, tc.want)
			}
			if math.Abs(d-tc.metres) > 1 {
				t.Errorf("distance = %.2f m, want %.0f", d, tc.metres)
			}
		})
	}
}

// A grid with a hole: the hole is outside it, and Nearest measures to the
// hole's edge.
func TestGridWithHole(t *testing.T) {
	doc := replace(
		"{type: Polygon, coordinates: [[[117.14, 36.71], [117.15, 36.71], [117.15, 36.72], [117.14, 36.72], [117.14, 36.71]]]}",
		"{type: Polygon, coordinates: [[[117.14, 36.71], [117.15, 36.71], [117.15, 36.72], [117.14, 36.72], [117.14, 36.71]], [[117.144, 36.714], [117.144, 36.716], [117.146, 36.716], [117.146, 36.714], [117.144, 36.714]]]}")
	r, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if g, ok := r.GridAt(36.715, 117.145); ok {
		t.Errorf("a point in the hole is in grid %s", g.ID)
	}
	g, d, ok := r.Nearest(36.715, 117.145, NearbyMeters)
	// The hole's edge is 0.001° of longitude (≈ 89 m) away.
	if !ok || g.ID != "g1" || d < 85 || d > 95 {
		t.Errorf("Nearest in the hole = %q, %.1f m, %v", g.ID, d, ok)
	}
	if g1, _ := r.Grid("g1"); !planar.PolygonContains(g1.Polygon, g1.Center) {
		t.Errorf("centre %v of a holed grid is not inside it", g1.Center)
	}
}

// A U-shaped grid's centroid falls in the notch; its Center must not.
func TestCenterOfConcaveGrid(t *testing.T) {
	u := orb.Polygon{{
		{117.140, 36.710}, {117.150, 36.710}, {117.150, 36.720}, {117.148, 36.720},
		{117.148, 36.712}, {117.142, 36.712}, {117.142, 36.720}, {117.140, 36.720}, {117.140, 36.710},
	}}
	c, _ := planar.CentroidArea(u)
	if planar.PolygonContains(u, c) {
		t.Fatalf("the test polygon's centroid %v is inside it; make it more concave", c)
	}
	if p := interiorPoint(u); !planar.PolygonContains(u, p) {
		t.Errorf("interiorPoint = %v, outside the polygon", p)
	}
}

func TestSelfIntersects(t *testing.T) {
	cases := []struct {
		name string
		ring orb.Ring
		want bool
	}{
		{"square", orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}, false},
		{"square with a repeated position", orb.Ring{{0, 0}, {1, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}, false},
		{"bowtie", orb.Ring{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}, true},
		{"spike back along an edge", orb.Ring{{0, 0}, {2, 0}, {1, 0}, {1, 1}, {0, 0}}, true},
		{"touching itself at a vertex", orb.Ring{{0, 0}, {2, 0}, {2, 2}, {1, 0}, {0, 2}, {0, 0}}, true},
		{"concave", orb.Ring{{0, 0}, {4, 0}, {4, 4}, {2, 1}, {0, 4}, {0, 0}}, false},
	}
	for _, tc := range cases {
		if got := selfIntersects(tc.ring); got != tc.want {
			t.Errorf("%s: selfIntersects = %v, want %v", tc.name, got, tc.want)
		}
	}
}
