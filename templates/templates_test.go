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
