package roster

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

// NearbyMeters is how far outside every grid a location may be and still be
// given to the nearest grid: WeCom locations are often a few dozen metres
// off, and an inspector standing on the boundary road is still on patrol.
const NearbyMeters = 100

// maxRingCheck caps the quadratic self-intersection check; longer rings are
// accepted unchecked.
const maxRingCheck = 2000

// polygon parses and checks a grid's GeoJSON geometry. It returns nil when
// the geometry is missing or broken (the problems are recorded).
func (b *builder) polygon(src Source, what, text string) orb.Polygon {
	pos := src.At("geometry")
	text = strings.TrimSpace(text)
	if text == "" {
		b.addf(pos, CodeNoPolygon, "geometry", "", "%s has no polygon (a GeoJSON Polygon geometry)", what)
		return nil
	}
	g, err := geojson.UnmarshalGeometry([]byte(text))
	if err != nil {
		b.addf(pos, CodeBadGeoJSON, "geometry", "", "%s: geometry is not valid GeoJSON: %v", what, err)
		return nil
	}
	poly, ok := g.Geometry().(orb.Polygon)
	if !ok {
		b.addf(pos, CodeBadGeoJSON, "geometry", g.Type, "%s: geometry is a %s, not a Polygon", what, g.Type)
		return nil
	}
	if len(poly) == 0 {
		b.addf(pos, CodeShortRing, "geometry", "", "%s: the polygon has no rings", what)
		return nil
	}
	ok = true
	for i, ring := range poly {
		name := "the outline"
		if i > 0 {
			name = fmt.Sprintf("hole %d", i)
		}
		for _, pt := range ring {
			if !b.inChina(pos, "geometry", pt[0], pt[1]) {
				ok = false
				break
			}
		}
		switch {
		case len(ring) < 4:
			b.addf(pos, CodeShortRing, "geometry", "", "%s: %s has %d positions; a closed ring needs at least 4", what, name, len(ring))
			ok = false
		case !ring.Closed():
			b.addf(pos, CodeOpenRing, "geometry", "", "%s: %s is not closed (its last position must repeat its first)", what, name)
			ok = false
		case distinct(ring) < 3:
			b.addf(pos, CodeShortRing, "geometry", "", "%s: %s has fewer than 3 distinct positions", what, name)
			ok = false
		case selfIntersects(ring):
			b.addf(pos, CodeSelfIntersect, "geometry", "", "%s: %s crosses itself", what, name)
			ok = false
		case planar.Area(ring) == 0:
			b.addf(pos, CodeShortRing, "geometry", "", "%s: %s has no area", what, name)
			ok = false
		}
	}
	if !ok {
		return nil
	}
	return poly
}

// distinct counts the distinct positions of a closed ring.
func distinct(r orb.Ring) int {
	pts := slices.Clone(r[:len(r)-1])
	slices.SortFunc(pts, func(a, b orb.Point) int {
		if a[0] != b[0] {
			return cmpFloat(a[0], b[0])
		}
		return cmpFloat(a[1], b[1])
	})
	return len(slices.Compact(pts))
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// selfIntersects reports whether two non-adjacent edges of a closed ring
// touch or cross. Repeated consecutive positions are ignored.
func selfIntersects(r orb.Ring) bool {
	pts := make([]orb.Point, 0, len(r))
	for _, p := range r {
		if len(pts) == 0 || pts[len(pts)-1] != p {
			pts = append(pts, p)
		}
	}
	n := len(pts) - 1 // edges
	if n > maxRingCheck {
		return false
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if j == i+1 || i == 0 && j == n-1 {
				// Adjacent edges share a vertex; they only intersect
				// improperly if they fold back onto each other.
				if foldsBack(pts, i, j, n) {
					return true
				}
				continue
			}
			if segmentsIntersect(pts[i], pts[i+1], pts[j], pts[j+1]) {
				return true
			}
		}
	}
	return false
}

// foldsBack reports whether adjacent edges i and j overlap along a line
// (a spike: A→B→A').
func foldsBack(pts []orb.Point, i, j, n int) bool {
	var a, shared, c orb.Point
	if j == i+1 {
		a, shared, c = pts[i], pts[i+1], pts[j+1]
	} else { // i == 0, j == n-1: edges n-1 and 0 meet at pts[0]
		a, shared, c = pts[n-1], pts[0], pts[1]
	}
	if orient(a, shared, c) != 0 {
		return false
	}
	// Collinear: they overlap when both go the same way from the shared vertex.
	return (a[0]-shared[0])*(c[0]-shared[0])+(a[1]-shared[1])*(c[1]-shared[1]) > 0
}

