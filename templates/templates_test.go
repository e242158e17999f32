package templates_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gridbot/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Each template renders its typed data to exactly its golden file.
func TestGolden(t *testing.T) {
	set, err := templates.Load()
	if err != nil {
		t.Fatal(err)
	}
	card := templates.CardData{Kind: "chief", No: "DJ-20261201-007", Category: "垃圾站（箱）满溢", Text: "东盛路菜市场门口垃圾桶满了",
		Resident: "王大爷 138****8000", Photos: 2, Due: "12月1日 24:00", Overdue: true}
	kase := templates.CaseData{No: "DJ-20261201-007", Category: "垃圾站（箱）满溢", Status: "guidance", Size: "small", Holder: "蒋涛",
		Due: "12月1日 24:00", Overdue: true, Code: "resolved", Resident: "王大爷 13800138000", Place: "东盛路口", Text: "垃圾桶满了",
		Rework: 1, Supports: 2}
	cases := []struct {
		golden string
		name   string
		data   any
	}{
		{"help_named", templates.Help, templates.HelpData{Name: "张三"}},
		{"help_inspector", templates.Help, templates.HelpData{Name: "朱强", Reporter: true, Inspector: true}},
		{"help_station", templates.Help, templates.HelpData{Name: "杨帆", Reporter: true, Station: true}},
		{"help_guidance", templates.Help, templates.HelpData{Name: "蒋涛", Guidance: true}},
		{"help_anonymous", templates.Help, templates.HelpData{}},
		{"status_verifying", templates.Status, "verifying"},
		{"when", templates.When, templates.WhenData{Month: 12, Day: 1, Clock: "24:00"}},
		{"action_call_guidance", templates.ActionW, "call_guidance"},
		{"size_big", templates.SizeW, "big"},
		{"source_resident", templates.SourceW, "resident"},
		{"closecode_unsolvable", templates.CloseCode, "unsolvable"},
		{"button_menu_close", templates.ButtonW, "menu_close"},
		{"card_source", templates.CardSource, card},
		{"card_title_chief", templates.CardTitle, card},
		{"card_desc", templates.CardDesc, card},
		{"card_sub_resident", templates.CardSub, card},
		{"card_sub_dup", templates.CardSub, templates.CardData{Kind: "dup", Text: "垃圾桶满了", DupNo: "DJ-20261201-003", DupMeters: 12}},
		{"card_done", templates.CardDone, templates.DoneData{By: "张伟", What: "自行处置"}},
		{"row_category", templates.RowCategory, nil},
		{"row_place", templates.RowPlace, nil},
		{"row_grid", templates.RowGrid, nil},
		{"row_photos", templates.RowPhotos, nil},
		{"row_due", templates.RowDue, nil},
		{"row_status", templates.RowStatus, nil},
		{"row_holder", templates.RowHolder, nil},
		{"value_photos", templates.ValuePhotos, card},
		{"value_due_overdue", templates.ValueDue, card},
		{"not_registered", templates.MsgNotRegistered, nil},
		{"draft_photo", templates.MsgDraftPhoto, templates.DraftData{Photos: 2}},
		{"draft_place", templates.MsgDraftPlace, templates.DraftData{Place: "东盛路口 东盛社区第一网格"}},
		{"draft_need_place", templates.MsgDraftNeedPlace, nil},
		{"draft_start", templates.MsgDraftStart, nil},
		{"draft_none", templates.MsgDraftNone, nil},
		{"draft_cancelled", templates.MsgDraftCancelled, nil},
		{"draft_expired", templates.MsgDraftExpired, nil},
		{"resident_format", templates.MsgResidentFormat, nil},
		{"filed", templates.MsgFiled, kase},
		{"onspot", templates.MsgOnSpot, kase},
		{"closed", templates.MsgClosed, kase},
		{"callback", templates.MsgCallBack, kase},
		{"reworked", templates.MsgReworked, kase},
		{"reminder", templates.MsgReminder, kase},
		{"overdue", templates.MsgOverdue, kase},
		{"supported", templates.MsgSupported, kase},
		{"refused_person", templates.MsgRefusedPerson, kase},
		{"refused_state", templates.MsgRefusedState, kase},
		{"card_used", templates.MsgCardUsed, templates.DoneData{What: "自行处置"}},
		{"card_unknown", templates.MsgCardUnknown, nil},
		{"need_after_photo", templates.MsgNeedAfterPhoto, nil},
		{"need_verify_photo", templates.MsgNeedVerifyPhoto, nil},
		{"need_owner", templates.MsgNeedOwner, nil},
		{"need_dup", templates.MsgNeedDup, templates.ExampleData{Example: "DJ-20261201-001"}},
		{"need_reply", templates.MsgNeedReply, nil},
		{"need_reason", templates.MsgNeedReason, nil},
		{"voice_unsupported", templates.MsgVoiceUnsupported, nil},
		{"done", templates.MsgDone, templates.DoneData{No: "DJ-20261201-007", What: "已上报"}},
		{"bad_input", templates.MsgBadInput, templates.ReasonData{Reason: "请说明原因"}},
		{"no_officer", templates.MsgNoOfficer, templates.NoOfficerData{District: "东城管区", Dept: "园林"}},
		{"todo", templates.MsgTodo, templates.TodoData{Items: []templates.CaseData{kase, kase}}},
		{"todo_empty", templates.MsgTodo, templates.TodoData{}},
		{"query", templates.MsgQuery, kase},
		{"query_none", templates.MsgQueryNone, templates.CaseData{No: "DJ-20261201-099"}},
		{"query_format", templates.MsgQueryFormat, templates.ExampleData{Example: "DJ-20261201-001"}},
		// rhythm.tmpl
		{"patrol_need_start", templates.MsgPatrolNeedStart, nil},
		{"patrol_started", templates.MsgPatrolStarted, templates.RhythmData{Grid: "东盛社区第一网格"}},
		{"patrol_already", templates.MsgPatrolAlready, templates.RhythmData{Since: "08:30"}},
		{"patrol_need_end", templates.MsgPatrolNeedEnd, nil},
		{"patrol_none", templates.MsgPatrolNone, nil},
		{"patrol_point", templates.MsgPatrolPoint, templates.RhythmData{Points: 3}},
		{"patrol_ended_counts", templates.MsgPatrolEnded, templates.RhythmData{Grid: "东盛社区第一网格", Minutes: 95, Points: 6, Counts: true}},
		{"patrol_ended_outside", templates.MsgPatrolEnded, templates.RhythmData{Grid: "东盛社区第一网格", Minutes: 12, Points: 0}},
		{"patrol_only_inspectors", templates.MsgPatrolOnlyInspectors, nil},
		{"visit_need_place", templates.MsgVisitNeedPlace, nil},
		{"visit_done", templates.MsgVisitDone, templates.RhythmData{Community: "东盛社区", Count: 1}},
		{"visit_outside", templates.MsgVisitOutside, nil},
		{"visit_only_guidance", templates.MsgVisitOnlyGuidance, nil},
		{"activity_format", templates.MsgActivityFormat, nil},
		{"activity_done", templates.MsgActivityDone, templates.RhythmData{Month: "12月", Kind: "law", Topic: "垃圾分类条例进社区", Place: "东盛社区广场", Attendance: 35}},
		{"activity_photo", templates.MsgActivityPhoto, templates.RhythmData{Photos: 2}},
		// digest.tmpl (reports)
		{"report_weekday", templates.ReportWeekday, 1},
		{"report_holder_committee", templates.ReportHolder, templates.HolderData{Kind: "committee"}},
		{"report_holder_station", templates.ReportHolder, templates.HolderData{Kind: "station", Name: "东城管区"}},
		{"report_holder_inspector", templates.ReportHolder, templates.HolderData{Kind: "inspector", Name: "朱强"}},
		{"report_value_small_sample", templates.ReportValue, "small_sample"},
		{"report_timeline", templates.ReportTimeline, templates.TimelineData{Items: []templates.TimelineItem{
			{When: "11-02 09:10", Actor: "朱强", Action: "report"}, {When: "11-02 09:30", Actor: "张伟", Action: "self"},
			{When: "11-03 00:00", Action: "overdue"}, {When: "11-03 10:00", Actor: "朱强", Action: "verify_fail", Note: "垃圾还在"}}}},
		{"report_title_cases", templates.ReportTitle, reportTitle("cases")},
		{"report_title_weekly", templates.ReportTitle, templates.TitleData{Kind: "weekly", Subdistrict: "董家街道", Year: 2026, Week: 45,
			FromMonth: 11, FromDay: 2, ToMonth: 11, ToDay: 8}},
		{"report_subtitle", templates.ReportSubtitle, reportTitle("cases")},
		{"report_sheet_cases", templates.ReportSheet, "cases"},
		{"report_columns_cases", templates.ReportColumns, "cases"},
		{"report_columns_assessment", templates.ReportColumns, "assessment"},
		{"report_definitions", templates.ReportDefinitions, nil},
		{"digest_district", templates.DigestDaily, digestDistrict()},
		{"digest_committee", templates.DigestDaily, digestCommittee()},
		{"pack_weekly", templates.DigestPack, packWeekly()},
		{"pack_monthly_committee", templates.DigestPack, packMonthlyCommittee()},
	}
	seen := map[string]bool{}
	if len(cases) < len(templates.Names)+len(templates.RhythmNames) {
		t.Errorf("%d golden cases for %d templates", len(cases), len(templates.Names))
	}
	for _, c := range cases {
		seen[c.name] = true
		t.Run(c.golden, func(t *testing.T) {
			got, err := set.Render(c.name, c.data)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", c.golden+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./templates -update)", err)
			}
			if got != strings.TrimSuffix(string(want), "\n") {
				t.Errorf("%s renders\n%s\nwant\n%s", c.name, got, want)
			}
		})
	}
	for _, n := range append(append([]string{}, templates.Names...), templates.RhythmNames...) {
		if !seen[n] {
			t.Errorf("template %s has no golden case", n)
		}
	}
}

