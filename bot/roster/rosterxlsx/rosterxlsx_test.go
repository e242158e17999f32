package rosterxlsx

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"gridbot/bot/roster"
)

// demoWorkbook writes the demo roster and reopens it for editing.
func demoWorkbook(t *testing.T) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, roster.Demo()); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// parseFile saves f and parses it.
func parseFile(t *testing.T, f *excelize.File) (*roster.Roster, error) {
	t.Helper()
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return Parse(&buf)
}

// rowOf returns the 1-based row of the sheet whose first cell is key.
func rowOf(t *testing.T, f *excelize.File, sheet, key string) int {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if len(r) > 0 && r[0] == key {
			return i + 1
		}
	}
	t.Fatalf("%s: no row %q", sheet, key)
	return 0
}

// setCell sets the cell under header in the row whose first cell is key.
func setCell(t *testing.T, f *excelize.File, sheet, key, header, value string) int {
	t.Helper()
	row := rowOf(t, f, sheet, key)
	headers, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(headers[0], header)
	if col < 0 {
		t.Fatalf("%s: no column %q", sheet, header)
	}
	cell, _ := excelize.CoordinatesToCellName(col+1, row)
	if err := f.SetCellStr(sheet, cell, value); err != nil {
		t.Fatal(err)
	}
	return row
}

func TestRoundTrip(t *testing.T) {
	demo := roster.Demo()
	var buf bytes.Buffer
	if err := Write(&buf, demo); err != nil {
		t.Fatal(err)
	}
	got, err := Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	same := func(name string, a, b any) {
		t.Helper()
		av, bv := reflect.ValueOf(a), reflect.ValueOf(b)
		if av.Kind() != reflect.Slice {
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s: got %+v, want %+v", name, a, b)
			}
			return
		}
		if av.Len() != bv.Len() {
			t.Errorf("%s: %d items, want %d", name, av.Len(), bv.Len())
			return
		}
		for i := range av.Len() {
			if !reflect.DeepEqual(av.Index(i).Interface(), bv.Index(i).Interface()) {
				t.Errorf("%s[%d]: got %+v\nwant %+v", name, i, av.Index(i).Interface(), bv.Index(i).Interface())
			}
		}
	}
	same("Subdistrict", got.Subdistrict, demo.Subdistrict)
	same("Districts", got.Districts, demo.Districts)
	same("Communities", got.Communities, demo.Communities)
	same("Grids", got.Grids, demo.Grids)
	same("People", got.People, demo.People)
	same("Partners", got.Partners, demo.Partners)
	same("Chats", got.Chats, demo.Chats)
	if !reflect.DeepEqual(got, demo) {
		t.Error("the re-imported roster differs from the demo")
	}
}

func TestTemplate(t *testing.T) {
	b, err := Template()
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	for _, s := range sheets() {
		names = append(names, s.name)
		rows, err := f.GetRows(s.name)
		if err != nil {
			t.Fatalf("sheet %s: %v", s.name, err)
		}
		if len(rows) != 2 {
			t.Errorf("sheet %s: %d rows, want a header and an example", s.name, len(rows))
			continue
		}
		for i, c := range s.columns {
			if rows[0][i] != c.header {
				t.Errorf("sheet %s column %d: header %q, want %q", s.name, i+1, rows[0][i], c.header)
			}
		}
	}
	if got := f.GetSheetList(); !slices.Equal(got, names) {
		t.Errorf("sheets = %v, want %v", got, names)
	}
	// The example rows form a valid roster.
	r, err := Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the template does not parse: %v", err)
	}
	p, _ := r.Person("zhangwei")
	if !p.HasRole(roster.RoleChief) || !p.HasRole(roster.RoleInspector) || p.Grid != "dc01" {
		t.Errorf("the example person = %+v", p)
	}
}

