package bot

import "time"

// Clock tells the time; tests move it.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// Shanghai is the zone of the plan; the embedded tzdata keeps it working on
// machines without /usr/share/zoneinfo (see cmd/gridbot).
func Shanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}
