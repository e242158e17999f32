package store

import (
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/bottest"
	"gridbot/bot/roster"
	"gridbot/templates"
)

var updateReports = flag.Bool("update", false, "rewrite the report golden files")

// The reports: figures of a hand-made month checked against values worked
// out by hand, digests and packs of a generated month against golden files,
// and the reporter's once-per-chat-per-period promise, on SQLite and (with
// GRIDBOT_TEST_MYSQL_DSN) MySQL/MariaDB.

func TestReportsFigures(t *testing.T)    { forEachSQL(t, testReportsFigures) }
func TestReportsDigests(t *testing.T)    { forEachSQL(t, testReportsDigests) }
func TestReporterSendsOnce(t *testing.T) { forEachSQL(t, testReporterSendsOnce) }
func TestReportsQueries(t *testing.T)    { forEachSQL(t, testReportsQueries) }

// newReporter is a reporter on e's store and clock.
func newReporter(e env, rh bot.Rhythm, r *roster.Roster, owner string) *bot.Reporter {
	return &bot.Reporter{Store: e.db.Reports(), Rhythm: rh, Outbox: e.db.Outbox(), Leases: e.db.Leases(),
		T: templates.MustLoad(), Roster: r, Clock: e.clock, Zone: sh, Owner: owner}
}

