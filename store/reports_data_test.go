package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/bottest"
	"gridbot/bot/roster"
)

// The data of the report tests: a small hand-made month with known figures,
// and a generated month of activity across the demo roster's 5 districts.

// sh is the plan's zone.
var sh = bot.Shanghai()

// local is a time of 2026 in Asia/Shanghai.
func local(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, sh)
}

// caseWriter writes finished cases with their events straight through the
// store, numbering them per day.
type caseWriter struct {
	t   testing.TB
	db  *DB
	seq map[string]int
}

func newCaseWriter(t testing.TB, db *DB) *caseWriter {
	return &caseWriter{t: t, db: db, seq: map[string]int{}}
}

// put stores c (numbered if it has no number) and its events, in one
// transaction, and returns its id.
func (w *caseWriter) put(c bot.Case, events ...bot.Event) int64 {
	w.t.Helper()
	if c.No == "" {
		day := c.CreatedAt.In(sh).Format("20060102")
		w.seq[day]++
		c.No = fmt.Sprintf("DJ-%s-%03d", day, w.seq[day])
	}
	if c.Text == "" {
		c.Text = c.Category
	}
	c.UpdatedAt = c.CreatedAt
	if !c.ClosedAt.IsZero() {
		c.UpdatedAt = c.ClosedAt
	}
	err := w.db.Cases().InTx(context.Background(), func(tx bot.Tx) error {
		if err := tx.CreateCase(context.Background(), &c); err != nil {
			return err
		}
		for _, e := range events {
			e.CaseID = c.ID
			if e.Actor == "" {
				e.Actor = "system"
			}
			if err := tx.AddEvent(context.Background(), e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		w.t.Fatalf("put case %s: %v", c.No, err)
	}
	return c.ID
}

// ev is an event of action at t.
func ev(action bot.Action, t time.Time) bot.Event { return bot.Event{Action: action, At: t} }

// kase is a case of the demo roster's grid with a category.
func kase(grid string, created time.Time, size bot.Size) bot.Case {
	g, _ := roster.Demo().Grid(grid)
	return bot.Case{Status: bot.StReported, Source: bot.SrcPatrol, Reporter: "zhuqiang", Code: "06042",
		Category: "垃圾站（箱）满溢", Plan: "环境卫生", Dept: "环卫", Size: size, District: g.District,
		Community: g.Community, Grid: grid, Place: "测试路口", CreatedAt: created}
}

// closed returns c closed at t with code.
func closed(c bot.Case, t time.Time, code bot.CloseCode) bot.Case {
	c.Status, c.ClosedAt, c.CloseCode = bot.StClosed, t, code
	return c
}

// handMadeMonth writes November 2026 for 东城 (9 cases, a full sample) and
// 西城 (2 cases, a small one); the README's example works these figures
// out by hand, and TestReportsFigures checks them.
func handMadeMonth(t testing.TB, db *DB, rh *bottest.Rhythm) {
	w := newCaseWriter(t, db)
	p := bot.DefaultPolicy()
	due := func(c bot.Case) bot.Case { c.DueAt = p.Due(c.Size, c.CreatedAt); return c }

	// c1: small, handled and verified the same day: closed on time.
	c1 := due(kase("dc01", local(11, 2, 10, 0), bot.Small))
	w.put(closed(c1, local(11, 2, 18, 0), bot.CloseResolved),
		ev(bot.ActReport, c1.CreatedAt), ev(bot.ActHandled, local(11, 2, 15, 0)), ev(bot.ActVerifyOK, local(11, 2, 18, 0)))
	// c2: big, overdue on 12 Nov, reworked once, closed on 14 Nov: late.
	c2 := due(kase("dc02", local(11, 5, 9, 0), bot.Big))
	c2.Overdue, c2.Escalations, c2.Rework, c2.DueAt = true, 1, 1, local(11, 19, 9, 0)
	w.put(closed(c2, local(11, 14, 10, 0), bot.CloseResolved),
		ev(bot.ActReport, c2.CreatedAt), ev(bot.ActOverdue, local(11, 12, 9, 0)), ev(bot.ActHandled, local(11, 13, 9, 0)),
		ev(bot.ActVerifyFail, local(11, 13, 15, 0)), ev(bot.ActHandled, local(11, 14, 9, 0)), ev(bot.ActVerifyOK, local(11, 14, 10, 0)))
	// c3: closed by the chief as unsolvable (挂账).
	c3 := due(kase("dc03", local(11, 10, 9, 0), bot.Big))
	w.put(closed(c3, local(11, 11, 9, 0), bot.CloseUnsolvable), ev(bot.ActReport, c3.CreatedAt), ev(bot.ActClose, local(11, 11, 9, 0)))
	// c4: big, overdue on 27 Nov (its deadline moved to 4 Dec), still open.
	c4 := due(kase("dc04", local(11, 20, 9, 0), bot.Big))
	c4.Status, c4.Assignee, c4.Overdue, c4.Escalations, c4.DueAt = bot.StGuidance, "jiangtao", true, 1, local(12, 4, 9, 0)
	w.put(c4, ev(bot.ActReport, c4.CreatedAt), ev(bot.ActOverdue, local(11, 27, 9, 0)))
	// c5: big, due 2 Dec, open: not yet due.
	c5 := due(kase("dc01", local(11, 25, 9, 0), bot.Big))
	c5.Status, c5.Assignee = bot.StStation, "zhangwei"
	w.put(c5, ev(bot.ActReport, c5.CreatedAt))
	// c6: filed in October, overdue then, closed on 3 Nov: late.
	c6 := due(kase("dc02", local(10, 20, 9, 0), bot.Big))
	c6.Overdue, c6.Escalations, c6.DueAt = true, 1, local(11, 3, 9, 0)
	w.put(closed(c6, local(11, 3, 8, 0), bot.CloseResolved), ev(bot.ActReport, c6.CreatedAt), ev(bot.ActOverdue, local(10, 27, 9, 0)),
		ev(bot.ActHandled, local(11, 2, 9, 0)), ev(bot.ActVerifyOK, local(11, 3, 8, 0)))
	// c7: small, due 29 Nov 00:00, closed on 1 Dec: open and due at the end of November.
	c7 := due(kase("dc03", local(11, 28, 9, 0), bot.Small))
	w.put(closed(c7, local(12, 1, 1, 0), bot.CloseResolved), ev(bot.ActReport, c7.CreatedAt))
	// c8: handled on the spot.
	c8 := due(kase("dc04", local(11, 15, 9, 0), bot.Small))
	c8.OnSpot = true
	w.put(closed(c8, c8.CreatedAt, bot.CloseResolved), ev(bot.ActOnSpot, c8.CreatedAt))
	// c9: escalated to the committee, closed as not ours within its deadline.
	c9 := due(kase("dc01", local(11, 8, 9, 0), bot.Big))
	c9.Partner, c9.Source, c9.ResidentName, c9.ResidentPhone = "police", bot.SrcResident, "王大爷", "13800138000"
	w.put(closed(c9, local(11, 9, 10, 0), bot.CloseNotOurs), ev(bot.ActReport, c9.CreatedAt),
		ev(bot.ActEscalate, local(11, 8, 11, 0)), ev(bot.ActClose, local(11, 9, 10, 0)),
		bot.Event{Action: bot.ActHandled, At: local(11, 9, 9, 0), Denied: true}) // refused: not counted

	// c10: filed on 1 December, due at 24:00 that day: not November's.
	c10 := due(kase("dc02", local(12, 1, 8, 0), bot.Small))
	w.put(c10, ev(bot.ActReport, c10.CreatedAt))

	// 西城: two cases closed on time.
	for _, d := range []int{3, 6} {
		x := due(kase("xc01", local(11, d, 9, 0), bot.Small))
		x.Reporter = "zhaolei"
		w.put(closed(x, local(11, d, 17, 0), bot.CloseResolved),
			ev(bot.ActReport, x.CreatedAt), ev(bot.ActHandled, local(11, d, 16, 0)), ev(bot.ActVerifyOK, local(11, d, 17, 0)))
	}

	// Patrols: dc01 every day (twice on the 1st), dc02 on 1–15 Nov, dc04
	// every day but never counting; xc01 every day.
	for d := 1; d <= 30; d++ {
		day := local(11, d, 8, 0)
		rh.AddPatrols(patrol("zhuqiang", "dc01", day, true), patrol("luolin", "dc04", day, false), patrol("zhaolei", "xc01", day, true))
		if d <= 15 {
			rh.AddPatrols(patrol("huyumei", "dc02", day, true))
		}
	}
	rh.AddPatrols(patrol("zhuqiang", "dc01", local(11, 1, 15, 0), true), patrol("zhuqiang", "dc01", local(10, 31, 8, 0), true))

	// Visits in the four weeks of November (2–8, 9–15, 16–22, 23–29 Nov):
	// 蒋涛 both communities every week, 程浩 东盛 in the first two, 范晓东
	// 朝阳 twice in the first; and two outside November's weeks.
	for wk := 0; wk < 4; wk++ {
		at := local(11, 3+7*wk, 10, 0)
		rh.AddVisits(visit("jiangtao", "dongsheng", at), visit("jiangtao", "chaoyang", at.Add(time.Hour)))
		if wk < 2 {
			rh.AddVisits(visit("chenghao", "dongsheng", at))
		}
	}
	rh.AddVisits(visit("fanxiaodong", "chaoyang", local(11, 4, 10, 0)), visit("fanxiaodong", "chaoyang", local(11, 5, 10, 0)),
		visit("chenghao", "chaoyang", local(11, 30, 10, 0)), visit("chenghao", "chaoyang", local(11, 1, 10, 0)))

	// Activities: 蒋涛 in 东城 in November; 苏梅's is in 北苑; 程浩's is October's.
	rh.AddActivities(
		bot.Activity{UserID: "jiangtao", Dept: "环卫", District: "dongcheng", Month: "2026-11", Kind: "law", Topic: "垃圾分类", At: local(11, 10, 9, 0)},
		bot.Activity{UserID: "sumei", Dept: "园林", District: "beiyuan", Month: "2026-11", Kind: "service", Topic: "绿化咨询", At: local(11, 11, 9, 0)},
		bot.Activity{UserID: "chenghao", Dept: "住建", District: "dongcheng", Month: "2026-10", Kind: "law", Topic: "违建治理", At: local(11, 2, 9, 0)},
	)
}

// patrol is a one-hour patrol of grid starting at start.
func patrol(user, grid string, start time.Time, counts bool) bot.Patrol {
	g, _ := roster.Demo().Grid(grid)
	return bot.Patrol{UserID: user, Grid: grid, District: g.District, Day: start.In(sh).Format(time.DateOnly),
		StartedAt: start, EndedAt: start.Add(time.Hour), Points: 6, Counts: counts, Source: "chat"}
}

// visit is an officer's sign-in at a community.
func visit(user, community string, at time.Time) bot.Visit {
	r := roster.Demo()
	p, _ := r.Person(user)
	c, _ := r.Community(community)
	return bot.Visit{UserID: user, Dept: string(p.Dept), District: c.District, Community: community,
		Day: at.In(sh).Format(time.DateOnly), At: at}
}

// categories are what the generated cases are about.
var genCategories = []struct {
	code, name, plan, dept string
	size                   bot.Size
}{
	{"06042", "垃圾站（箱）满溢", "环境卫生", "环卫", bot.Small},
	{"06001", "暴露垃圾", "环境卫生", "环卫", bot.Small},
	{"09006", "占道经营", "市容管理", "执法", bot.Small},
	{"09012", "乱堆物料", "市容管理", "执法", bot.Small},
	{"08001", "违章建筑", "建设管理", "住建", bot.Big},
	{"04003", "绿地脏乱", "园林绿化", "园林", bot.Small},
	{"01013", "道路破损", "市政设施", "住建", bot.Big},
}

// genMonth writes a month of activity across the demo roster, as it stands
// at horizon: cases from 20 October on (those still open at horizon are
// open, overdue when past their deadline), their events, and the patrols,
// visits and activities of the same days. The same seed and horizon give
// the same data.
func genMonth(t testing.TB, db *DB, rh *bottest.Rhythm, horizon time.Time, seed uint64) {
	t.Helper()
	r := roster.Demo()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w := newCaseWriter(t, db)
	p := bot.DefaultPolicy()
	start := local(10, 20, 0, 0)
	for day := start; day.Before(horizon); day = day.AddDate(0, 0, 1) {
		for _, dist := range r.Districts {
			grids := r.GridsOf(dist.ID)
			for n := 2 + rng.IntN(5); n > 0; n-- {
				created := day.Add(7*time.Hour + time.Duration(rng.IntN(12*60))*time.Minute)
				if !created.Before(horizon) {
					continue
				}
				g := grids[rng.IntN(len(grids))]
				cat := genCategories[rng.IntN(len(genCategories))]
				if g.ID == grids[0].ID && rng.IntN(3) == 0 {
					cat = genCategories[0] // a hotspot
				}
				genCase(w, r, rng, p, g, cat, created, horizon)
			}
		}
		genRhythm(r, rh, rng, day, horizon)
	}
}

func genCase(w *caseWriter, r *roster.Roster, rng *rand.Rand, p bot.Policy, g roster.Grid, cat struct {
	code, name, plan, dept string
	size                   bot.Size
}, created, horizon time.Time) {
	c := bot.Case{Status: bot.StReported, Source: bot.SrcPatrol, Code: cat.code, Category: cat.name, Plan: cat.plan,
		Dept: cat.dept, Size: cat.size, District: g.District, Community: g.Community, Grid: g.ID,
		Place: g.Name + "路口", Text: g.Name + cat.name, CreatedAt: created}
	if is := r.InspectorsOf(g.ID); len(is) > 0 {
		c.Reporter = is[0].UserID
	}
	switch x := rng.IntN(10); {
	case x < 2:
		c.Source, c.ResidentName, c.ResidentPhone = bot.SrcResident, "居民"+fmt.Sprint(rng.IntN(90)+10), fmt.Sprintf("139%08d", rng.IntN(1e8))
	case x < 3:
		c.Source = bot.SrcHotline
	}
	c.DueAt = p.Due(c.Size, created)
	events := []bot.Event{{Action: bot.ActReport, At: created, Actor: c.Reporter}}
	chiefs := r.Chiefs(g.District)
	officers := r.Guidance(g.District, roster.Dept(cat.dept))

	if c.Size == bot.Small && rng.IntN(10) == 0 {
		c.OnSpot, c.Status, c.ClosedAt, c.CloseCode = true, bot.StClosed, created, bot.CloseResolved
		events[0].Action = bot.ActOnSpot
		w.put(c, events...)
		return
	}
	delay := time.Duration(2+rng.IntN(28)) * time.Hour
	if c.Size == bot.Big {
		delay = time.Duration(24+rng.IntN(9*24)) * time.Hour
	}
	end := created.Add(delay)
	if rng.IntN(10) == 0 {
		events = append(events, bot.Event{Action: bot.ActEscalate, At: created.Add(30 * time.Minute), Actor: chiefs[0].UserID})
	}
	// The clock marks the case overdue at each deadline it passes while open.
	for due := c.DueAt; due.Before(end) && due.Before(horizon); due = p.Due(c.Size, due) {
		c.Overdue = true
		c.Escalations++
		events = append(events, bot.Event{Action: bot.ActOverdue, At: due})
		c.DueAt = p.Due(c.Size, due)
	}
	if end.Before(horizon) {
		code := bot.CloseResolved
		switch x := rng.IntN(100); {
		case x < 4:
			code = bot.CloseUnsolvable
		case x < 7:
			code = bot.CloseNotOurs
		case x < 10:
			code = bot.ClosePartial
		}
		if code == bot.CloseResolved || code == bot.ClosePartial {
			if rng.IntN(8) == 0 {
				c.Rework = 1
				events = append(events, bot.Event{Action: bot.ActHandled, At: end.Add(-3 * time.Hour)},
					bot.Event{Action: bot.ActVerifyFail, At: end.Add(-2 * time.Hour), Actor: c.Reporter, Note: "还没处理完"})
			}
			events = append(events, bot.Event{Action: bot.ActHandled, At: end.Add(-time.Hour)},
				bot.Event{Action: bot.ActVerifyOK, At: end, Actor: c.Reporter})
		} else {
			events = append(events, bot.Event{Action: bot.ActClose, At: end, Actor: chiefs[0].UserID})
		}
		if code == bot.CloseNotOurs {
			c.Partner = "police"
		}
		c.Status, c.ClosedAt, c.CloseCode = bot.StClosed, end, code
		w.put(c, events...)
		return
	}
	switch x := rng.IntN(6); {
	case x == 0:
		c.Status = bot.StReported
	case x == 1:
		c.Status, c.Assignee = bot.StStation, chiefs[0].UserID
	case x == 2 && len(officers) > 0:
		c.Status, c.Assignee = bot.StGuidance, officers[0].UserID
	case x == 3:
		c.Status = bot.StCommittee
	default:
		c.Status, c.Holder = bot.StVerifying, bot.StStation
		events = append(events, bot.Event{Action: bot.ActHandled, At: created.Add(delay / 2)})
	}
	w.put(c, events...)
}

// genRhythm records one day's patrols (most grids, some not counting),
// visits (each duty about once a week) and, on the 10th, activities.
func genRhythm(r *roster.Roster, rh *bottest.Rhythm, rng *rand.Rand, day, horizon time.Time) {
	for _, g := range r.Grids {
		start := day.Add(8*time.Hour + time.Duration(rng.IntN(120))*time.Minute)
		if rng.IntN(10) == 0 || !start.Before(horizon) {
			continue
		}
		is := r.InspectorsOf(g.ID)
		rh.AddPatrols(patrol(is[0].UserID, g.ID, start, rng.IntN(20) != 0))
	}
	for _, dist := range r.Districts {
		for _, duty := range bot.VisitDuties(r, dist.ID) {
			at := day.Add(9*time.Hour + time.Duration(rng.IntN(8*60))*time.Minute)
			if rng.IntN(6) == 0 && at.Before(horizon) {
				rh.AddVisits(visit(duty.Officer.UserID, duty.Community.ID, at))
			}
		}
		if day.Day() == 10 {
			for _, o := range r.Guidance(dist.ID, "") {
				at := day.Add(14 * time.Hour)
				if rng.IntN(4) != 0 && at.Before(horizon) {
					rh.AddActivities(bot.Activity{UserID: o.UserID, Dept: string(o.Dept), District: dist.ID,
						Month: at.Format("2006-01"), Kind: []string{"law", "service"}[rng.IntN(2)], Topic: "宣传", Place: dist.Name,
						Attendance: 10 + rng.IntN(40), At: at})
				}
			}
		}
	}
}