// A template given the wrong data fails loudly instead of printing "<no value>".
func TestMissingKeyFails(t *testing.T) {
	set := templates.MustLoad()
	if _, err := set.Render(templates.Help, map[string]string{}); err == nil {
		t.Fatal("rendering help with no Name field succeeded")
	}
}

// ---- Data of the report templates (digest.tmpl). ----

func reportTitle(kind string) templates.TitleData {
	return templates.TitleData{Kind: kind, Subdistrict: "董家街道", Year: 2026, Month: 11, FromMonth: 11, FromDay: 1, ToMonth: 11, ToDay: 30,
		GenYear: 2026, GenMonth: 12, GenDay: 1, GenTime: "08:30", Count: 1234}
}

func digestDistrict() templates.DigestData {
	return templates.DigestData{Name: "东城管区", Month: 11, Day: 2, Weekday: 1, New: 5, Closed: 4, Open: 12, DueToday: 3, Overdue: 2, Verifying: 1,
		OverdueCases: []templates.DigestCase{{No: "DJ-20261101-003", Category: "暴露垃圾", Grid: "东盛社区第一网格", Holder: "蒋涛", Escalations: 1}},
		OverdueMore:  1,
		DueCases:     []templates.DigestCase{{No: "DJ-20261026-001", Category: "违章建筑", Grid: "朝阳社区第一网格", Due: "11-02 18:00", Holder: "东城管区城管工作站"}},
		DueMore:      2,
		VerifyCases:  []templates.DigestCase{{No: "DJ-20261101-007", Category: "占道经营", Grid: "东盛社区第二网格", Holder: "网格员胡玉梅"}},
		Grids:        4, Patrolled: 3, PatrolPct: "75%",
		Missed: []templates.DigestMiss{{Grid: "朝阳社区第二网格", People: []string{"罗琳"}, Days: 3, Stale: true}},
		Visits: 8, VisitsDone: 5,
		VisitsDue: []templates.DigestVisit{{Officer: "蒋涛", Communities: []string{"东盛社区", "朝阳社区"}}, {Officer: "苏梅", Communities: []string{"朝阳社区"}}},
	}
}