// near fails unless got is within 1e-9 of want.
func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func testReportsFigures(t *testing.T, open opener) {
	e := open(t)
	rh := &bottest.Rhythm{}
	handMadeMonth(t, e.db, rh)
	nov, err := bot.ParseMonth("2026-11", sh)
	must(t, err)
	ctx := t.Context()

	t.Run("period figures", func(t *testing.T) {
		figs, err := e.db.Reports().Period(ctx, nov.From, nov.To, local(12, 1, 8, 30))
		must(t, err)
		got := map[string]bot.PeriodFigures{}
		for _, f := range figs {
			got[f.District] = f
		}
		want := map[string]bot.PeriodFigures{
			// Filed c1 c2 c3 c4 c5 c7 c8 c9; closed c1 c2 c3 c6 c8 c9 (c3 挂账); on time c1 c8 c9;
			// open and due c4 (overdue on 27 Nov) and c7 (closed on 1 Dec); handled c1 once, c2
			// twice, c6 once (c9's refused attempt is not counted); reworked c2; escalated c9;
			// overdue c2 c4 (c6's was in October).
			"dongcheng": {District: "dongcheng", Filed: 8, OnSpot: 1, Closed: 6, Unsolvable: 1, OnTime: 3, OpenDue: 2,
				Handled: 4, Reworked: 1, Escalated: 1, OverdueEvents: 2},
			"xicheng": {District: "xicheng", Filed: 2, Closed: 2, OnTime: 2, Handled: 2},
		}
		if len(got) != len(want) {
			t.Errorf("figures of %d districts, want %d: %+v", len(got), len(want), figs)
		}
		for d, w := range want {
			if got[d] != w {
				t.Errorf("%s:\n got %+v\nwant %+v", d, got[d], w)
			}
		}
		if f := got["dongcheng"]; f.Due() != 8 || f.Late() != 4 {
			t.Errorf("东城 应结案数 %d, 逾期数 %d; want 8 and 4", f.Due(), f.Late())
		}
	})

	t.Run("assessment", func(t *testing.T) {
		rep := newReporter(e, rh, roster.Demo(), "a")
		a, err := rep.Assessment(ctx, nov, local(12, 1, 8, 30))
		must(t, err)
		if a.Partial() {
			t.Error("November assessed on 1 December is partial")
		}
		rows := map[string]bot.AssessRow{}
		for _, r := range a.Rows {
			rows[r.District] = r
		}
		dc, xc := rows["dongcheng"], rows["xicheng"]
		// 东城: 结案率 6/8, 按期结案率 3/(8−1), 返工率 1/4, patrols 45/120 grid-days,
		// visits 11/32 officer-community-weeks, activities 1/4 officers.
		near(t, "东城 结案率", dc.Closure.Rate, 6.0/8)
		near(t, "东城 按期结案率", dc.OnTime.Rate, 3.0/7)
		near(t, "东城 返工率", dc.Rework.Rate, 1.0/4)
		near(t, "东城 巡查覆盖率", dc.Patrol.Rate, 45.0/120)
		near(t, "东城 走访完成率", dc.Visits.Rate, 11.0/32)
		near(t, "东城 活动开展率", dc.Acts.Rate, 1.0/4)
		// (20×75 + 30×42.857… + 10×75 + 20×37.5 + 10×34.375 + 10×25) / 100 = 48.79
		if dc.Score != 48.8 || dc.Grade != "D" || dc.Rank != 1 || dc.Small {
			t.Errorf("东城 scores %v %s, rank %d, small %v; want 48.8 D, rank 1, full sample", dc.Score, dc.Grade, dc.Rank, dc.Small)
		}
		// 西城 has 2 cases due (< 5): its case indicators count at the full-sample
		// average (东城's): (1500 + 1285.714 + 750 + 20×25 + 0 + 0) / 100 = 40.36.
		if !xc.Small || !xc.Closure.Average || xc.Closure.Num != 2 || xc.Closure.Den != 2 {
			t.Errorf("西城 closure %+v, small %v; want a small sample counted at the average", xc.Closure, xc.Small)
		}
		near(t, "西城 结案率 (average)", xc.Closure.Rate, 6.0/8)
		near(t, "西城 巡查覆盖率", xc.Patrol.Rate, 30.0/120)
		if xc.Score != 40.4 || xc.Grade != "D" || xc.Rank != 2 {
			t.Errorf("西城 scores %v %s rank %d; want 40.4 D rank 2", xc.Score, xc.Grade, xc.Rank)
		}
		// 北苑: no cases, patrols or visits, but 苏梅's activity (1 of 4 officers):
		// (1500 + 1285.714 + 750 + 10×25) / 100 = 37.86. 南苑 and 中心: nothing at
		// all: (1500 + 1285.714 + 750) / 100 = 35.36, sharing 4th place.
		for d, want := range map[string]struct {
			score float64
			grade string
			rank  int
		}{"beiyuan": {37.9, "E", 3}, "nanyuan": {35.4, "E", 4}, "zhongxin": {35.4, "E", 4}} {
			if r := rows[d]; r.Score != want.score || r.Grade != want.grade || r.Rank != want.rank || !r.Small {
				t.Errorf("%s: %v %s rank %d small %v; want %v %s rank %d, small", d, r.Score, r.Grade, r.Rank, r.Small, want.score, want.grade, want.rank)
			}
		}
		if v, ok := (bot.Ratio{Done: 11, Total: 176}).Rate(); !ok || math.Abs(a.Total.Visits.Rate-v) > 1e-9 {
			t.Errorf("subdistrict visits %v, want 11/176", a.Total.Visits.Rate)
		}
		near(t, "subdistrict 结案率", a.Total.Closure.Rate, 8.0/10)
		near(t, "subdistrict 按期结案率", a.Total.OnTime.Rate, 5.0/9)
	})

	t.Run("a month in progress", func(t *testing.T) {
		rep := newReporter(e, rh, roster.Demo(), "a")
		// On 16 Nov at 08:30: 15 days and 2 weeks have ended.
		a, err := rep.Assessment(ctx, nov, local(11, 16, 8, 30))
		must(t, err)
		if !a.Partial() {
			t.Error("November assessed on 16 November is not partial")
		}
		for _, r := range a.Rows {
			if r.District == "dongcheng" {
				// dc01 and dc02 on each of 15 days of 4 grids; visits: 蒋涛 4, 程浩 2, 范晓东 1 of 16.
				if r.Patrol.Num != 30 || r.Patrol.Den != 60 || r.Visits.Num != 7 || r.Visits.Den != 16 {
					t.Errorf("东城 on 16 Nov: patrols %d/%d, visits %d/%d; want 30/60 and 7/16",
						r.Patrol.Num, r.Patrol.Den, r.Visits.Num, r.Visits.Den)
				}
			}
		}
	})
}

