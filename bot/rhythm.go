package bot

import (
	"context"
	"time"
)

// Patrol is one inspector's patrol of a grid (每日巡查): started and ended
// from WeCom with a location; the locations sent during it form a track.
type Patrol struct {
	ID        int64
	UserID    string
	Grid      string // the inspector's grid
	District  string
	Day       string // local date YYYY-MM-DD of the start
	StartedAt time.Time
	EndedAt   time.Time // zero while under way
	StartLat  float64
	StartLng  float64
	EndLat    float64
	EndLng    float64
	Points    int    // locations in the track
	Counts    bool   // started and ended in or near the grid: it counts for coverage
	Source    string // chat, or checkin (WeCom 打卡 records)
}

// TrackPoint is one location of a patrol's track.
type TrackPoint struct {
	PatrolID int64
	At       time.Time
	Lat, Lng float64
}

// Visit is a guidance officer's sign-in (签到) at a community (巡查走访).
type Visit struct {
	ID        int64
	UserID    string
	Dept      string
	District  string
	Community string
	Day       string // local date
	At        time.Time
	Lat, Lng  float64
	Note      string
}

// Activity is a guidance officer's monthly legal-education (法律法规宣传)
// or service (便民服务) activity.
type Activity struct {
	ID         int64
	UserID     string
	Dept       string
	District   string
	Month      string // local YYYY-MM
	Kind       string // law (法律法规宣传) or service (便民服务)
	Topic      string
	Place      string
	Attendance int
	Photos     []string // media ids
	At         time.Time
}

// Rhythm is the store of the plan's daily and weekly duties.
type Rhythm interface {
	// Patrols started within [from, to).
	Patrols(ctx context.Context, from, to time.Time) ([]Patrol, error)
	// Visits signed within [from, to).
	Visits(ctx context.Context, from, to time.Time) ([]Visit, error)
	// Activities recorded within [from, to).
	Activities(ctx context.Context, from, to time.Time) ([]Activity, error)
}

// RhythmRepo is the part of a Tx that records patrols, visits and activities.
type RhythmRepo interface {
	StartPatrol(ctx context.Context, p *Patrol) error // sets ID
	GetPatrol(ctx context.Context, id int64) (Patrol, error)
	// FindPatrol finds a user's patrol of a day from a source.
	FindPatrol(ctx context.Context, userID, day, source string) (Patrol, bool, error)
	// AddTrackPoint adds a location to a patrol's track and counts it.
	AddTrackPoint(ctx context.Context, pt TrackPoint) error
	// EndPatrol records the end of a patrol (EndedAt, End*, Counts).
	EndPatrol(ctx context.Context, p Patrol) error
	AddVisit(ctx context.Context, v *Visit) error // sets ID
	// CountVisits counts a user's visits to a community within [from, to).
	CountVisits(ctx context.Context, userID, community string, from, to time.Time) (int, error)
	AddActivity(ctx context.Context, a *Activity) error // sets ID
	// AddActivityPhotos appends photos to an activity.
	AddActivityPhotos(ctx context.Context, id int64, photos ...string) error
}

// Checkin is one WeCom 打卡 record, as patrol evidence.
type Checkin struct {
	UserID   string
	Type     string // 上班打卡, 下班打卡, 外出打卡
	At       time.Time
	Lat, Lng float64
	Title    string
	Notes    string
	MediaIDs []string
}

// CheckinSource reads 打卡 records (the WeCom check-in API).
type CheckinSource interface {
	// Checkins returns the 外出打卡 records of users within [from, to];
	// callers keep to 100 users and 30 days a call.
	Checkins(ctx context.Context, users []string, from, to time.Time) ([]Checkin, error)
}