func digestCommittee() templates.DigestData {
	return templates.DigestData{Committee: true, Name: "董家街道", Month: 11, Day: 2, Weekday: 1, New: 20, Closed: 18, Open: 40,
		DueToday: 6, Overdue: 0, Verifying: 4,
		Districts: []templates.DigestLine{
			{Name: "东城管区", New: 5, Closed: 4, DueToday: 3, Overdue: 0, Verifying: 1, Grids: 4, Patrolled: 3, Visits: 8, VisitsDone: 5},
			{Name: "西城管区", New: 3, Closed: 2, Grids: 4, Patrolled: 4, Visits: 8, VisitsDone: 8},
		},
		DistrictsMore: 3, Grids: 18, Patrolled: 16, PatrolPct: "88.9%", Visits: 40, VisitsDone: 30, MissedMore: 2, VisitsMore: 4,
	}
}

func packWeekly() templates.PackData {
	return templates.PackData{Name: "东城管区", Year: 2026, Week: 45, FromMonth: 11, FromDay: 2, ToMonth: 11, ToDay: 8,
		Filed: 35, OnSpot: 4, Closed: 30, OnTime: 28, Unsolvable: 1, OpenOverdue: 2, OverdueEvents: 3, Escalated: 2, Handled: 26, Reworked: 1,
		BySource: []templates.PackCount{{Code: "patrol", N: 20}, {Code: "resident", N: 10}, {Code: "hotline", N: 5}},
		ByPlan:   []templates.PackCount{{Name: "环境卫生", N: 15}, {Name: "市容管理", N: 10}}, ByPlanMore: 10,
		Hotspots: []templates.PackHotspot{{Grid: "东盛社区第一网格", Category: "暴露垃圾", N: 5}},
		Patrol:   templates.PackRatio{Done: 26, Total: 28, Pct: "92.9%"}, Visits: templates.PackRatio{Done: 7, Total: 8, Pct: "87.5%"},
	}
}

