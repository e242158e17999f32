// Package roster is the subdistrict's organisation as gridbot sees it: the
// 管区 (districts) with their 城管工作站, the 社区 (communities), the 网格
// (grids) with their boundaries, the people and their roles in the
// "城市管理进社区" plan, the partner bodies (公安, 交警, 居委会, 物业 …) and the
// WeCom group chats.
//
// A Roster is built from YAML (Parse) or from the xlsx template (package
// rosterxlsx); both go through Build, so both are validated the same way and
// every problem is reported at once with its position (YAML line, or sheet and
// row).
//
// Coordinates are [lng, lat] in GeoJSON order. gridbot compares them with the
// locations WeCom reports, which are GCJ-02 (the "Mars" datum of Chinese
// maps); the polygons must therefore be GCJ-02 too, as the demo roster is. A
// WGS-84 polygon would be off by a few hundred metres.
//
// A Roster is a plain value: lookups scan its slices (a subdistrict has a
// few hundred people and a few dozen grids), there is no hidden index, and it
// must not be modified once shared.
package roster

import (
	"slices"

	"github.com/paulmach/orb"
)

// Role is what a person does in the plan. A person may hold several roles.
type Role string

// The roles of the plan.
const (
	RoleInspector    Role = "inspector"     // 网格员 / 管区城市管理巡查员: patrols one grid, reports, verifies
	RoleChief        Role = "chief"         // 城管工作站站长 (管区书记): owns the district's cases
	RoleDeputy       Role = "deputy"        // 副站长: runs the station day to day
	RoleGuidance     Role = "guidance"      // 城管业务指导员: one department, one or more districts
	RoleCommittee    Role = "committee"     // 街道城管委办公室: takes what a district cannot solve
	RoleLeader       Role = "leader"        // 领导小组: reads digests and the assessment
	RoleStationStaff Role = "station_staff" // 工作站坐班人员: files residents' complaints at the desk
)

// Roles returns every role, in the order above.
func Roles() []Role {
	return []Role{RoleInspector, RoleChief, RoleDeputy, RoleGuidance, RoleCommittee, RoleLeader, RoleStationStaff}
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Dept is a guidance officer's department. The values are the plan's own
// short names, used as codes in the roster files.
type Dept string

// The four departments that send guidance officers to each district.
const (
	DeptSanitation   Dept = "环卫" // sanitation (城管环卫)
	DeptConstruction Dept = "住建" // housing and construction (住房和城乡建设)
	DeptLandscape    Dept = "园林" // landscaping and greening (园林和林业绿化)
	DeptEnforcement  Dept = "执法" // enforcement (综合执法)
)

// Depts returns the four departments.
func Depts() []Dept { return []Dept{DeptSanitation, DeptConstruction, DeptLandscape, DeptEnforcement} }

// Valid reports whether d is one of Depts.
func (d Dept) Valid() bool { return slices.Contains(Depts(), d) }

// PartnerKind classifies a partner body.
type PartnerKind string

// Partner kinds. The values are codes used in the roster files.
const (
	KindPolice    PartnerKind = "公安"  // police station (派出所)
	KindTraffic   PartnerKind = "交警"  // traffic police squadron (交警中队)
	KindResidents PartnerKind = "居委会" // community residents' committee
	KindProperty  PartnerKind = "物业"  // property management company
	KindPower     PartnerKind = "供电"  // power supply
	KindGas       PartnerKind = "燃气"  // gas
	KindWater     PartnerKind = "自来水" // water supply
	KindOther     PartnerKind = "other"
)

// PartnerKinds returns every partner kind.
func PartnerKinds() []PartnerKind {
	return []PartnerKind{KindPolice, KindTraffic, KindResidents, KindProperty, KindPower, KindGas, KindWater, KindOther}
}

// Valid reports whether k is one of PartnerKinds.
func (k PartnerKind) Valid() bool { return slices.Contains(PartnerKinds(), k) }

// Roster is a subdistrict's organisation. Build it with Parse, Build or
// rosterxlsx.Parse; Demo returns the embedded demo.
type Roster struct {
	Subdistrict Subdistrict
	Districts   []District
	Communities []Community
	Grids       []Grid
	People      []Person
	Partners    []Partner
	Chats       []Chat
}

// Subdistrict is the 街道 the roster belongs to.
type Subdistrict struct {
	Name   string    // e.g. 董家街道
	Code   string    // short upper-case code used in case numbers: DJ-20261201-007
	Center orb.Point // [lng, lat], GCJ-02: where maps open
}

// District is a 管区 with its 城管工作站. Its chief and deputies are the
// people holding those roles in it (Roster.Chiefs).
type District struct {
	ID   string
	Name string // e.g. 东城管区
}

// Community is a 社区 inside one district.
type Community struct {
	ID       string
	Name     string
	District string // District.ID
}

// Grid is a 网格: the patch one inspector patrols.
type Grid struct {
	ID        string
	Name      string
	District  string      // District.ID
	Community string      // Community.ID
	Polygon   orb.Polygon // [lng, lat] rings, GCJ-02; ring 0 is the outline, the rest are holes
	Center    orb.Point   // a point inside Polygon (its centroid when that is inside)
}

// Person is a member of the WeCom corp with one or more roles.
type Person struct {
	UserID string // WeCom userid
	Name   string
	Phone  string // 11-digit mobile number, or ""
	Roles  []Role
	// District is the person's district: required for inspectors, chiefs,
	// deputies, station staff and guidance officers (their home district).
	District string
	// Grid is the grid an inspector patrols.
	Grid string
	// Dept is a guidance officer's department.
	Dept Dept
	// Communities are the communities a guidance officer is responsible for.
	// An officer serves their District and every district of these
	// communities, so one officer may serve two districts.
	Communities []string
}

// HasRole reports whether p holds role.
func (p Person) HasRole(role Role) bool { return slices.Contains(p.Roles, role) }

// Partner is a body the plan works with (N in "1+4+N"), kept as a contact.
type Partner struct {
	ID        string
	Name      string // e.g. 历城区公安分局董家派出所
	Kind      PartnerKind
	Contact   string // a person or a desk (值班室)
	Phone     string // mobile, landline (0531-xxxxxxxx) or service number (95598)
	District  string // the district served; "" = the whole subdistrict
	Community string // for a 居委会: its community; "" otherwise
}

// Chat is a WeCom group chat the bot posts digests to.
type Chat struct {
	ID       string // WeCom chatid: 1–32 characters of [0-9A-Za-z]
	Name     string
	District string // the district's chat; "" = the committee office's chat
	Robot    string // the group robot's name, if the chat has one
}
