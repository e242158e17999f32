package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/bot"
)

// The contract of bot.Cases and of the case methods of bot.Tx, on SQLite and
// (with GRIDBOT_TEST_MYSQL_DSN) on MySQL/MariaDB.

func TestCasesContract(t *testing.T) { forEachSQL(t, testCases) }

// shanghai is the zone case numbers are counted in.
var shanghai = time.FixedZone("CST", 8*3600)

// fullCase returns a case with every field set to something other than its
// zero value: Unicode text, floats with many digits, times at millisecond
// precision in a zone other than UTC, both bools true.
func fullCase(no string, at time.Time) bot.Case {
	at = at.In(shanghai)
	return bot.Case{
		No:            no,
		Status:        bot.StReported,
		Source:        bot.SrcResident,
		Reporter:      "wangwu",
		Receiver:      "zhaoliu",
		ResidentName:  "李四",
		ResidentPhone: "13800138000",
		Code:          "0101",
		Category:      "暴露垃圾",
		Plan:          "环境卫生",
		Dept:          "环卫",
		Size:          bot.Big,
		District:      "第一管区",
		Community:     "幸福社区",
		Grid:          "网格-03",
		Lat:           31.230416123456789,
		Lng:           121.473701987654321,
		Place:         "人民路 128 号门口",
		Text:          "垃圾堆放，气味难闻 🚮\n第二行 \"quoted\" 'single' \\ back",
		Holder:        bot.StGuidance,
		Assignee:      "sunqi",
		Partner:       "供电公司",
		DueAt:         at.Add(7*24*time.Hour + 123*time.Millisecond),
		RemindAt:      at.Add(6*24*time.Hour + 7*time.Millisecond),
		Overdue:       true,
		Escalations:   2,
		Rework:        1,
		Supports:      3,
		OnSpot:        true,
		CloseCode:     bot.ClosePartial,
		CloseNote:     "部分解决：已清运，待复查",
		DupOf:         "DJ-20250301-009",
		ClosedAt:      at.Add(8*24*time.Hour + 999*time.Millisecond),
		CreatedAt:     at.Add(-time.Hour + 1*time.Millisecond),
		UpdatedAt:     at.Add(-time.Minute + 2*time.Millisecond),
	}
}

// inUTC returns c with its times in UTC, as the store returns them.
func inUTC(c bot.Case) bot.Case {
	for _, p := range []*time.Time{&c.DueAt, &c.RemindAt, &c.ClosedAt, &c.CreatedAt, &c.UpdatedAt} {
		if !p.IsZero() {
			*p = p.UTC()
		}
	}
	return c
}