func packMonthlyCommittee() templates.PackData {
	return templates.PackData{Monthly: true, Committee: true, Name: "董家街道", Year: 2026, Month: 11, FromMonth: 11, FromDay: 1, ToMonth: 11, ToDay: 30,
		Filed: 400, Closed: 380, OnTime: 350, Unsolvable: 3, OpenOverdue: 5, OverdueEvents: 12, Escalated: 9, Handled: 300, Reworked: 6,
		BySource:     []templates.PackCount{{Code: "patrol", N: 300}, {Code: "hotline", N: 100}},
		Hotspots:     []templates.PackHotspot{{District: "东城管区", Grid: "东盛社区第一网格", Category: "暴露垃圾", N: 5}},
		HotspotsMore: 2,
		Patrol:       templates.PackRatio{Done: 500, Total: 540, Pct: "92.6%"}, Visits: templates.PackRatio{Done: 150, Total: 160, Pct: "93.8%"},
		Activities: templates.PackRatio{Done: 16, Total: 17, Pct: "94.1%"},
		Score:      "91.2", Grade: "A",
		Districts: []templates.PackLine{{Name: "东城管区", Filed: 80, Closed: 76, OnTime: 70, OpenOverdue: 1, Reworked: 2,
			Patrol: templates.PackRatio{Pct: "95%"}, Visits: templates.PackRatio{Pct: "100%"}, Score: "93.5", Grade: "A", Rank: 1}},
		DistrictsMore: 4,
	}
}
