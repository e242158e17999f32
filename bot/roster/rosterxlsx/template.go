// Package rosterxlsx reads and writes the roster as an Excel workbook, the
// form a subdistrict office keeps it in. The template (see README.md beside
// package roster, or Template) has one sheet per kind of thing with Chinese
// headers in row 1; Parse reads it into the same RawRoster the YAML path
// fills and validates it with roster.Build, so both paths accept and reject
// the same rosters. Problems are reported all at once, by sheet and row, in
// Chinese: "人员 第12行: 角色“网格长”不认识".
package rosterxlsx

import (
	"gridbot/bot/roster"
)

// Sheet names.
const (
	SheetSubdistrict = "街道"
	SheetDistricts   = "管区"
	SheetCommunities = "社区"
	SheetGrids       = "网格"
	SheetPeople      = "人员"
	SheetPartners    = "协作单位"
	SheetChats       = "群聊"
)

// column is one column of a sheet.
type column struct {
	field    string   // the roster field (roster.Source key): "id", "district", …
	header   string   // the header written in row 1
	aliases  []string // other headers accepted on import
	required bool     // the column must be present
	width    float64  // column width when writing
}

// sheet is one sheet of the template.
type sheet struct {
	name     string
	required bool // the sheet must be present
	columns  []column
	example  []string // the template's example row
}

// sheets returns the template's sheets in workbook order.
func sheets() []sheet {
	return []sheet{
		{name: SheetSubdistrict, required: true, columns: []column{
			{field: "name", header: "名称", required: true, width: 14},
			{field: "code", header: "代码", required: true, width: 8},
			{field: "lng", header: "中心经度", aliases: []string{"经度"}, required: true, width: 12},
			{field: "lat", header: "中心纬度", aliases: []string{"纬度"}, required: true, width: 12},
		}, example: []string{"董家街道", "DJ", "117.15", "36.72"}},
		{name: SheetDistricts, required: true, columns: []column{
			{field: "id", header: "编号", aliases: []string{"id"}, required: true, width: 14},
			{field: "name", header: "名称", required: true, width: 14},
		}, example: []string{"dongcheng", "东城管区"}},
		{name: SheetCommunities, required: true, columns: []column{
			{field: "id", header: "编号", aliases: []string{"id"}, required: true, width: 14},
			{field: "name", header: "名称", required: true, width: 14},
			{field: "district", header: "管区", required: true, width: 14},
		}, example: []string{"dongsheng", "东盛社区", "dongcheng"}},
		{name: SheetGrids, required: true, columns: []column{
			{field: "id", header: "编号", aliases: []string{"id"}, required: true, width: 10},
			{field: "name", header: "名称", required: true, width: 20},
			{field: "district", header: "管区", width: 14},
			{field: "community", header: "社区", required: true, width: 14},
			{field: "geometry", header: "边界GeoJSON", aliases: []string{"GeoJSON", "边界", "边界(GeoJSON)"}, required: true, width: 60},
		}, example: []string{"dc01", "东盛社区第一网格", "dongcheng", "dongsheng",
			`{"type":"Polygon","coordinates":[[[117.1495,36.7255],[117.157,36.7239],[117.1567,36.7335],[117.1495,36.7335],[117.1495,36.7255]]]}`}},
		{name: SheetPeople, required: true, columns: []column{
			{field: "userid", header: "userid", aliases: []string{"账号", "帐号", "UserID"}, required: true, width: 14},
			{field: "name", header: "姓名", required: true, width: 10},
			{field: "phone", header: "手机", aliases: []string{"手机号", "电话"}, width: 14},
			{field: "roles", header: "角色", required: true, width: 20},
			{field: "district", header: "管区", width: 14},
			{field: "grid", header: "网格", width: 10},
			{field: "dept", header: "部门", width: 8},
			{field: "communities", header: "负责社区", width: 30},
		}, example: []string{"zhangwei", "张伟", "13853100001", "站长,网格员", "dongcheng", "dc01", "", ""}},
		{name: SheetPartners, columns: []column{
			{field: "id", header: "编号", aliases: []string{"id"}, required: true, width: 14},
			{field: "name", header: "名称", required: true, width: 28},
			{field: "kind", header: "类型", required: true, width: 8},
			{field: "contact", header: "联系人", width: 10},
			{field: "phone", header: "电话", aliases: []string{"手机", "联系电话"}, width: 16},
			{field: "district", header: "管区", width: 14},
			{field: "community", header: "社区", width: 14},
		}, example: []string{"police", "历城区公安分局董家派出所", "公安", "值班室", "0531-80000110", "", ""}},
		{name: SheetChats, columns: []column{
			{field: "id", header: "群聊ID", aliases: []string{"chatid", "群ID"}, required: true, width: 16},
			{field: "name", header: "名称", aliases: []string{"群名称"}, required: true, width: 20},
			{field: "district", header: "管区", width: 14},
			{field: "robot", header: "机器人", width: 16},
		}, example: []string{"DJdongcheng", "东城管区城管工作站", "dongcheng", "东城城管小助手"}},
	}
}

// roleLabels maps each role to its label in the 角色 column.
func roleLabels() map[roster.Role]string {
	return map[roster.Role]string{
		roster.RoleInspector:    "网格员",
		roster.RoleChief:        "站长",
		roster.RoleDeputy:       "副站长",
		roster.RoleGuidance:     "业务指导员",
		roster.RoleCommittee:    "城管委办公室",
		roster.RoleLeader:       "领导",
		roster.RoleStationStaff: "工作站",
	}
}

// roleByLabel maps what may be written in the 角色 column to a role: the
// labels, a few synonyms, and the role codes themselves.
func roleByLabel() map[string]roster.Role {
	m := map[string]roster.Role{
		"巡查员":   roster.RoleInspector,
		"城管巡查员": roster.RoleInspector,
		"指导员":   roster.RoleGuidance,
		"城管委":   roster.RoleCommittee,
		"领导小组":  roster.RoleLeader,
		"工作站人员": roster.RoleStationStaff,
		"坐班":    roster.RoleStationStaff,
	}
	for role, label := range roleLabels() {
		m[label] = role
		m[string(role)] = role
	}
	return m
}

// kindOther is how the 类型 column writes roster.KindOther.
const kindOther = "其他"
