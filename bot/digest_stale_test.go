package bot_test

import (
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/bot/roster"
	"gridbot/templates"
)

// The digest flags a grid with no counted patrol for StaleDays days in a row.
func TestDigestFlagsStaleGrids(t *testing.T) {
	zone := bot.Shanghai()
	day := func(d int) time.Time { return time.Date(2026, 12, d, 9, 0, 0, 0, zone) }
	patrol := func(grid string, d int) bot.Patrol {
		return bot.Patrol{Grid: grid, District: "dongcheng", Day: day(d).Format("2006-01-02"), StartedAt: day(d), EndedAt: day(d).Add(time.Hour), Counts: true}
	}
	d := bot.BuildDigest(bot.DigestInput{
		Roster: roster.Demo(), T: templates.MustLoad(), District: "dongcheng", Zone: zone,
		Now:       time.Date(2026, 12, 5, 8, 30, 0, 0, zone),
		Patrols:   []bot.Patrol{patrol("dc01", 1), patrol("dc02", 4), patrol("dc03", 3)},
		StaleDays: 3,
	})
	got := map[string]templates.DigestMiss{}
	for _, m := range d.Missed {
		got[m.Grid] = m
	}
	g := func(id string) string { x, _ := roster.Demo().Grid(id); return x.Name }
	if _, missed := got[g("dc02")]; missed {
		t.Error("dc02 was patrolled yesterday")
	}
	if m := got[g("dc01")]; m.Days != 3 || !m.Stale {
		t.Errorf("dc01 (last patrol 4 days ago): %+v", m)
	}
	if m := got[g("dc03")]; m.Days != 1 || m.Stale {
		t.Errorf("dc03 (patrolled the day before yesterday): %+v", m)
	}
	if m := got[g("dc04")]; m.Days != 3 || !m.Stale {
		t.Errorf("dc04 (never patrolled): %+v", m)
	}
}
