package bot

import (
	"testing"
	"time"
)

func TestTransitionTable(t *testing.T) {
	p := DefaultPolicy()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, p.Zone)
	base := Case{ID: 1, No: "DJ-20261201-001", Version: 3, Size: Small, Dept: "环卫", CreatedAt: now.Add(-time.Hour)}
	with := func(s Status, f ...func(*Case)) Case {
		c := base
		c.Status = s
		for _, g := range f {
			g(&c)
		}
		return c
	}
	held := func(by string) func(*Case) { return func(c *Case) { c.Assignee = by } }
	holder := func(s Status) func(*Case) { return func(c *Case) { c.Holder = s } }
	small := func(c *Case) { c.Size = Small }
	big := func(c *Case) { c.Size = Big }
	chief := []Rel{RelChief}
	cases := []struct {
		name     string
		c        Case
		in       Input
		to       Status
		err      string
		assignee string
		check    func(t *testing.T, c Case)
	}{
		{"report", with(StNew), Input{Action: ActReport, Actor: "i1", Rels: []Rel{RelReporter}}, StReported, "", "", nil},
		{"report by a stranger", with(StNew), Input{Action: ActReport, Actor: "x"}, "", EUNAUTHORIZED, "", nil},
		{"on the spot", with(StNew, small), Input{Action: ActOnSpot, Actor: "i1", Rels: []Rel{RelInspector}, Photos: []string{"a", "b"}}, StClosed, "", "",
			func(t *testing.T, c Case) {
				if !c.OnSpot || c.CloseCode != CloseResolved {
					t.Errorf("on-spot case = %+v", c)
				}
			}},
		{"on the spot, one photo", with(StNew, small), Input{Action: ActOnSpot, Actor: "i1", Rels: []Rel{RelInspector}, Photos: []string{"a"}}, "", EINVALID, "", nil},
		{"on the spot, big", with(StNew, big), Input{Action: ActOnSpot, Actor: "i1", Rels: []Rel{RelInspector}, Photos: []string{"a", "b"}}, "", EINVALID, "", nil},
		{"self", with(StReported), Input{Action: ActSelf, Actor: "c1", Rels: chief}, StStation, "", "c1", nil},
		{"self by an inspector", with(StReported), Input{Action: ActSelf, Actor: "i1", Rels: []Rel{RelInspector}}, "", EUNAUTHORIZED, "", nil},
		{"self twice", with(StStation, held("c1")), Input{Action: ActSelf, Actor: "c1", Rels: chief}, "", ECONFLICT, "", nil},
		{"call guidance", with(StReported), Input{Action: ActCallGuidance, Actor: "c1", Rels: chief, Assignee: "g1"}, StGuidance, "", "g1", nil},
		{"call guidance, none serves", with(StReported), Input{Action: ActCallGuidance, Actor: "c1", Rels: chief}, "", EINVALID, "", nil},
		{"call guidance from station", with(StStation, held("c1")), Input{Action: ActCallGuidance, Actor: "c1", Rels: chief, Assignee: "g1"}, StGuidance, "", "g1", nil},
		{"escalate", with(StReported), Input{Action: ActEscalate, Actor: "c1", Rels: chief}, StCommittee, "", "", nil},
		{"accept", with(StGuidance, held("g1")), Input{Action: ActAccept, Actor: "g1", Rels: []Rel{RelAssignee}}, StGuidance, "", "g1", nil},
		{"accept by another officer", with(StGuidance, held("g1")), Input{Action: ActAccept, Actor: "g2"}, "", EUNAUTHORIZED, "", nil},
		{"officer escalates", with(StGuidance, held("g1")), Input{Action: ActEscalate, Actor: "g1", Rels: []Rel{RelAssignee}}, StCommittee, "", "", nil},
		{"chief cannot escalate the officer's case", with(StGuidance, held("g1")), Input{Action: ActEscalate, Actor: "c1", Rels: chief}, "", EUNAUTHORIZED, "", nil},
		{"assign", with(StCommittee), Input{Action: ActAssign, Actor: "k1", Rels: []Rel{RelCommittee}, Dept: "住建", Assignee: "g9"}, StGuidance, "", "g9",
			func(t *testing.T, c Case) {
				if c.Dept != "住建" {
					t.Errorf("dept = %s", c.Dept)
				}
			}},
		{"transfer", with(StCommittee), Input{Action: ActTransfer, Actor: "k1", Rels: []Rel{RelCommittee}, Partner: "police"}, StPartner, "", "k1", nil},
		{"transfer, no partner", with(StCommittee), Input{Action: ActTransfer, Actor: "k1", Rels: []Rel{RelCommittee}}, "", EINVALID, "", nil},
		{"escalate up", with(StCommittee), Input{Action: ActEscalateUp, Actor: "k1", Rels: []Rel{RelCommittee}}, StExternal, "", "k1", nil},
		{"partner replied", with(StPartner, held("k1")), Input{Action: ActReply, Actor: "k1", Rels: []Rel{RelCommittee}, Note: "已处理"}, StVerifying, "", "k1",
			func(t *testing.T, c Case) {
				if c.Holder != StPartner {
					t.Errorf("holder = %s", c.Holder)
				}
			}},
		{"station handled", with(StStation, held("c1")), Input{Action: ActHandled, Actor: "c1", Rels: []Rel{RelAssignee, RelChief}}, StVerifying, "", "c1", nil},
		{"officer handled", with(StGuidance, held("g1")), Input{Action: ActHandled, Actor: "g1", Rels: []Rel{RelAssignee}}, StVerifying, "", "g1", nil},
		{"handled by a stranger", with(StGuidance, held("g1")), Input{Action: ActHandled, Actor: "c1", Rels: chief}, "", EUNAUTHORIZED, "", nil},
		{"verified", with(StVerifying, holder(StGuidance), held("g1")), Input{Action: ActVerifyOK, Actor: "i1", Rels: []Rel{RelInspector}}, StClosed, "", "g1",
			func(t *testing.T, c Case) {
				if c.CloseCode != CloseResolved || c.ClosedAt.IsZero() {
					t.Errorf("closed case = %+v", c)
				}
			}},
		{"verified partly", with(StVerifying, holder(StStation)), Input{Action: ActVerifyPart, Actor: "i1", Rels: []Rel{RelInspector}}, StClosed, "", "", nil},
		{"verify by the handler", with(StVerifying, holder(StGuidance), held("g1")), Input{Action: ActVerifyOK, Actor: "g1", Rels: []Rel{RelAssignee}}, "", EUNAUTHORIZED, "", nil},
		{"verify fails back to officer", with(StVerifying, holder(StGuidance), held("g1")), Input{Action: ActVerifyFail, Actor: "i1", Rels: []Rel{RelInspector}}, StGuidance, "", "g1",
			func(t *testing.T, c Case) {
				if c.Rework != 1 {
					t.Errorf("rework = %d", c.Rework)
				}
			}},
		{"verify fails after a partner", with(StVerifying, holder(StPartner), held("k1")), Input{Action: ActVerifyFail, Actor: "i1", Rels: []Rel{RelInspector}}, StCommittee, "", "k1", nil},
		{"close not ours", with(StReported), Input{Action: ActClose, Actor: "c1", Rels: chief, Code: CloseNotOurs, Partner: "供电公司"}, StClosed, "", "", nil},
		{"close not ours unnamed", with(StReported), Input{Action: ActClose, Actor: "c1", Rels: chief, Code: CloseNotOurs}, "", EINVALID, "", nil},
		{"close resolved is not a close", with(StReported), Input{Action: ActClose, Actor: "c1", Rels: chief, Code: CloseResolved}, "", EINVALID, "", nil},
		{"close duplicate", with(StCommittee), Input{Action: ActClose, Actor: "k1", Rels: []Rel{RelCommittee}, Code: CloseDuplicate, DupOf: "DJ-20261130-004"}, StClosed, "", "", nil},
		{"chief cannot close at the committee", with(StCommittee), Input{Action: ActClose, Actor: "c1", Rels: chief, Code: CloseUnsolvable}, "", EUNAUTHORIZED, "", nil},
		{"closed stays closed", with(StClosed), Input{Action: ActClose, Actor: "k1", Rels: []Rel{RelCommittee}, Code: CloseUnsolvable}, "", ECONFLICT, "", nil},
		{"set size", with(StReported), Input{Action: ActSetSize, Actor: "c1", Rels: chief, Size: Big}, StReported, "", "",
			func(t *testing.T, c Case) {
				if c.Size != Big || !c.DueAt.Equal(base.CreatedAt.Add(7*24*time.Hour)) {
					t.Errorf("after set size: %s due %s", c.Size, c.DueAt)
				}
			}},
		{"support", with(StGuidance, held("g1")), Input{Action: ActSupport, Actor: "i2", Rels: []Rel{RelReporter}}, StGuidance, "", "g1",
			func(t *testing.T, c Case) {
				if c.Supports != 1 {
					t.Errorf("supports = %d", c.Supports)
				}
			}},
		{"remind", with(StStation, held("c1"), func(c *Case) { c.RemindAt = now }), Input{Action: ActRemind, Actor: "system", Rels: []Rel{RelSystem}}, StStation, "", "c1",
			func(t *testing.T, c Case) {
				if !c.RemindAt.IsZero() {
					t.Error("reminder not cleared")
				}
			}},
		{"remind by a person", with(StStation), Input{Action: ActRemind, Actor: "c1", Rels: chief}, "", EUNAUTHORIZED, "", nil},
		{"overdue at the station", with(StStation, held("c1")), Input{Action: ActOverdue, Actor: "system", Rels: []Rel{RelSystem}, Assignee: "g1"}, StGuidance, "", "g1",
			func(t *testing.T, c Case) {
				if !c.Overdue || c.Escalations != 1 || !c.DueAt.After(now) {
					t.Errorf("overdue case = %+v", c)
				}
			}},
		{"overdue, no officer", with(StReported), Input{Action: ActOverdue, Actor: "system", Rels: []Rel{RelSystem}}, StCommittee, "", "", nil},
		{"overdue at the officer", with(StGuidance, held("g1")), Input{Action: ActOverdue, Actor: "system", Rels: []Rel{RelSystem}}, StCommittee, "", "", nil},
		{"overdue at the committee", with(StCommittee), Input{Action: ActOverdue, Actor: "system", Rels: []Rel{RelSystem}}, StCommittee, "", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.c
			out, err := Step(tc.c, tc.in, p, now)
			if tc.err != "" {
				if ErrorCode(err) != tc.err {
					t.Fatalf("err = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.Case.Status != tc.to {
				t.Fatalf("status = %s, want %s", out.Case.Status, tc.to)
			}
			if out.Case.Assignee != tc.assignee {
				t.Fatalf("assignee = %q, want %q", out.Case.Assignee, tc.assignee)
			}
			if out.Case.Version != before.Version+1 {
				t.Fatalf("version = %d, want %d", out.Case.Version, before.Version+1)
			}
			if out.Event.Action != tc.in.Action || out.Event.From != before.Status || out.Event.To != tc.to || out.Event.Actor != tc.in.Actor {
				t.Fatalf("event = %+v", out.Event)
			}
			if tc.c != before {
				t.Fatal("Step changed its input")
			}
			if tc.check != nil {
				tc.check(t, out.Case)
			}
		})
	}
}