// sameCase fails the test unless got equals want field by field.
func sameCase(t *testing.T, got, want bot.Case) {
	t.Helper()
	got, want = inUTC(got), inUTC(want)
	if reflect.DeepEqual(got, want) {
		return
	}
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			t.Errorf("case field %s = %#v, want %#v", gv.Type().Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
	t.FailNow()
}

// inTx runs fn in a transaction of cs and fails the test on error.
func inTx(t *testing.T, cs *Cases, fn func(tx bot.Tx) error) {
	t.Helper()
	must(t, cs.InTx(t.Context(), fn))
}

// create stores c (with version 1) and returns it as stored.
func create(t *testing.T, cs *Cases, c bot.Case) bot.Case {
	t.Helper()
	inTx(t, cs, func(tx bot.Tx) error { return tx.CreateCase(t.Context(), &c) })
	return c
}

// caseNos returns the numbers of cases, in order.
func caseNos(cases []bot.Case) []string {
	out := make([]string, len(cases))
	for i, c := range cases {
		out[i] = c.No
	}
	return out
}

// offset returns the point north and east meters from (lat, lng).
func offset(lat, lng, north, east float64) (float64, float64) {
	const deg = 180 / math.Pi
	return lat + north/earthRadiusM*deg, lng + east/(earthRadiusM*math.Cos(lat/deg))*deg
}

func testCases(t *testing.T, open opener) {
	t.Run("case numbers count per prefix and day", func(t *testing.T) {
		e := open(t)
		cs := e.db.Cases()
		day1 := time.Date(2025, 3, 3, 9, 0, 0, 0, shanghai)
		// 01:30 on the 4th in Shanghai is still the 3rd in UTC: not converted.
		day2 := time.Date(2025, 3, 4, 1, 30, 0, 0, shanghai)
		var got []string
		inTx(t, cs, func(tx bot.Tx) error {
			for _, d := range []struct {
				prefix string
				day    time.Time
			}{{"DJ", day1}, {"DJ", day1}, {"DJ", day1}, {"RX", day1}, {"DJ", day2}, {"DJ", day2}} {
				no, err := tx.NextCaseNo(t.Context(), d.prefix, d.day)
				if err != nil {
					return err
				}
				got = append(got, no)
			}
			return nil
		})
		want := []string{"DJ-20250303-001", "DJ-20250303-002", "DJ-20250303-003", "RX-20250303-001",
			"DJ-20250304-001", "DJ-20250304-002"}
		if !slices.Equal(got, want) {
			t.Fatalf("numbers %v, want %v", got, want)
		}
		// A later transaction goes on counting.
		inTx(t, cs, func(tx bot.Tx) error {
			no, err := tx.NextCaseNo(t.Context(), "DJ", day1)
			if no != "DJ-20250303-004" {
				t.Errorf("next number of day 1 = %q, want DJ-20250303-004", no)
			}
			return err
		})
		// A rolled-back transaction gives its number back.
		boom := errors.New("boom")
		err := cs.InTx(t.Context(), func(tx bot.Tx) error {
			if _, err := tx.NextCaseNo(t.Context(), "DJ", day1); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want fn's error", err)
		}
		// Past 999 the number grows a digit.
		_, err = e.db.db.ExecContext(t.Context(), `UPDATE case_seq SET n = 999 WHERE day_key = 'DJ20250303'`)
		must(t, err)
		inTx(t, cs, func(tx bot.Tx) error {
			no, err := tx.NextCaseNo(t.Context(), "DJ", day1)
			if no != "DJ-20250303-1000" {
				t.Errorf("number after 999 = %q, want DJ-20250303-1000", no)
			}
			return err
		})
		inTx(t, cs, func(tx bot.Tx) error {
			for _, prefix := range []string{"", "DJ-TOO-LONG-PREFIX", "D J", "网格"} {
				_, err := tx.NextCaseNo(t.Context(), prefix, day1)
				wantCode(t, err, bot.EINVALID)
			}
			return nil
		})
	})

	t.Run("concurrent transactions never repeat a number", func(t *testing.T) {
		e := open(t)
		cs := e.db.Cases()
		day := time.Date(2025, 3, 3, 9, 0, 0, 0, shanghai)
		const workers, each = 6, 5
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			nos   []string
			errs  = make([]error, workers)
			start = make(chan struct{})
		)
		for w := range workers {
			wg.Go(func() {
				<-start
				for i := range each {
					err := cs.InTx(context.Background(), func(tx bot.Tx) error {
						no, err := tx.NextCaseNo(context.Background(), "DJ", day)
						if err != nil {
							return err
						}
						c := bot.Case{No: no, Status: bot.StReported, Text: fmt.Sprint("worker ", w, " case ", i)}
						if err := tx.CreateCase(context.Background(), &c); err != nil {
							return err
						}
						mu.Lock()
						nos = append(nos, no)
						mu.Unlock()
						return nil
					})
					if err != nil {
						errs[w] = err
						return
					}
				}
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			must(t, err)
		}
		slices.Sort(nos)
		var want []string
		for i := 1; i <= workers*each; i++ {
			want = append(want, fmt.Sprintf("DJ-20250303-%03d", i))
		}
		if !slices.Equal(nos, want) {
			t.Fatalf("numbers handed out %v, want each of 001..%03d once", nos, workers*each)
		}
		_, total, err := cs.List(t.Context(), bot.CaseFilter{})
		must(t, err)
		if total != workers*each {
			t.Fatalf("%d cases stored, want %d", total, workers*each)
		}
	})

	t.Run("create and get round-trip every field", func(t *testing.T) {
		e := open(t)
		cs := e.db.Cases()
		want := fullCase("DJ-20250303-001", e.clock.Now())
		want.Version = 7 // CreateCase sets 1
		c := want
		inTx(t, cs, func(tx bot.Tx) error {
			if err := tx.CreateCase(t.Context(), &c); err != nil {
				return err
			}
			if c.ID == 0 || c.Version != 1 {
				t.Errorf("after CreateCase: ID %d, Version %d; want an id and version 1", c.ID, c.Version)
			}
			got, err := tx.GetCase(t.Context(), c.ID)
			if err != nil {
				return err
			}
			sameCase(t, got, c)
			got, err = tx.GetCaseByNo(t.Context(), c.No)
			if err != nil {
				return err
			}
			sameCase(t, got, c)
			return nil
		})
		want.ID, want.Version = c.ID, 1
		got, err := cs.Get(t.Context(), c.ID)
		must(t, err)
		sameCase(t, got, want)
		got, err = cs.GetByNo(t.Context(), want.No)
		must(t, err)
		sameCase(t, got, want)

		// Zero values round-trip too, and the times default to the transaction's.
		e.clock.Advance(time.Minute)
		bare := create(t, cs, bot.Case{No: "DJ-20250303-002"})
		now := e.clock.Now()
		if !bare.CreatedAt.Equal(now) || !bare.UpdatedAt.Equal(now) {
			t.Fatalf("created %v, updated %v; want the transaction's time %v", bare.CreatedAt, bare.UpdatedAt, now)
		}
		got, err = cs.Get(t.Context(), bare.ID)
		must(t, err)
		sameCase(t, got, bot.Case{ID: bare.ID, No: bare.No, Version: 1, CreatedAt: now, UpdatedAt: now})

		_, err = cs.Get(t.Context(), bare.ID+1000)
		wantCode(t, err, bot.ENOTFOUND)
		_, err = cs.GetByNo(t.Context(), "DJ-19990101-001")
		wantCode(t, err, bot.ENOTFOUND)
		err = cs.InTx(t.Context(), func(tx bot.Tx) error {
			_, err := tx.GetCase(t.Context(), bare.ID+1000)
			wantCode(t, err, bot.ENOTFOUND)
			_, err = tx.GetCaseByNo(t.Context(), "nope")
			wantCode(t, err, bot.ENOTFOUND)
			dup := bot.Case{No: want.No}
			return tx.CreateCase(t.Context(), &dup)
		})
		wantCode(t, err, bot.ECONFLICT)
	})

	t.Run("create rejects what a column cannot hold", func(t *testing.T) {
		e := open(t)
		cs := e.db.Cases()
		for name, c := range map[string]bot.Case{
			"no number":       {},
			"long number":     {No: strings.Repeat("9", 33)},
			"long code":       {No: "a", Code: "123456789"},
			"bad utf-8":       {No: "b", Text: "\xff\xfe"},
			"long text":       {No: "c", Text: strings.Repeat("字", maxText/3+1)},
			"nan latitude":    {No: "d", Lat: math.NaN()},
			"latitude > 90":   {No: "e", Lat: 91},
			"long district":   {No: "f", District: strings.Repeat("区", 192)},
			"negative rework": {No: "g", Rework: -1},
		} {
			err := cs.InTx(t.Context(), func(tx bot.Tx) error { return tx.CreateCase(t.Context(), &c) })
			if bot.ErrorCode(err) != bot.EINVALID {
				t.Errorf("%s: CreateCase = %v, want EINVALID", name, err)
			}
		}
		// At the limits, in characters, it fits.
		create(t, cs, bot.Case{No: strings.Repeat("号", 32), District: strings.Repeat("区", 191),
			Text: strings.Repeat("字", maxText/3)})
	})

	t.Run("update compares and sets the version", func(t *testing.T) {
		e := open(t)
		cs := e.db.Cases()
		orig := create(t, cs, fullCase("DJ-20250303-001", e.clock.Now()))
		e.clock.Advance(time.Hour)

		// Every column but id, number and creation time changes.
		changed := bot.Case{
			ID: orig.ID, No: orig.No, Version: 2, CreatedAt: orig.CreatedAt,
			Status: bot.StClosed, Source: bot.SrcHotline, Reporter: "r2", Receiver: "rc2",
			ResidentName: "王五", ResidentPhone: "13900139000", Code: "0202", Category: "占道经营", Plan: "市容秩序",
			Dept: "执法", Size: bot.Small, District: "第二管区", Community: "和平社区", Grid: "网格-09",
			Lat: -33.8688197, Lng: 151.2092955, Place: "新地点", Text: "改过的描述 ✅",
			Holder: bot.StStation, Assignee: "a2", Partner: "",
			DueAt: e.clock.Now().Add(time.Hour), RemindAt: time.Time{}, Overdue: false,
			Escalations: 3, Rework: 2, Supports: 0, OnSpot: false,
			CloseCode: bot.CloseResolved, CloseNote: "已解决", DupOf: "", ClosedAt: e.clock.Now(),
		}
		inTx(t, cs, func(tx bot.Tx) error { return tx.UpdateCase(t.Context(), changed) })
		got, err := cs.Get(t.Context(), orig.ID)
		must(t, err)
		changed.UpdatedAt = e.clock.Now()
		sameCase(t, got, changed)

		// A stale writer (it read version 1) loses and changes nothing.
		stale := orig
		stale.Version = 2
		stale.Text = "stale"
		err = cs.InTx(t.Context(), func(tx bot.Tx) error { return tx.UpdateCase(t.Context(), stale) })
		wantCode(t, err, bot.ECONFLICT)
		got, err = cs.Get(t.Context(), orig.ID)
		must(t, err)
		sameCase(t, got, changed)

		// The next writer of version 3 wins; a missing case is a conflict too.
		next := got
		next.Version = 3
		next.Supports = 9
		inTx(t, cs, func(tx bot.Tx) error { return tx.UpdateCase(t.Context(), next) })
		got, err = cs.Get(t.Context(), orig.ID)
		must(t, err)
		if got.Version != 3 || got.Supports != 9 {
			t.Fatalf("after the second update: version %d, supports %d", got.Version, got.Supports)
		}
		missing := next
		missing.ID += 1000
		missing.Version = 4
		err = cs.InTx(t.Context(), func(tx bot.Tx) error { return tx.UpdateCase(t.Context(), missing) })
		wantCode(t, err, bot.ECONFLICT)
		err = cs.InTx(t.Context(), func(tx bot.Tx) error { return tx.UpdateCase(t.Context(), orig) })
		wantCode(t, err, bot.EINVALID) // version 1: the caller did not increment it
	})

	t.Run("events append and list oldest first", func(t *testing.T) {
		e := open(t)
		cs := e.db.Cases()
		c := create(t, cs, fullCase("DJ-20250303-001", e.clock.Now()))
		other := create(t, cs, bot.Case{No: "DJ-20250303-002"})
		now := e.clock.Now()
		events := []bot.Event{
			{CaseID: c.ID, At: now.Add(2 * time.Second), Actor: "chief", Action: bot.ActSelf,
				From: bot.StReported, To: bot.StStation, Note: "站内处置", Key: "msg:2"},
			{CaseID: c.ID, Actor: "inspector", Action: bot.ActReport, To: bot.StReported,
				Note: "上报 🚮", Photos: []string{"media-1", "media-2"}, Key: "msg:1"}, // At: the transaction's time
			{CaseID: c.ID, At: now.Add(2 * time.Second), Actor: "someone", Action: bot.ActVerifyOK,
				From: bot.StStation, To: bot.StStation, Key: "click:3", Denied: true},
			{CaseID: other.ID, At: now, Actor: "system", Action: bot.ActRemind, Key: "sweep:1"},
		}
		inTx(t, cs, func(tx bot.Tx) error {
			for _, ev := range events {
				if err := tx.AddEvent(t.Context(), ev); err != nil {
					return err
				}
			}
			return nil
		})
		got, err := cs.Events(t.Context(), c.ID)
		must(t, err)
		want := []bot.Event{events[1], events[0], events[2]}
		want[0].At = now
		if len(got) != len(want) {
			t.Fatalf("Events = %+v, want %d events", got, len(want))
		}
		for i := range want {
			if got[i].ID == 0 {
				t.Errorf("event %d has no id", i)
			}
			want[i].ID = got[i].ID
			got[i].At = got[i].At.In(time.UTC)
			want[i].At = want[i].At.In(time.UTC)
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
			}
		}
		none, err := cs.Events(t.Context(), c.ID+1000)
		must(t, err)
		if len(none) != 0 {
			t.Fatalf("events of a missing case: %+v", none)
		}
		err = cs.InTx(t.Context(), func(tx bot.Tx) error {
			return tx.AddEvent(t.Context(), bot.Event{CaseID: c.ID, Key: strings.Repeat("k", 192)})
		})
		wantCode(t, err, bot.EINVALID)
	})

	t.Run("photos dedupe and take their files whenever they come", func(t *testing.T) {
		e := open(t)
		cs := e.db.Cases()
		c := create(t, cs, bot.Case{No: "DJ-20250303-001"})
		other := create(t, cs, bot.Case{No: "DJ-20250303-002"})
		now := e.clock.Now()
		// The download of m1 finished before the case was filed.
		early := bot.MediaResult{MediaID: "m1", File: "ab/cd1.jpg", ContentType: "image/jpeg", Size: 12345}
		must(t, cs.MediaStored(t.Context(), early))
		inTx(t, cs, func(tx bot.Tx) error {
			return tx.AddPhotos(t.Context(),
				bot.Photo{CaseID: c.ID, MediaID: "m1", Kind: "before", By: "inspector", At: now.Add(time.Second)},
				bot.Photo{CaseID: c.ID, MediaID: "m2", Kind: "before", By: "inspector"},
				bot.Photo{CaseID: c.ID, MediaID: "m1", Kind: "after", By: "someone else"}, // a duplicate
				bot.Photo{CaseID: other.ID, MediaID: "m2", Kind: "verify", By: "checker"},
			)
		})
		// Filed again (a retried callback): skipped.
		inTx(t, cs, func(tx bot.Tx) error {
			return tx.AddPhotos(t.Context(), bot.Photo{CaseID: c.ID, MediaID: "m2", Kind: "after", By: "x"})
		})
		got, err := cs.Photos(t.Context(), c.ID)
		must(t, err)
		want := []bot.Photo{
			{CaseID: c.ID, MediaID: "m2", Kind: "before", By: "inspector", At: now},
			{CaseID: c.ID, MediaID: "m1", Kind: "before", By: "inspector", At: now.Add(time.Second),
				File: early.File, ContentType: early.ContentType, Size: early.Size},
		}
		samePhotos(t, got, want)

		// The download of m2 finishes after: every photo of m2 gets it.
		late := bot.MediaResult{MediaID: "m2", File: "ef/gh2.png", ContentType: "image/png", Size: 999}
		must(t, cs.MediaStored(t.Context(), late))
		got, err = cs.Photos(t.Context(), c.ID)
		must(t, err)
		want[0].File, want[0].ContentType, want[0].Size = late.File, late.ContentType, late.Size
		samePhotos(t, got, want)
		got, err = cs.Photos(t.Context(), other.ID)
		must(t, err)
		samePhotos(t, got, []bot.Photo{{CaseID: other.ID, MediaID: "m2", Kind: "verify", By: "checker", At: now,
			File: late.File, ContentType: late.ContentType, Size: late.Size}})

		// Storing again (a retried download job) is harmless; an unknown media id changes nothing.
		must(t, cs.MediaStored(t.Context(), late))
		must(t, cs.MediaStored(t.Context(), bot.MediaResult{MediaID: "m9", File: "x.jpg"}))
		wantCode(t, cs.MediaStored(t.Context(), bot.MediaResult{}), bot.EINVALID)
		err = cs.InTx(t.Context(), func(tx bot.Tx) error {
			return tx.AddPhotos(t.Context(), bot.Photo{MediaID: "m3"})
		})
		wantCode(t, err, bot.EINVALID)
	})

	t.Run("cards are used once", func(t *testing.T) {
		e := open(t)
		cs := e.db.Cases()
		c := create(t, cs, bot.Case{No: "DJ-20250303-001"})
		card := bot.Card{TaskID: "task-" + strings.Repeat("x", 100), CaseID: c.ID, Recipient: "chief",
			Actions: []string{"self", "call_guidance", "escalate"}, Version: 1, Kind: "chief"}
		draft := bot.Card{TaskID: "draft-1", Recipient: "inspector", Kind: "confirm"} // no case, no actions
		inTx(t, cs, func(tx bot.Tx) error {
			if err := tx.PutCard(t.Context(), card); err != nil {
				return err
			}
			return tx.PutCard(t.Context(), draft)
		})
		now := e.clock.Now()
		inTx(t, cs, func(tx bot.Tx) error {
			got, err := tx.GetCard(t.Context(), card.TaskID)
			if err != nil {
				return err
			}
			want := card
			want.State, want.CreatedAt = bot.CardOpen, now
			sameCard(t, got, want)
			got, err = tx.GetCard(t.Context(), draft.TaskID)
			if err != nil {
				return err
			}
			want = draft
			want.State, want.CreatedAt = bot.CardOpen, now
			sameCard(t, got, want)
			_, err = tx.GetCard(t.Context(), "no-such-task")
			wantCode(t, err, bot.ENOTFOUND)
			return nil
		})

		e.clock.Advance(time.Minute)
		usedAt := e.clock.Now().Add(-time.Second)
		inTx(t, cs, func(tx bot.Tx) error { return tx.UseCard(t.Context(), card.TaskID, "chief", "self", usedAt) })
		err := cs.InTx(t.Context(), func(tx bot.Tx) error {
			return tx.UseCard(t.Context(), card.TaskID, "chief", "escalate", time.Time{})
		})
		wantCode(t, err, bot.ECONFLICT)
		inTx(t, cs, func(tx bot.Tx) error {
			got, err := tx.GetCard(t.Context(), card.TaskID)
			if err != nil {
				return err
			}
			want := card
			want.State, want.CreatedAt = bot.CardUsed, now
			want.UsedBy, want.UsedAt, want.Action = "chief", usedAt, "self"
			sameCard(t, got, want)
			// Zero at: the transaction's time.
			if err := tx.UseCard(t.Context(), draft.TaskID, "inspector", "confirm", time.Time{}); err != nil {
				return err
			}
			got, err = tx.GetCard(t.Context(), draft.TaskID)
			if err != nil {
				return err
			}
			if !got.UsedAt.Equal(e.clock.Now()) || got.State != bot.CardUsed {
				t.Errorf("draft card after use: %+v", got)
			}
			return nil
		})

		// A task id is never reused; unknown cards cannot be used.
		err = cs.InTx(t.Context(), func(tx bot.Tx) error {
			return tx.PutCard(t.Context(), bot.Card{TaskID: card.TaskID, Recipient: "other"})
		})
		wantCode(t, err, bot.ECONFLICT)
		err = cs.InTx(t.Context(), func(tx bot.Tx) error {
			return tx.UseCard(t.Context(), "no-such-task", "x", "y", time.Time{})
		})
		wantCode(t, err, bot.ECONFLICT)
		for name, bad := range map[string]bot.Card{
			"empty task id":   {},
			"long task id":    {TaskID: strings.Repeat("t", 129)},
			"comma in action": {TaskID: "t1", Actions: []string{"a,b"}},
			"empty action":    {TaskID: "t2", Actions: []string{""}},
		} {
			err := cs.InTx(t.Context(), func(tx bot.Tx) error { return tx.PutCard(t.Context(), bad) })
			if bot.ErrorCode(err) != bot.EINVALID {
				t.Errorf("%s: PutCard = %v, want EINVALID", name, err)
			}
		}
	})

	t.Run("nearby finds open cases of the code within the radius, nearest first", func(t *testing.T) {
		e := open(t)
		cs := e.db.Cases()
		const lat, lng = 31.2304, 121.4737
		at := func(no, code string, status bot.Status, north, east float64) bot.Case {
			c := bot.Case{No: no, Code: code, Status: status}
			c.Lat, c.Lng = offset(lat, lng, north, east)
			return create(t, cs, c)
		}
		at("north-30", "0101", bot.StReported, 30, 0)
		at("east-80", "0101", bot.StStation, 0, 80)
		at("other-code-10", "0102", bot.StReported, 10, 0)
		at("closed-20", "0101", bot.StClosed, 0, 20)
		at("south-west-15", "0101", bot.StVerifying, -10.6, -10.6)
		at("east-49", "0101", bot.StGuidance, 0, 49)
		at("west-51", "0101", bot.StGuidance, 0, -51)
		create(t, cs, bot.Case{No: "no-location", Code: "0101", Status: bot.StReported})

		var got []bot.Case
		inTx(t, cs, func(tx bot.Tx) (err error) {
			got, err = tx.Nearby(t.Context(), "0101", lat, lng, 50)
			return err
		})
		if want := []string{"south-west-15", "north-30", "east-49"}; !slices.Equal(caseNos(got), want) {
			t.Fatalf("Nearby = %v, want %v", caseNos(got), want)
		}
		inTx(t, cs, func(tx bot.Tx) error {
			far, err := tx.Nearby(t.Context(), "0101", lat, lng, 100)
			if want := []string{"south-west-15", "north-30", "east-49", "west-51", "east-80"}; !slices.Equal(caseNos(far), want) {
				t.Errorf("Nearby 100 m = %v, want %v", caseNos(far), want)
			}
			none, err2 := tx.Nearby(t.Context(), "0101", 0, 0, 1e6)
			if len(none) != 0 {
				t.Errorf("Nearby a point without location = %v, want none", caseNos(none))
			}
			_, err3 := tx.Nearby(t.Context(), "0101", lat, lng, -1)
			wantCode(t, err3, bot.EINVALID)
			return errors.Join(err, err2)
		})
	})

	t.Run("list filters, orders newest first and pages", func(t *testing.T) {
		e := open(t)
		cs := e.db.Cases()
		base := e.clock.Now()
		mk := func(no string, hoursAgo int, mod func(*bot.Case)) bot.Case {
			c := bot.Case{No: no, Status: bot.StReported, District: "d1", Plan: "p1", Code: "0101", Assignee: "a1",
				CreatedAt: base.Add(-time.Duration(hoursAgo) * time.Hour)}
			if mod != nil {
				mod(&c)
			}
			return create(t, cs, c)
		}
		mk("c1", 5, nil)
		mk("c2", 4, func(c *bot.Case) { c.District = "d2" })
		mk("c3", 3, func(c *bot.Case) { c.Status = bot.StClosed })
		mk("c4", 2, func(c *bot.Case) { c.Plan = "p2"; c.Overdue = true })
		mk("c5", 1, func(c *bot.Case) { c.Code = "0202"; c.Assignee = "a2" })
		mk("c6", 1, func(c *bot.Case) { c.Status = bot.StGuidance; c.Overdue = true }) // same time as c5, made later
		yes, no := true, false
		for _, tc := range []struct {
			name string
			f    bot.CaseFilter
			want []string
		}{
			{"all", bot.CaseFilter{}, []string{"c6", "c5", "c4", "c3", "c2", "c1"}},
			{"district", bot.CaseFilter{District: "d2"}, []string{"c2"}},
			{"status", bot.CaseFilter{Status: bot.StClosed}, []string{"c3"}},
			{"open", bot.CaseFilter{Open: true}, []string{"c6", "c5", "c4", "c2", "c1"}},
			{"plan", bot.CaseFilter{Plan: "p2"}, []string{"c4"}},
			{"code", bot.CaseFilter{Code: "0202"}, []string{"c5"}},
			{"overdue", bot.CaseFilter{Overdue: &yes}, []string{"c6", "c4"}},
			{"not overdue", bot.CaseFilter{Overdue: &no}, []string{"c5", "c3", "c2", "c1"}},
			{"from", bot.CaseFilter{From: base.Add(-2 * time.Hour)}, []string{"c6", "c5", "c4"}},
			{"to", bot.CaseFilter{To: base.Add(-2 * time.Hour)}, []string{"c3", "c2", "c1"}},
			{"from and to", bot.CaseFilter{From: base.Add(-4 * time.Hour), To: base.Add(-2 * time.Hour)}, []string{"c3", "c2"}},
			{"assignee", bot.CaseFilter{Assignee: "a2"}, []string{"c5"}},
			{"several", bot.CaseFilter{District: "d1", Open: true, Overdue: &no}, []string{"c5", "c1"}},
			{"nothing", bot.CaseFilter{District: "d9"}, []string{}},
		} {
			page, total, err := cs.List(t.Context(), tc.f)
			must(t, err)
			if !slices.Equal(caseNos(page), tc.want) || total != len(tc.want) {
				t.Errorf("%s: List = %v (total %d), want %v", tc.name, caseNos(page), total, tc.want)
			}
			inTx(t, cs, func(tx bot.Tx) error {
				page, err := tx.ListCases(t.Context(), tc.f)
				if !slices.Equal(caseNos(page), tc.want) {
					t.Errorf("%s: ListCases = %v, want %v", tc.name, caseNos(page), tc.want)
				}
				return err
			})
		}
		page, total, err := cs.List(t.Context(), bot.CaseFilter{Limit: 2, Offset: 2})
		must(t, err)
		if !slices.Equal(caseNos(page), []string{"c4", "c3"}) || total != 6 {
			t.Fatalf("page 2 of 2 = %v (total %d), want [c4 c3] of 6", caseNos(page), total)
		}
		page, total, err = cs.List(t.Context(), bot.CaseFilter{Open: true, Limit: 2, Offset: 4})
		must(t, err)
		if !slices.Equal(caseNos(page), []string{"c1"}) || total != 5 {
			t.Fatalf("last open page = %v (total %d), want [c1] of 5", caseNos(page), total)
		}
		_, _, err = cs.List(t.Context(), bot.CaseFilter{Offset: -1})
		wantCode(t, err, bot.EINVALID)
		if pageLimit(bot.CaseFilter{}) != 50 || pageLimit(bot.CaseFilter{Limit: 10000}) != 500 {
			t.Fatal("page limit: want 50 by default and at most 500")
		}
	})

	t.Run("due lists open cases whose reminder or deadline has come", func(t *testing.T) {
		e := open(t)
		cs := e.db.Cases()
		now := e.clock.Now()
		mk := func(no string, status bot.Status, remind, due time.Duration) {
			c := bot.Case{No: no, Status: status}
			if remind != 0 {
				c.RemindAt = now.Add(remind)
			}
			if due != 0 {
				c.DueAt = now.Add(due)
			}
			create(t, cs, c)
		}
		mk("remind-passed", bot.StReported, -time.Minute, time.Hour)
		mk("due-passed", bot.StGuidance, 0, -2*time.Hour)
		mk("both-passed", bot.StStation, -3*time.Hour, -time.Hour)
		create(t, cs, bot.Case{No: "remind-now", Status: bot.StCommittee, RemindAt: now, DueAt: now.Add(time.Hour)})
		mk("not-yet", bot.StReported, time.Minute, time.Hour)
		mk("closed", bot.StClosed, -time.Hour, -time.Hour)
		mk("no-times", bot.StReported, 0, 0)
		got, err := cs.Due(t.Context(), now, 10)
		must(t, err)
		if want := []string{"both-passed", "due-passed", "remind-passed", "remind-now"}; !slices.Equal(caseNos(got), want) {
			t.Fatalf("Due = %v, want %v", caseNos(got), want)
		}
		got, err = cs.Due(t.Context(), now, 2)
		must(t, err)
		if want := []string{"both-passed", "due-passed"}; !slices.Equal(caseNos(got), want) {
			t.Fatalf("Due limit 2 = %v, want %v", caseNos(got), want)
		}
		got, err = cs.Due(t.Context(), now.Add(2*time.Hour), 0)
		must(t, err)
		if len(got) != 5 {
			t.Fatalf("Due two hours later = %v, want the 5 open cases with times", caseNos(got))
		}
	})

	t.Run("a failing transaction rolls back the case and its outbox rows together", func(t *testing.T) {
		e := open(t)
		cs := e.db.Cases()
		day := time.Date(2025, 3, 3, 9, 0, 0, 0, shanghai)
		boom := errors.New("boom")
		var id int64
		err := cs.InTx(t.Context(), func(tx bot.Tx) error {
			no, err := tx.NextCaseNo(t.Context(), "DJ", day)
			if err != nil {
				return err
			}
			c := fullCase(no, tx.Now())
			if err := tx.CreateCase(t.Context(), &c); err != nil {
				return err
			}
			id = c.ID
			c.Version = 2
			if err := errors.Join(
				tx.UpdateCase(t.Context(), c),
				tx.AddEvent(t.Context(), bot.Event{CaseID: c.ID, Action: bot.ActReport}),
				tx.AddPhotos(t.Context(), bot.Photo{CaseID: c.ID, MediaID: "m1"}),
				tx.PutCard(t.Context(), bot.Card{TaskID: "t1", CaseID: c.ID}),
				tx.Enqueue(t.Context(), bot.NewTextMessage("case:"+no, "chief", "新问题 "+no)),
			); err != nil {
				return err
			}
			return fmt.Errorf("after all that: %w", boom)
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want fn's error", err)
		}
		_, err = cs.Get(t.Context(), id)
		wantCode(t, err, bot.ENOTFOUND)
		items, err := e.db.Outbox().List(t.Context(), "", 10)
		must(t, err)
		events, err := cs.Events(t.Context(), id)
		must(t, err)
		photos, err := cs.Photos(t.Context(), id)
		must(t, err)
		if len(items) != 0 || len(events) != 0 || len(photos) != 0 {
			t.Fatalf("after rollback: %d outbox items, %d events, %d photos; want none", len(items), len(events), len(photos))
		}
		// The same work committed: all of it is there, and the number was not used up.
		inTx(t, cs, func(tx bot.Tx) error {
			if _, err := tx.GetCard(t.Context(), "t1"); bot.ErrorCode(err) != bot.ENOTFOUND {
				t.Errorf("card after rollback: %v, want ENOTFOUND", err)
			}
			no, err := tx.NextCaseNo(t.Context(), "DJ", day)
			if err != nil {
				return err
			}
			if no != "DJ-20250303-001" {
				t.Errorf("number after rollback = %q, want DJ-20250303-001 again", no)
			}
			c := bot.Case{No: no}
			return errors.Join(tx.CreateCase(t.Context(), &c),
				tx.Enqueue(t.Context(), bot.NewTextMessage("case:"+no, "chief", "新问题 "+no)))
		})
		if _, err := cs.GetByNo(t.Context(), "DJ-20250303-001"); err != nil {
			t.Fatal(err)
		}
		items, err = e.db.Outbox().List(t.Context(), "", 10)
		must(t, err)
		if len(items) != 1 {
			t.Fatalf("outbox after commit: %d items, want 1", len(items))
		}
	})
}

// samePhotos fails the test unless got matches want, ids aside.
func samePhotos(t *testing.T, got, want []bot.Photo) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("photos %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].ID == 0 {
			t.Errorf("photo %d has no id", i)
		}
		w := want[i]
		w.ID = got[i].ID
		w.At = w.At.UTC()
		if !reflect.DeepEqual(got[i], w) {
			t.Errorf("photo %d = %+v, want %+v", i, got[i], w)
		}
	}
}

// sameCard fails the test unless got equals want.
func sameCard(t *testing.T, got, want bot.Card) {
	t.Helper()
	for _, p := range []*time.Time{&want.UsedAt, &want.CreatedAt} {
		if !p.IsZero() {
			*p = p.UTC()
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("card = %+v, want %+v", got, want)
	}
}

func TestBoundingBoxHoldsTheCircle(t *testing.T) {
	for _, lat := range []float64{0, 31.23, -45, 70, 89.9} {
		for _, meters := range []float64{1, 50, 5000, 500000} {
			b := boundingBox(lat, 120, meters)
			for bearing := 0.0; bearing < 360; bearing += 7.5 {
				// The destination point at this distance and bearing.
				const rad = math.Pi / 180
				d := meters / earthRadiusM
				phi := math.Asin(math.Sin(lat*rad)*math.Cos(d) + math.Cos(lat*rad)*math.Sin(d)*math.Cos(bearing*rad))
				lambda := 120*rad + math.Atan2(math.Sin(bearing*rad)*math.Sin(d)*math.Cos(lat*rad),
					math.Cos(d)-math.Sin(lat*rad)*math.Sin(phi))
				pLat, pLng := phi/rad, lambda/rad
				if got := haversine(lat, 120, pLat, pLng); math.Abs(got-meters) > 1e-6*meters+1e-6 {
					t.Fatalf("haversine to a point %v m away = %v", meters, got)
				}
				if pLat < b.minLat || pLat > b.maxLat || (!b.allLng && (pLng < b.minLng || pLng > b.maxLng)) {
					t.Errorf("lat %v, %v m, bearing %v: point (%v, %v) outside the box %+v", lat, meters, bearing, pLat, pLng, b)
				}
			}
		}
	}
}