// outboxText is the markdown of a chat message in the outbox.
func outboxText(t *testing.T, it bot.OutboxItem) string {
	t.Helper()
	var body struct {
		Markdown *bot.Markdown `json:"markdown"`
	}
	must(t, json.Unmarshal(it.Payload, &body))
	if body.Markdown == nil {
		t.Fatalf("%s is not markdown: %s", it.Key, it.Payload)
	}
	return body.Markdown.Content
}

// reportItems are the outbox's report messages, by key.
func reportItems(t *testing.T, e env) []bot.OutboxItem {
	t.Helper()
	items, err := e.db.Outbox().List(t.Context(), "", 10000)
	must(t, err)
	items = slices.DeleteFunc(items, func(it bot.OutboxItem) bool {
		return !strings.HasPrefix(it.Key, "digest:") && !strings.HasPrefix(it.Key, "weekly:") && !strings.HasPrefix(it.Key, "monthly:")
	})
	slices.SortFunc(items, func(a, b bot.OutboxItem) int { return strings.Compare(a.Key, b.Key) })
	return items
}

// phoneRe finds an unmasked mobile number.
var phoneRe = regexp.MustCompile(`1[3-9]\d{9}`)

// golden compares got with testdata/reports/name.golden (-update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "reports", name+".golden")
	if *updateReports {
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
		must(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./store -run TestReports -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n%s", name, path, got)
	}
}

func testReportsDigests(t *testing.T, open opener) {
	for _, sc := range []struct {
		name string
		now  time.Time
		want int // messages: 6 digests, and 6 packs on a Monday or the 1st
	}{
		{"monday", local(11, 30, 8, 30), 12}, // the digests and the weekly pack of 23–29 Nov
		{"first", local(12, 1, 8, 30), 12},   // the digests and the monthly pack of November
		{"wednesday", local(11, 18, 9, 0), 6},
	} {
		t.Run(sc.name, func(t *testing.T) {
			e := open(t)
			rh := &bottest.Rhythm{}
			genMonth(t, e.db, rh, sc.now, 7)
			r := roster.Demo()
			// The committee's chat has no robot here: it gets an app chat message (2048 bytes at most).
			for i := range r.Chats {
				if r.Chats[i].District == "" {
					r.Chats[i].Robot = ""
				}
			}
			setClock(e.clock, sc.now)
			rep := newReporter(e, rh, r, "a")
			if sc.name == "wednesday" {
				// 西城's robot has no webhook key configured: its chat gets app chat messages.
				rep.Robots = map[string]bool{}
				for _, c := range r.Chats {
					if c.District != "xicheng" {
						rep.Robots[c.Robot] = true
					}
				}
			}
			n, err := rep.RunOnce(t.Context())
			must(t, err)
			if n != sc.want {
				t.Fatalf("queued %d messages, want %d", n, sc.want)
			}
			var all strings.Builder
			for _, it := range reportItems(t, e) {
				text := outboxText(t, it)
				limit, kind := bot.MaxRobotMarkdown, bot.OutWebhook
				if strings.Contains(it.Key, ":DJcommittee:") || (sc.name == "wednesday" && strings.Contains(it.Key, ":DJxicheng:")) {
					limit, kind = bot.MaxAppChatMarkdown, bot.OutAppChat
				}
				if it.Kind != kind || len(text) > limit {
					t.Errorf("%s: %s of %d bytes; want %s of at most %d", it.Key, it.Kind, len(text), kind, limit)
				}
				if m := phoneRe.FindString(text); m != "" {
					t.Errorf("%s shows a phone number %s", it.Key, m)
				}
				all.WriteString("== " + it.Key + " (" + string(it.Kind) + " " + it.Recipient + ")\n" + text + "\n\n")
				// One chat's digest made on its own is the one the run sent.
				if strings.HasPrefix(it.Key, "digest:") {
					for _, c := range r.Chats {
						if it.Key == bot.ReportKey(bot.ReportDigest, c.ID, bot.DayPeriod(sc.now, sh)) {
							one, err := rep.Digest(t.Context(), c, sc.now)
							must(t, err)
							if one != text {
								t.Errorf("%s alone:\n%s\nin the run:\n%s", c.ID, one, text)
							}
						}
					}
				}
			}
			golden(t, "digests_"+sc.name, all.String())
		})
	}
}