// Every action of the table is reachable and every row names who may act.
func TestTableIsComplete(t *testing.T) {
	seen := map[Action]bool{}
	for _, tr := range Table() {
		if len(tr.Who) == 0 || len(tr.From) == 0 || tr.apply == nil || tr.Doc == "" {
			t.Errorf("row %s is incomplete", tr.Action)
		}
		seen[tr.Action] = true
	}
	for _, a := range []Action{ActReport, ActOnSpot, ActSelf, ActCallGuidance, ActEscalate, ActAccept, ActAssign, ActTransfer,
		ActEscalateUp, ActReply, ActHandled, ActVerifyOK, ActVerifyPart, ActVerifyFail, ActClose, ActSetSize, ActSupport, ActRemind, ActOverdue} {
		if !seen[a] {
			t.Errorf("no row for %s", a)
		}
	}
	if len(DescribeTable()) != len(Table()) {
		t.Error("DescribeTable misses rows")
	}
}

func TestDeadlines(t *testing.T) {
	p := DefaultPolicy()
	at := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, p.Zone) }
	cases := []struct {
		size     Size
		from     time.Time
		due      time.Time
		remindAt time.Time
	}{
		{Small, at(1, 10, 0), at(2, 0, 0), at(1, 21, 12)}, // 24:00 the same day; 80% of 14 h
		{Small, at(1, 0, 0), at(2, 0, 0), at(1, 19, 12)},
		{Small, at(1, 23, 59), at(2, 0, 0), at(1, 23, 59).Add(48 * time.Second)},
		{Big, at(1, 10, 0), at(8, 10, 0), at(1, 10, 0).Add(time.Duration(0.8 * float64(7*24*time.Hour)))},
	}
	for _, c := range cases {
		due := p.Due(c.size, c.from)
		if !due.Equal(c.due) {
			t.Errorf("%s from %s: due %s, want %s", c.size, c.from, due, c.due)
		}
		if r := p.Remind(c.from, due); !r.Equal(c.remindAt) {
			t.Errorf("%s from %s: remind %s, want %s", c.size, c.from, r, c.remindAt)
		}
	}
}