// orient is the sign of the cross product (b-a)×(c-a).
func orient(a, b, c orb.Point) int {
	v := (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// onSegment reports whether c, collinear with a and b, lies within their box.
func onSegment(a, b, c orb.Point) bool {
	return math.Min(a[0], b[0]) <= c[0] && c[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= c[1] && c[1] <= math.Max(a[1], b[1])
}

// segmentsIntersect reports whether segments p1p2 and q1q2 share a point.
func segmentsIntersect(p1, p2, q1, q2 orb.Point) bool {
	o1, o2 := orient(p1, p2, q1), orient(p1, p2, q2)
	o3, o4 := orient(q1, q2, p1), orient(q1, q2, p2)
	if o1 != o2 && o3 != o4 {
		return true
	}
	return o1 == 0 && onSegment(p1, p2, q1) || o2 == 0 && onSegment(p1, p2, q2) ||
		o3 == 0 && onSegment(q1, q2, p1) || o4 == 0 && onSegment(q1, q2, p2)
}

// interiorPoint returns the polygon's centroid when it lies inside, and
// otherwise the middle of the widest inside stretch of the horizontal line
// through the centroid (a concave grid's centroid can fall outside it).
func interiorPoint(p orb.Polygon) orb.Point {
	if len(p) == 0 {
		return orb.Point{}
	}
	c, _ := planar.CentroidArea(p)
	if planar.PolygonContains(p, c) {
		return c
	}
	y := c[1]
	var xs []float64
	for _, ring := range p {
		for i := 0; i+1 < len(ring); i++ {
			a, b := ring[i], ring[i+1]
			if (a[1] <= y) != (b[1] <= y) { // half-open: each crossing counted once
				xs = append(xs, a[0]+(y-a[1])*(b[0]-a[0])/(b[1]-a[1]))
			}
		}
	}
	slices.Sort(xs)
	best, width := c, -1.0
	for i := 0; i+1 < len(xs); i += 2 {
		if w := xs[i+1] - xs[i]; w > width {
			best, width = orb.Point{(xs[i] + xs[i+1]) / 2, y}, w
		}
	}
	return best
}

// GridAt returns the grid containing the location (lat, lng) — note the
// order, which is WeCom's (Latitude, Longitude) and not GeoJSON's. The
// location must be in the roster's datum (GCJ-02, as WeCom reports). A point
// on a boundary shared by two grids belongs to the first in roster order.
func (r *Roster) GridAt(lat, lng float64) (Grid, bool) {
	pt := orb.Point{lng, lat}
	for _, g := range r.Grids {
		if len(g.Polygon) > 0 && planar.PolygonContains(g.Polygon, pt) {
			return g, true
		}
	}
	return Grid{}, false
}

// Nearest returns the grid containing (lat, lng), or else the grid whose
// boundary is nearest, if it is within maxMeters (use NearbyMeters). It also
// returns the distance in metres: 0 inside a grid.
func (r *Roster) Nearest(lat, lng, maxMeters float64) (Grid, float64, bool) {
	if g, ok := r.GridAt(lat, lng); ok {
		return g, 0, true
	}
	best, bestDist, found := Grid{}, math.Inf(1), false
	for _, g := range r.Grids {
		if len(g.Polygon) == 0 {
			continue
		}
		if d := metersToPolygon(g.Polygon, lat, lng); d <= maxMeters && d < bestDist {
			best, bestDist, found = g, d, true
		}
	}
	if !found {
		return Grid{}, 0, false
	}
	return best, bestDist, true
}

// metersToPolygon is the distance in metres from (lat, lng) to the nearest
// edge of p, on a local equirectangular projection centred on the point
// (exact enough over the few hundred metres that matter here).
func metersToPolygon(p orb.Polygon, lat, lng float64) float64 {
	const degToRad = math.Pi / 180
	kx := orb.EarthRadius * degToRad * math.Cos(lat*degToRad)
	ky := orb.EarthRadius * degToRad
	proj := make(orb.Polygon, len(p))
	for i, ring := range p {
		pr := make(orb.Ring, len(ring))
		for j, pt := range ring {
			pr[j] = orb.Point{(pt[0] - lng) * kx, (pt[1] - lat) * ky}
		}
		proj[i] = pr
	}
	return planar.DistanceFrom(proj, orb.Point{})
}