// unsentStore forgets what was sent, as a reporter that raced another
// between its check and its send would.
type unsentStore struct{ *Reports }

func (unsentStore) Sent(context.Context, []string) (map[string]bool, error) { return nil, nil }

func testReporterSendsOnce(t *testing.T, open opener) {
	e := open(t)
	rh := &bottest.Rhythm{}
	genMonth(t, e.db, rh, local(11, 30, 8, 0), 11)
	r := roster.Demo()
	ctx := t.Context()
	count := func(prefix string) int {
		n := 0
		for _, it := range reportItems(t, e) {
			if strings.HasPrefix(it.Key, prefix) {
				n++
			}
		}
		return n
	}
	a, b := newReporter(e, rh, r, "instance-a"), newReporter(e, rh, r, "instance-b")
	run := func(rep *bot.Reporter, want int) {
		t.Helper()
		n, err := rep.RunOnce(ctx)
		must(t, err)
		if n != want {
			t.Fatalf("%s queued %d, want %d", rep.Owner, n, want)
		}
	}

	setClock(e.clock, local(11, 30, 8, 29)) // Monday, before 08:30
	run(a, 0)
	run(b, 0)
	setClock(e.clock, local(11, 30, 8, 30))
	run(a, 12) // 6 digests and 6 weekly packs
	run(b, 0)  // a holds the lease
	run(a, 0)  // sent already
	e.clock.Advance(10 * time.Minute)
	run(b, 0) // b leads now (a's lease ran out) and finds everything sent
	restarted := newReporter(e, rh, r, "instance-a")
	run(restarted, 0)
	// Even a reporter that believes nothing was sent adds nothing: the keys are unique.
	racer := newReporter(e, rh, r, "instance-b")
	racer.Store = unsentStore{e.db.Reports()}
	if _, err := racer.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count("digest:"); got != 6 {
		t.Errorf("%d digests, want 6 (one per chat)", got)
	}
	if got := count("weekly:"); got != 6 {
		t.Errorf("%d weekly packs, want 6", got)
	}
	for _, it := range reportItems(t, e) {
		if !strings.HasSuffix(it.Key, ":2026-11-30") && !strings.HasSuffix(it.Key, ":2026-W48") {
			t.Errorf("unexpected key %s", it.Key)
		}
	}

	setClock(e.clock, local(12, 1, 8, 29))
	run(b, 0)
	setClock(e.clock, local(12, 1, 9, 15)) // late, but the same day: sent
	run(b, 12)
	if got := count("monthly:"); got != 6 {
		t.Errorf("%d monthly packs, want 6", got)
	}
	if got := count("digest:"); got != 12 {
		t.Errorf("%d digests after two days, want 12", got)
	}
}

