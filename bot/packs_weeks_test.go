package bot_test

import (
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/roster"
)

// A week belongs to the month of its Thursday, so October 2026's last week
// (26 Oct – 1 Nov) ends after October: counted as of a later day it is in
// October's visit completion, and a visit made in it counts.
func TestMonthCountsItsLastWeekOnceEnded(t *testing.T) {
	zone := bot.Shanghai()
	oct, err := bot.ParseMonth("2026-10", zone)
	if err != nil {
		t.Fatal(err)
	}
	r := roster.Demo()
	officer := r.Guidance("dongcheng", roster.DeptSanitation)[0]
	visit := bot.Visit{UserID: officer.UserID, Dept: "环卫", District: "dongcheng", Community: "dongsheng",
		At: time.Date(2026, 10, 30, 10, 0, 0, 0, zone), Day: "2026-10-30"}
	at := func(weeksAsOf time.Time) bot.Ratio {
		p := bot.BuildPack(bot.PackInput{Roster: r, Period: oct, AsOf: oct.To, WeeksAsOf: weeksAsOf, Visits: []bot.Visit{visit}})
		return p.Total.Visits
	}
	early, late := at(time.Time{}), at(time.Date(2026, 11, 5, 8, 30, 0, 0, zone))
	if late.Total <= early.Total {
		t.Fatalf("the week of 26 Oct was not counted once ended: %+v then %+v", early, late)
	}
	if early.Done != 0 || late.Done != 1 {
		t.Fatalf("the visit of 30 Oct: done %d then %d, want 0 then 1", early.Done, late.Done)
	}
}
