package bot

import (
	"context"
	"sort"
	"time"

	"gridbot/bot/roster"
)

// ImportCheckins turns inspectors' 外出打卡 records within [from, to) into
// patrols (source "checkin"): a day with at least two records in or near
// the inspector's grid is a patrol from the first to the last of them,
// counted for coverage. A day already imported is skipped, so the import
// can run again over the same days. It returns how many patrols it made.
func (s *Service) ImportCheckins(ctx context.Context, cases Cases, src CheckinSource, from, to time.Time) (int, error) {
	var users []string
	for _, p := range s.Roster.WithRole(roster.RoleInspector) {
		if p.Grid != "" {
			users = append(users, p.UserID)
		}
	}
	type key struct{ user, day string }
	days := map[key][]Checkin{}
	for start := from; start.Before(to); start = start.AddDate(0, 0, 30) {
		end := start.AddDate(0, 0, 30)
		if end.After(to) {
			end = to
		}
		for i := 0; i < len(users); i += 100 {
			batch := users[i:min(i+100, len(users))]
			recs, err := src.Checkins(ctx, batch, start, end.Add(-time.Second))
			if err != nil {
				return 0, err
			}
			for _, r := range recs {
				p, ok := s.Roster.Person(r.UserID)
				if !ok || !s.inGrid(p.Grid, r.Lat, r.Lng) {
					continue
				}
				k := key{r.UserID, s.day(r.At)}
				days[k] = append(days[k], r)
			}
		}
	}
	made := 0
	for k, recs := range days {
		if len(recs) < 2 {
			continue
		}
		sort.Slice(recs, func(i, j int) bool { return recs[i].At.Before(recs[j].At) })
		p, _ := s.Roster.Person(k.user)
		g, _ := s.Roster.Grid(p.Grid)
		first, last := recs[0], recs[len(recs)-1]
		err := cases.InTx(ctx, func(tx Tx) error {
			if _, found, err := tx.FindPatrol(ctx, k.user, k.day, "checkin"); err != nil || found {
				return err
			}
			patrol := Patrol{UserID: k.user, Grid: g.ID, District: g.District, Day: k.day, StartedAt: first.At,
				StartLat: first.Lat, StartLng: first.Lng, Source: "checkin"}
			if err := tx.StartPatrol(ctx, &patrol); err != nil {
				return err
			}
			for _, r := range recs[1 : len(recs)-1] {
				if err := tx.AddTrackPoint(ctx, TrackPoint{PatrolID: patrol.ID, At: r.At, Lat: r.Lat, Lng: r.Lng}); err != nil {
					return err
				}
			}
			patrol.EndedAt, patrol.EndLat, patrol.EndLng, patrol.Counts = last.At, last.Lat, last.Lng, true
			if err := tx.EndPatrol(ctx, patrol); err != nil {
				return err
			}
			made++
			return nil
		})
		if err != nil {
			return made, err
		}
	}
	return made, nil
}