func TestBadRole(t *testing.T) {
	f := demoWorkbook(t)
	row := setCell(t, f, SheetPeople, "zhuqiang", "角色", "网格长")
	_, err := parseFile(t, f)
	var xe *Error
	if !errors.As(err, &xe) {
		t.Fatalf("err = %v, want an *Error", err)
	}
	want := fmt.Sprintf("人员 第%d行: 角色“网格长”不认识", row)
	if len(xe.Problems) != 1 || !strings.HasPrefix(Describe(xe.Problems[0]), want) {
		t.Errorf("error = %v\nwant one problem starting %q", err, want)
	}
	if p := xe.Problems[0]; p.Code != roster.CodeBadRole || p.Pos != (roster.Pos{Sheet: SheetPeople, Line: row}) {
		t.Errorf("problem = %+v", p)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestMissingColumn(t *testing.T) {
	f := demoWorkbook(t)
	if err := f.RemoveCol(SheetPeople, "D"); err != nil { // 角色
		t.Fatal(err)
	}
	_, err := parseFile(t, f)
	if err == nil || !strings.Contains(err.Error(), "人员 第1行: 缺少列“角色”") {
		t.Errorf("err = %v", err)
	}
}

func TestMissingSheet(t *testing.T) {
	f := demoWorkbook(t)
	if err := f.DeleteSheet(SheetGrids); err != nil {
		t.Fatal(err)
	}
	_, err := parseFile(t, f)
	var xe *Error
	if !errors.As(err, &xe) || len(xe.Problems) != 1 || xe.Problems[0].Code != CodeMissingSheet ||
		!strings.Contains(err.Error(), "缺少工作表“网格”") {
		t.Errorf("err = %v", err)
	}
}

// Problems found by roster.Build come back by sheet and row, in Chinese, in
// workbook order, all at once.
func TestManyProblems(t *testing.T) {
	f := demoWorkbook(t)
	commRow := setCell(t, f, SheetCommunities, "qiaoxi", "管区", "nowhere")
	phoneRow := setCell(t, f, SheetPeople, "lina", "手机", "1385310000")
	deptRow := setCell(t, f, SheetPeople, "sumei", "部门", "绿化")
	chatRow := setCell(t, f, SheetChats, "DJxicheng", "群聊ID", "DJ-xicheng")
	geoRow := setCell(t, f, SheetGrids, "ny01", "边界GeoJSON", `{"type":"Polygon","coordinates":[[[36.71,117.14],[36.71,117.15],[36.72,117.15],[36.71,117.14]]]}`)
	_, err := parseFile(t, f)
	var xe *Error
	if !errors.As(err, &xe) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		fmt.Sprintf("社区 第%d行: 管区“nowhere”不存在", commRow),
		fmt.Sprintf("网格 第%d行: 坐标（36.71,117.14）不在中国境内", geoRow),
		fmt.Sprintf("人员 第%d行: 手机号“1385310000”不是以1开头的11位数字", phoneRow),
		fmt.Sprintf("人员 第%d行: 部门“绿化”不认识", deptRow),
		fmt.Sprintf("群聊 第%d行: 群聊ID“DJ-xicheng”格式不对", chatRow),
	}
	if len(xe.Problems) != len(want) {
		t.Fatalf("%d problems, want %d:\n%v", len(xe.Problems), len(want), err)
	}
	for i, w := range want {
		if got := Describe(xe.Problems[i]); !strings.HasPrefix(got, w) {
			t.Errorf("problem %d = %q, want %q…", i, got, w)
		}
	}
}

// References may be written as names; roles with synonyms and Chinese
// punctuation; columns in any order.
func TestLenientInput(t *testing.T) {
	f := demoWorkbook(t)
	setCell(t, f, SheetPeople, "zhuqiang", "管区", "东城管区")
	setCell(t, f, SheetPeople, "zhuqiang", "网格", "东盛社区第一网格")
	setCell(t, f, SheetPeople, "zhuqiang", "角色", "巡查员、工作站")
	setCell(t, f, SheetPeople, "sumei", "负责社区", "龙泉社区，荷花社区；东盛社区 朝阳社区")
	// Numbers typed as numbers, not text.
	if err := f.SetCellValue(SheetPeople, fmt.Sprintf("C%d", rowOf(t, f, SheetPeople, "lina")), 13853100002); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellValue(SheetSubdistrict, "C2", 117.15); err != nil {
		t.Fatal(err)
	}
	// Move 编号 of 管区 after 名称.
	if err := f.SetSheetRow(SheetDistricts, "A1", &[]string{"名称", "编号"}); err != nil {
		t.Fatal(err)
	}
	for i, d := range roster.Demo().Districts {
		if err := f.SetSheetRow(SheetDistricts, fmt.Sprintf("A%d", i+2), &[]string{d.Name, d.ID}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := parseFile(t, f)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := r.Person("zhuqiang")
	if p.District != "dongcheng" || p.Grid != "dc01" || !slices.Equal(p.Roles, []roster.Role{roster.RoleInspector, roster.RoleStationStaff}) {
		t.Errorf("zhuqiang = %+v", p)
	}
	if p, _ := r.Person("lina"); p.Phone != "13853100002" {
		t.Errorf("lina's phone = %q", p.Phone)
	}
	if r.Subdistrict.Center != roster.Demo().Subdistrict.Center {
		t.Errorf("centre = %v", r.Subdistrict.Center)
	}
	p, _ = r.Person("sumei")
	if !slices.Equal(p.Communities, []string{"longquan", "hehua", "dongsheng", "chaoyang"}) {
		t.Errorf("sumei's communities = %v", p.Communities)
	}
	if !reflect.DeepEqual(r.Districts, roster.Demo().Districts) {
		t.Errorf("districts = %+v", r.Districts)
	}
}

func TestNotAWorkbook(t *testing.T) {
	_, err := Parse(strings.NewReader("userid,姓名\nzhangwei,张伟\n"))
	if err == nil || !strings.Contains(err.Error(), "not an xlsx workbook") {
		t.Errorf("err = %v", err)
	}
}
