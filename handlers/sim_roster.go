package handlers

import (
	"net/http"

	"gridbot/bot/roster"

	"github.com/gin-gonic/gin"
	"github.com/paulmach/orb"
)

// simUser is one roster member as GET /sim/api/users shows them.
type simUser struct {
	UserID       string   `json:"userid"`
	Name         string   `json:"name"`
	Roles        []string `json:"roles"`
	District     string   `json:"district"`
	DistrictName string   `json:"district_name"`
	Grid         string   `json:"grid"`
	GridName     string   `json:"grid_name"`
	Dept         string   `json:"dept"`
}

// simUsers lists the roster's people in roster order.
func simUsers(r *roster.Roster) []simUser {
	out := make([]simUser, 0, len(r.People))
	for _, p := range r.People {
		u := simUser{UserID: p.UserID, Name: p.Name, Roles: make([]string, 0, len(p.Roles)), District: p.District, Grid: p.Grid, Dept: string(p.Dept)}
		for _, role := range p.Roles {
			u.Roles = append(u.Roles, string(role))
		}
		if d, ok := r.District(p.District); ok {
			u.DistrictName = d.Name
		}
		if g, ok := r.Grid(p.Grid); ok {
			u.GridName = g.Name
		}
		out = append(out, u)
	}
	return out
}

// users answers GET /sim/api/users.
func (s *Sim) users(c *gin.Context) {
	c.JSON(http.StatusOK, simUsers(s.Roster))
}

type simDistrict struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type simCommunity struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	District string `json:"district"`
}

type simGrid struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	District  string         `json:"district"`
	Community string         `json:"community"`
	Polygon   [][][2]float64 `json:"polygon"` // rings of [lng, lat]; ring 0 is the outline
	Center    [2]float64     `json:"center"`  // [lng, lat], inside the polygon
}

type simChat struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	District string `json:"district"`
	Robot    string `json:"robot"`
}

// simMap is the subdistrict as the page draws it.
type simMap struct {
	Name        string         `json:"name"`
	Center      [2]float64     `json:"center"` // [lng, lat]
	Districts   []simDistrict  `json:"districts"`
	Communities []simCommunity `json:"communities"`
	Grids       []simGrid      `json:"grids"`
	Chats       []simChat      `json:"chats"`
}

func lngLat(p orb.Point) [2]float64 { return [2]float64{p.Lon(), p.Lat()} }

// mapOf turns the roster's geography into simMap.
func mapOf(r *roster.Roster) simMap {
	m := simMap{Name: r.Subdistrict.Name, Center: lngLat(r.Subdistrict.Center),
		Districts: []simDistrict{}, Communities: []simCommunity{}, Grids: []simGrid{}, Chats: []simChat{}}
	for _, d := range r.Districts {
		m.Districts = append(m.Districts, simDistrict{ID: d.ID, Name: d.Name})
	}
	for _, c := range r.Communities {
		m.Communities = append(m.Communities, simCommunity{ID: c.ID, Name: c.Name, District: c.District})
	}
	for _, g := range r.Grids {
		sg := simGrid{ID: g.ID, Name: g.Name, District: g.District, Community: g.Community, Center: lngLat(g.Center)}
		for _, ring := range g.Polygon {
			pts := make([][2]float64, 0, len(ring))
			for _, p := range ring {
				pts = append(pts, lngLat(p))
			}
			sg.Polygon = append(sg.Polygon, pts)
		}
		m.Grids = append(m.Grids, sg)
	}
	for _, c := range r.Chats {
		m.Chats = append(m.Chats, simChat{ID: c.ID, Name: c.Name, District: c.District, Robot: c.Robot})
	}
	return m
}

// mapData answers GET /sim/api/map.
func (s *Sim) mapData(c *gin.Context) {
	c.JSON(http.StatusOK, mapOf(s.Roster))
}
