package ledger_test

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"gridbot/bot"
	"gridbot/bot/bottest"
	"gridbot/bot/ledger"
	"gridbot/bot/roster"
	"gridbot/store"
	"gridbot/templates"
)

var zone = bot.Shanghai()

func at(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, zone)
}

// fixture is an exporter over a SQLite store with three November cases and
// a few patrols, visits and activities, made on 1 December at 08:30.
func fixture(t *testing.T) *ledger.Exporter {
	t.Helper()
	now := at(12, 1, 8, 30)
	db, err := store.Open(context.Background(), store.Options{Driver: store.DriverSQLite,
		SQLitePath: filepath.Join(t.TempDir(), "gridbot.db"), Migrate: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	put := func(c bot.Case, events ...bot.Event) {
		t.Helper()
		err := db.Cases().InTx(context.Background(), func(tx bot.Tx) error {
			if err := tx.CreateCase(context.Background(), &c); err != nil {
				return err
			}
			for _, e := range events {
				e.CaseID = c.ID
				if err := tx.AddEvent(context.Background(), e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	base := bot.Case{Source: bot.SrcPatrol, Reporter: "zhuqiang", Code: "06042", Category: "垃圾站（箱）满溢", Plan: "环境卫生",
		Dept: "环卫", Size: bot.Small, District: "dongcheng", Community: "dongsheng", Grid: "dc01", Place: "东盛路菜市场门口"}
	c1 := base
	c1.No, c1.Status, c1.Text = "DJ-20261102-001", bot.StClosed, "菜市场门口垃圾桶满了"
	c1.CreatedAt, c1.DueAt, c1.ClosedAt, c1.CloseCode, c1.Rework = at(11, 2, 10, 0), at(11, 3, 0, 0), at(11, 2, 18, 0), bot.CloseResolved, 1
	c1.Source, c1.ResidentName, c1.ResidentPhone, c1.Receiver, c1.Reporter = bot.SrcResident, "王大爷", "13800138000", "yangfan", "yangfan"
	put(c1, bot.Event{Action: bot.ActReport, At: c1.CreatedAt, Actor: "yangfan"},
		bot.Event{Action: bot.ActSelf, At: at(11, 2, 10, 30), Actor: "zhangwei"},
		bot.Event{Action: bot.ActHandled, At: at(11, 2, 15, 0), Actor: "zhangwei"},
		bot.Event{Action: bot.ActVerifyFail, At: at(11, 2, 16, 0), Actor: "zhuqiang", Note: "还有一袋没清"},
		bot.Event{Action: bot.ActHandled, At: at(11, 2, 17, 0), Actor: "zhangwei"},
		bot.Event{Action: bot.ActClose, At: at(11, 2, 17, 5), Actor: "lina", Denied: true},
		bot.Event{Action: bot.ActVerifyOK, At: c1.ClosedAt, Actor: "zhuqiang"})
	c2 := base
	c2.No, c2.Status, c2.Text, c2.Assignee, c2.Overdue = "DJ-20261120-001", bot.StGuidance, "垃圾站满溢", "jiangtao", true
	c2.CreatedAt, c2.DueAt = at(11, 20, 9, 0), at(12, 4, 9, 0)
	put(c2, bot.Event{Action: bot.ActReport, At: c2.CreatedAt, Actor: "zhuqiang"},
		bot.Event{Action: bot.ActOverdue, At: at(11, 21, 0, 0), Actor: "system"})
	c3 := base
	c3.No, c3.Status, c3.Text, c3.District, c3.Community, c3.Grid = "DJ-20261103-001", bot.StReported, "路边摆摊", "xicheng", "liuyuan", "xc01"
	c3.CreatedAt, c3.DueAt = at(11, 3, 9, 0), at(11, 4, 0, 0)
	put(c3, bot.Event{Action: bot.ActReport, At: c3.CreatedAt, Actor: "zhaolei"})

	rh := &bottest.Rhythm{}
	rh.AddPatrols(bot.Patrol{UserID: "zhuqiang", Grid: "dc01", District: "dongcheng", Day: "2026-11-02",
		StartedAt: at(11, 2, 8, 0), EndedAt: at(11, 2, 9, 35), Points: 6, Counts: true, Source: "chat"})
	rh.AddVisits(bot.Visit{UserID: "jiangtao", Dept: "环卫", District: "dongcheng", Community: "dongsheng", Day: "2026-11-03",
		At: at(11, 3, 10, 0), Note: "检查垃圾分类"})
	rh.AddActivities(bot.Activity{UserID: "jiangtao", Dept: "环卫", District: "dongcheng", Month: "2026-11", Kind: "law",
		Topic: "垃圾分类条例进社区", Place: "东盛社区广场", Attendance: 35, Photos: []string{"m1", "m2"}, At: at(11, 10, 14, 0)})

	rep := &bot.Reporter{Store: db.Reports(), Rhythm: rh, Outbox: db.Outbox(), Leases: db.Leases(), T: templates.MustLoad(),
		Roster: roster.Demo(), Zone: zone, Owner: "test", Clock: bot.ClockFunc(func() time.Time { return now })}
	return &ledger.Exporter{Reporter: rep, Batch: 2}
}

// export writes kind for period and opens it.
func export(t *testing.T, e *ledger.Exporter, kind, period string) *excelize.File {
	t.Helper()
	p, err := ledger.ParsePeriod(kind, period, zone)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var last [2]int
	if err := e.Export(context.Background(), kind, p, &buf, func(done, total int) { last = [2]int{done, total} }); err != nil {
		t.Fatal(err)
	}
	if last[0] != last[1] {
		t.Errorf("progress ended at %d of %d", last[0], last[1])
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// cell fails unless sheet!ref shows want.
func cell(t *testing.T, f *excelize.File, sheet, ref, want string) {
	t.Helper()
	got, err := f.GetCellValue(sheet, ref)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("%s!%s = %q, want %q", sheet, ref, got, want)
	}
}

// isDate fails unless sheet!ref holds a number shown with a date format.
func isDate(t *testing.T, f *excelize.File, sheet, ref, format, shown string) {
	t.Helper()
	raw, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if typ, _ := f.GetCellType(sheet, ref); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString || strings.Contains(raw, "-") {
		t.Errorf("%s!%s is text %q, not a date", sheet, ref, raw)
	}
	id, err := f.GetCellStyle(sheet, ref)
	if err != nil {
		t.Fatal(err)
	}
	style, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if style.CustomNumFmt == nil || *style.CustomNumFmt != format {
		t.Errorf("%s!%s has number format %v, want %q", sheet, ref, style.CustomNumFmt, format)
	}
	cell(t, f, sheet, ref, shown)
}

// frozen fails unless the sheet's three header rows are frozen.
func frozen(t *testing.T, f *excelize.File, sheet string) {
	t.Helper()
	p, err := f.GetPanes(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Freeze || p.YSplit != 3 || p.TopLeftCell != "A4" {
		t.Errorf("%s panes %+v, want the first 3 rows frozen", sheet, p)
	}
}

func TestLedgerWorkbook(t *testing.T) {
	f := export(t, fixture(t), ledger.KindLedger, "2026-11")
	const s = "问题台账"
	if got := f.GetSheetList(); len(got) != 1 || got[0] != s {
		t.Fatalf("sheets %v", got)
	}
	cell(t, f, s, "A1", "董家街道城市管理问题台账（2026年11月）")
	cell(t, f, s, "A2", "制表时间：2026年12月1日 08:30　共3条")
	merged, _ := f.GetMergeCells(s)
	if len(merged) != 2 || merged[0].GetStartAxis() != "A1" || merged[0].GetEndAxis() != "U1" {
		t.Errorf("merged cells %v, want A1:U1 and A2:U2", merged)
	}
	frozen(t, f, s)
	for ref, want := range map[string]string{"A3": "编号", "B3": "来源", "D3": "国标代码", "J3": "反映居民", "L3": "上报时间",
		"P3": "结案方式", "R3": "是否逾期", "U3": "处置过程"} {
		cell(t, f, s, ref, want)
	}
	// Oldest first: DJ-20261102-001, DJ-20261103-001, DJ-20261120-001.
	cell(t, f, s, "A4", "DJ-20261102-001")
	cell(t, f, s, "B4", "居民反映")
	cell(t, f, s, "E4", "东城管区")
	cell(t, f, s, "G4", "东盛社区第一网格")
	cell(t, f, s, "J4", "王大爷 138****8000")
	cell(t, f, s, "K4", "杨帆")
	isDate(t, f, s, "L4", "yyyy-mm-dd hh:mm", "2026-11-02 10:00")
	cell(t, f, s, "N4", "已结案")
	cell(t, f, s, "P4", "已解决")
	isDate(t, f, s, "Q4", "yyyy-mm-dd hh:mm", "2026-11-02 18:00")
	cell(t, f, s, "R4", "否")
	cell(t, f, s, "S4", "1")
	cell(t, f, s, "U4", "11-02 10:00 杨帆上报；11-02 10:30 张伟自行处置；11-02 15:00 张伟已处置；11-02 16:00 朱强核查未通过（还有一袋没清）；"+
		"11-02 17:00 张伟已处置；11-02 18:00 朱强核查通过")
	cell(t, f, s, "A5", "DJ-20261103-001")
	cell(t, f, s, "O5", "西城管区城管工作站")
	cell(t, f, s, "Q5", "")
	cell(t, f, s, "A6", "DJ-20261120-001")
	cell(t, f, s, "O6", "蒋涛")
	cell(t, f, s, "R6", "是")
	cell(t, f, s, "U6", "11-20 09:00 朱强上报；11-21 00:00 逾期升级")
	cell(t, f, s, "A7", "")
	rows, _ := f.GetRows(s)
	for _, row := range rows {
		for _, v := range row {
			if strings.Contains(v, "13800138000") {
				t.Errorf("a phone number in the ledger: %q", v)
			}
		}
	}
}

func TestAssessmentWorkbook(t *testing.T) {
	f := export(t, fixture(t), ledger.KindAssessment, "2026-11")
	if got := strings.Join(f.GetSheetList(), ","); got != "考核结果,指标说明" {
		t.Fatalf("sheets %s", got)
	}
	const s = "考核结果"
	cell(t, f, s, "A1", "董家街道“城市管理进社区”月度考核（2026年11月）")
	frozen(t, f, s)
	cell(t, f, s, "A3", "排名")
	cell(t, f, s, "K3", "结案率")
	cell(t, f, s, "S3", "备注")
	rows, err := f.GetRows(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3+5+1 {
		t.Fatalf("%d rows, want title, subtitle, header, 5 districts and the total", len(rows))
	}
	total := rows[len(rows)-1]
	if total[0] != "" || total[1] != "全街道" || total[2] != "3" {
		t.Errorf("total row %v", total)
	}
	// Every district has under 5 cases due: all are small samples.
	for _, row := range rows[3:8] {
		if row[len(row)-1] != "样本不足" {
			t.Errorf("row %v is not marked 样本不足", row)
		}
	}
	// The subdistrict: 1 closed (c1) of 3 due (c2 overdue, c3 past its deadline), as a number.
	raw, _ := f.GetCellValue(s, "K9", excelize.Options{RawCellValue: true})
	if v, err := strconv.ParseFloat(raw, 64); err != nil || math.Abs(v-1.0/3) > 1e-9 {
		t.Errorf("the subdistrict's 结案率 is stored as %q, want 1/3", raw)
	}
	cell(t, f, s, "K9", "33.33%")
	cell(t, f, "指标说明", "A4", "立案数")
	cell(t, f, "指标说明", "A10", "结案率")
}

func TestPatrolAndVisitWorkbooks(t *testing.T) {
	e := fixture(t)
	f := export(t, e, ledger.KindPatrols, "2026-11")
	if got := strings.Join(f.GetSheetList(), ","); got != "巡查记录,每日覆盖" {
		t.Fatalf("sheets %s", got)
	}
	cell(t, f, "巡查记录", "A1", "董家街道网格巡查台账（2026年11月）")
	frozen(t, f, "巡查记录")
	isDate(t, f, "巡查记录", "A4", "yyyy-mm-dd", "2026-11-02")
	cell(t, f, "巡查记录", "E4", "朱强")
	cell(t, f, "巡查记录", "H4", "95")
	cell(t, f, "巡查记录", "J4", "是")
	cell(t, f, "每日覆盖", "B4", "东城管区")
	cell(t, f, "每日覆盖", "F4", "东盛社区第一网格、东盛社区第二网格、朝阳社区第一网格、朝阳社区第二网格")
	cell(t, f, "每日覆盖", "D9", "1") // 2 Nov, 东城

	f = export(t, e, ledger.KindVisits, "2026-11")
	if got := strings.Join(f.GetSheetList(), ","); got != "走访签到,走访完成情况,活动记录" {
		t.Fatalf("sheets %s", got)
	}
	cell(t, f, "走访签到", "C4", "蒋涛")
	cell(t, f, "走访签到", "F4", "东盛社区")
	cell(t, f, "走访完成情况", "A4", "2026-W45")
	cell(t, f, "走访完成情况", "B4", "11-02—11-08")
	cell(t, f, "走访完成情况", "H4", "已完成")
	cell(t, f, "走访完成情况", "H5", "未完成")
	cell(t, f, "活动记录", "F4", "法律法规宣传")
	cell(t, f, "活动记录", "J4", "2")
}

func TestPackWorkbooks(t *testing.T) {
	e := fixture(t)
	f := export(t, e, ledger.KindWeekly, "2026-W45")
	if got := strings.Join(f.GetSheetList(), ","); got != "汇总,来源与类别,高发点位" {
		t.Fatalf("sheets %s", got)
	}
	cell(t, f, "汇总", "A1", "董家街道城市管理周例会材料（2026年第45周 11月2日—11月8日）")
	cell(t, f, "汇总", "A4", "东城管区")
	cell(t, f, "汇总", "B4", "1")
	cell(t, f, "汇总", "A9", "全街道")
	cell(t, f, "来源与类别", "B4", "居民反映")
	f = export(t, e, ledger.KindMonthly, "2026-11")
	cell(t, f, "汇总", "A1", "董家街道城市管理月例会材料（2026年11月）")
	cell(t, f, "汇总", "B9", "3")
}

func TestExportRefuses(t *testing.T) {
	e := fixture(t)
	if _, err := ledger.ParsePeriod("cats", "2026-11", zone); bot.ErrorCode(err) != bot.EINVALID {
		t.Errorf("an unknown kind: %v", err)
	}
	if _, err := ledger.ParsePeriod(ledger.KindWeekly, "2026-11", zone); bot.ErrorCode(err) != bot.EINVALID {
		t.Errorf("a weekly pack of a month: %v", err)
	}
	week, _ := bot.ParseWeek("2026-W45", zone)
	if err := e.Export(context.Background(), ledger.KindAssessment, week, &bytes.Buffer{}, nil); bot.ErrorCode(err) != bot.EINVALID {
		t.Errorf("an assessment of a week: %v", err)
	}
	if got := ledger.FileName(ledger.KindLedger, week); got != "ledger-2026-W45.xlsx" {
		t.Errorf("FileName = %s", got)
	}
}
