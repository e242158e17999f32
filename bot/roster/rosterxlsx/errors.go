package rosterxlsx

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"gridbot/bot/roster"
)

// Error lists every problem found in a workbook, by sheet (in template
// order) and row. Its text is for the office that keeps the roster, so it is
// in Chinese; the Problems carry roster's codes for programs.
type Error struct {
	Problems []roster.Problem
}

// Error renders one problem per line: "人员 第12行: 角色“网格长”不认识".
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = Describe(p)
	}
	if len(lines) == 1 {
		return "rosterxlsx: " + lines[0]
	}
	return fmt.Sprintf("rosterxlsx: %d problems:\n\t%s", len(lines), strings.Join(lines, "\n\t"))
}

// newError sorts problems into workbook order.
func newError(ps []roster.Problem) *Error {
	order := map[string]int{}
	for i, s := range sheets() {
		order[s.name] = i + 1
	}
	slices.SortStableFunc(ps, func(a, b roster.Problem) int {
		return cmp.Or(cmp.Compare(order[a.Pos.Sheet], order[b.Pos.Sheet]), cmp.Compare(a.Pos.Line, b.Pos.Line))
	})
	return &Error{Problems: ps}
}

// Describe words a problem in Chinese with its sheet and row.
func Describe(p roster.Problem) string {
	msg := describe(p)
	switch {
	case p.Code == CodeMissingSheet || p.Pos.Sheet == "":
		return msg
	case p.Pos.Line <= 0:
		return p.Pos.Sheet + ": " + msg
	}
	return fmt.Sprintf("%s 第%d行: %s", p.Pos.Sheet, p.Pos.Line, msg)
}

// describe words a problem in Chinese, without its position.
func describe(p roster.Problem) string {
	label := fieldLabel(p.Pos.Sheet, p.Field)
	switch p.Code {
	case CodeMissingSheet:
		return fmt.Sprintf("缺少工作表“%s”", p.Value)
	case CodeMissingColumn:
		return fmt.Sprintf("缺少列“%s”", p.Value)
	case roster.CodeRequired:
		return "缺少" + label
	case roster.CodeEmpty:
		return "没有" + label
	case roster.CodeBadID:
		return fmt.Sprintf("%s“%s”格式不对（%s）", label, p.Value, idRule(p.Pos.Sheet, p.Field))
	case roster.CodeDuplicate:
		return fmt.Sprintf("%s“%s”重复（%s已有）", label, p.Value, where(p.First, p.Pos.Sheet))
	case roster.CodeUnknownRef:
		return fmt.Sprintf("%s“%s”不存在", refLabel(p.Field), p.Value)
	case roster.CodeMismatch:
		return fmt.Sprintf("%s“%s”属于管区“%s”，与所填管区不符", refLabel(p.Field), p.Value, p.Want)
	case roster.CodeBadRole:
		return fmt.Sprintf("角色“%s”不认识（可填：%s）", p.Value, strings.Join(roleList(), "、"))
	case roster.CodeNoRole:
		return "没有填角色"
	case roster.CodeNoGrid:
		return "网格员没有填网格"
	case roster.CodeNotInspector:
		return fmt.Sprintf("填了网格“%s”，但角色里没有网格员", p.Value)
	case roster.CodeNoDept:
		return "业务指导员没有填部门（可填：环卫、住建、园林、执法）"
	case roster.CodeBadDept:
		return fmt.Sprintf("部门“%s”不认识（可填：环卫、住建、园林、执法）", p.Value)
	case roster.CodeBadKind:
		return fmt.Sprintf("类型“%s”不认识（可填：公安、交警、居委会、物业、供电、燃气、自来水、其他）", p.Value)
	case roster.CodeNoChief:
		return fmt.Sprintf("管区“%s”没有站长", p.Value)
	case roster.CodeExtraChat:
		if p.Value == "" {
			return fmt.Sprintf("城管委已有群聊（%s）", where(p.First, p.Pos.Sheet))
		}
		return fmt.Sprintf("管区“%s”已有群聊（%s）", p.Value, where(p.First, p.Pos.Sheet))
	case roster.CodeNoPolygon:
		return "没有填边界GeoJSON"
	case roster.CodeBadGeoJSON:
		return "边界不是GeoJSON的Polygon（多边形）"
	case roster.CodeShortRing:
		return "边界不是有效的多边形（闭合的环至少4个点，且要有面积）"
	case roster.CodeOpenRing:
		return "边界没有闭合（最后一个点要与第一个点相同）"
	case roster.CodeSelfIntersect:
		return "边界自相交"
	case roster.CodeOutOfChina:
		return fmt.Sprintf("坐标（%s）不在中国境内（经度在前、纬度在后）", p.Value)
	case roster.CodeBadPhone:
		if p.Pos.Sheet == SheetPeople {
			return fmt.Sprintf("手机号“%s”不是以1开头的11位数字", p.Value)
		}
		return fmt.Sprintf("电话“%s”格式不对（手机号、0531-88886666 或 95598 这样的服务号）", p.Value)
	}
	return p.Msg // CodeSyntax from this package is already in Chinese
}

// where renders a first occurrence: "第3行" in the same sheet.
func where(first roster.Pos, sheet string) string {
	if first.Sheet == sheet || first.Sheet == "" {
		return fmt.Sprintf("第%d行", first.Line)
	}
	return fmt.Sprintf("%s 第%d行", first.Sheet, first.Line)
}

// fieldLabel is the column header for a field, or a word for fields without
// a column of their own.
func fieldLabel(sheetName, field string) string {
	switch field {
	case "subdistrict":
		return "街道信息"
	case "center":
		return "中心坐标"
	case "districts":
		return "管区"
	case "grids":
		return "网格"
	case "people":
		return "人员"
	}
	return header(sheetName, field)
}

// refLabel names what a reference field refers to.
func refLabel(field string) string {
	switch field {
	case "district":
		return "管区"
	case "community", "communities":
		return "社区"
	case "grid":
		return "网格"
	}
	return field
}

// idRule says what an id may look like.
func idRule(sheetName, field string) string {
	switch {
	case field == "code":
		return "大写字母开头，1–8位大写字母或数字"
	case field == "userid":
		return "企业微信账号：1–64位字母、数字或 _ - @ ."
	case sheetName == SheetChats:
		return "企业微信群聊ID：1–32位字母或数字"
	}
	return "1–64位字母、数字或 _ . -，以字母或数字开头"
}

// roleList is the labels of the 角色 column, in roster.Roles order.
func roleList() []string {
	labels := roleLabels()
	var out []string
	for _, r := range roster.Roles() {
		out = append(out, labels[r])
	}
	return out
}