func testReportsQueries(t *testing.T, open opener) {
	e := open(t)
	rh := &bottest.Rhythm{}
	handMadeMonth(t, e.db, rh)
	rs := e.db.Reports()
	ctx := t.Context()

	t.Run("day counts", func(t *testing.T) {
		// On 1 Dec at noon: c4 (overdue), c5 and c10 (due at 24:00) are open;
		// on 1 Dec c10 was filed and c7 closed.
		now := local(12, 1, 12, 0)
		counts, err := rs.DayCounts(ctx, "dongcheng", local(12, 1, 0, 0), local(12, 2, 0, 0), now, local(12, 2, 0, 0))
		must(t, err)
		want := []bot.DayCounts{{District: "dongcheng", New: 1, Closed: 1, Open: 3, DueToday: 1, Overdue: 1}}
		if !slices.Equal(counts, want) {
			t.Errorf("DayCounts = %+v, want %+v", counts, want)
		}
		all, err := rs.DayCounts(ctx, "", local(11, 3, 0, 0), local(11, 4, 0, 0), now, local(12, 2, 0, 0))
		must(t, err)
		got := map[string]bot.DayCounts{}
		for _, c := range all {
			got[c.District] = c
		}
		if got["dongcheng"].Closed != 1 || got["xicheng"].New != 1 || got["xicheng"].Closed != 1 {
			t.Errorf("3 Nov: %+v; want 东城 1 closed (c6), 西城 1 filed and closed", all)
		}
	})

	t.Run("attention", func(t *testing.T) {
		now := local(12, 1, 12, 0)
		att, err := rs.Attention(ctx, "dongcheng", now, local(12, 2, 0, 0), 10)
		must(t, err)
		nos := func(list []bot.CaseBrief) []string {
			var out []string
			for _, k := range list {
				out = append(out, k.No)
				if k.District != "dongcheng" {
					t.Errorf("%s of %s in 东城's list", k.No, k.District)
				}
			}
			return out
		}
		if got := nos(att.Overdue); !slices.Equal(got, []string{"DJ-20261120-001"}) {
			t.Errorf("overdue %v, want c4", got)
		}
		if got := nos(att.DueToday); !slices.Equal(got, []string{"DJ-20261201-001"}) {
			t.Errorf("due today %v, want c10", got)
		}
		if len(att.Verifying) != 0 {
			t.Errorf("verifying %v, want none", nos(att.Verifying))
		}
	})

	t.Run("filed and hotspots", func(t *testing.T) {
		filed, err := rs.Filed(ctx, local(11, 1, 0, 0), local(12, 1, 0, 0))
		must(t, err)
		n := map[string]int{}
		for _, f := range filed {
			n[f.District+"/"+string(f.Source)] += f.N
		}
		if n["dongcheng/patrol"] != 7 || n["dongcheng/resident"] != 1 || n["xicheng/patrol"] != 2 {
			t.Errorf("filed %+v", filed)
		}
		hot, err := rs.Hotspots(ctx, local(11, 1, 0, 0), local(12, 1, 0, 0), 3)
		must(t, err)
		// dc01: c1, c5, c9 (the same code).
		if len(hot) != 1 || hot[0].Grid != "dc01" || hot[0].N != 3 || hot[0].Code != "06042" {
			t.Errorf("hotspots %+v, want dc01 × 3", hot)
		}
	})

	t.Run("ledger cases in batches", func(t *testing.T) {
		var nos []string
		batches := 0
		err := rs.LedgerCases(ctx, local(11, 1, 0, 0), local(12, 1, 0, 0), 3, func(page []bot.LedgerCase) error {
			batches++
			for _, k := range page {
				nos = append(nos, k.No)
				if len(k.Events) == 0 {
					t.Errorf("%s has no events", k.No)
				}
			}
			return nil
		})
		must(t, err)
		if len(nos) != 10 || batches != 4 || !slices.IsSorted(nos[:1]) {
			t.Errorf("%d cases in %d batches: %v; want 10 in 4", len(nos), batches, nos)
		}
		if nos[0] != "DJ-20261102-001" || nos[len(nos)-1] != "DJ-20261128-001" {
			t.Errorf("ledger order %v", nos)
		}
	})

	t.Run("sent", func(t *testing.T) {
		must(t, e.db.Outbox().Enqueue(ctx, bot.NewAppChatMarkdown("digest:c1:2026-11-02", "c1", "x")))
		got, err := rs.Sent(ctx, []string{"digest:c1:2026-11-02", "digest:c1:2026-11-03"})
		must(t, err)
		if !got["digest:c1:2026-11-02"] || got["digest:c1:2026-11-03"] || len(got) != 1 {
			t.Errorf("Sent = %v", got)
		}
	})
}

// setClock sets the store's clock.
func setClock(c *fakeClock, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
