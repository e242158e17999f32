package bot

import (
	"context"
	"time"
)

// Status is where a case stands in the plan's closed loop.
type Status string

// Case statuses. A case opens as reported and ends closed; in between it is
// held by the station, a guidance officer, the committee office, a partner
// body or a higher level, and is verified on site before it closes.
const (
	StNew       Status = ""          // not yet a case: the source of report and on-the-spot handling
	StReported  Status = "reported"  // 待先期处置: the district's chief decides
	StStation   Status = "station"   // 站内处置: the station handles it itself
	StGuidance  Status = "guidance"  // 指导员处置: a guidance officer of the category's department
	StCommittee Status = "committee" // 城管委办公室
	StPartner   Status = "partner"   // 转交协作单位: handed to a partner body, its reply tracked
	StExternal  Status = "external"  // 上报区/市: beyond the subdistrict, tracked until it comes back
	StVerifying Status = "verifying" // 待核查: the grid's inspector verifies on site
	StClosed    Status = "closed"
)

// Open reports whether s is a status of a case not yet closed.
func (s Status) Open() bool { return s != StClosed && s != StNew }

// Source is where a case came from.
type Source string

// Case sources.
const (
	SrcPatrol   Source = "patrol"   // 网格员巡查发现
	SrcResident Source = "resident" // 居民反映 (filed by station staff, 首接负责制)
	SrcHotline  Source = "hotline"  // 12345
)

// Size is the plan's deadline class: 小事不过夜、大事不过周.
type Size string

// Sizes.
const (
	Small Size = "small"
	Big   Size = "big"
)

// CloseCode is how a case ended.
type CloseCode string

// Close codes: honest ones, so the ledger says what really happened.
const (
	CloseResolved   CloseCode = "resolved"   // 已解决
	ClosePartial    CloseCode = "partial"    // 部分解决
	CloseNotOurs    CloseCode = "not_ours"   // 非本单位职责 (the owner is named)
	CloseUnsolvable CloseCode = "unsolvable" // 无法解决 (挂账)
	CloseDuplicate  CloseCode = "duplicate"  // 重复
)

// Case is one problem in the ledger (问题台账).
type Case struct {
	ID       int64
	No       string // readable number: DJ-20261201-007
	Status   Status
	Version  int // grows with every change; cards and sweeps compare-and-set on it
	Source   Source
	Reporter string // userid of who reported or filed it
	Receiver string // 首接负责人: the first receiver, who owes the resident a reply

	ResidentName  string
	ResidentPhone string // full number; shown masked to anyone outside the case

	Code     string // GB/T 47678.5 code
	Category string // its standard name
	Plan     string // one of the plan's six categories
	Dept     string // 环卫, 住建, 园林, 执法
	Size     Size

	District  string
	Community string
	Grid      string
	Lat, Lng  float64 // GCJ-02, as WeCom reports; 0 when no location came
	Place     string  // the location's label or the grid's name
	Text      string  // the report as written

	Holder   Status // who holds it while verifying: where a failed check sends it back
	Assignee string // userid holding it now (chief, guidance officer), "" for the committee as a body
	Partner  string // partner body id while StPartner; the owner named on CloseNotOurs

	DueAt       time.Time
	RemindAt    time.Time // zero once reminded
	Overdue     bool
	Escalations int
	Rework      int // failed verifications
	Supports    int // 附议: linked duplicate reports
	OnSpot      bool

	CloseCode CloseCode
	CloseNote string
	DupOf     string // the case number a duplicate points to
	ClosedAt  time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Event is one step in a case's history: append-only, the audit trail.
type Event struct {
	ID     int64
	CaseID int64
	At     time.Time
	Actor  string // userid, or "system"
	Action Action
	From   Status
	To     Status
	Note   string
	Photos []string // media ids
	Key    string   // what caused it (the inbox dedupe key, or a sweep key)
	Denied bool     // an attempt the table refused: audited, changed nothing
}

// Photo is one picture of a case.
type Photo struct {
	ID          int64
	CaseID      int64
	MediaID     string
	Kind        string // before, after, verify
	By          string
	At          time.Time
	File        string // set once downloaded
	ContentType string
	Size        int64
}

// Card is a button card sent to one person for one case (or a draft). Its
// task_id maps a click back to what it may do.
type Card struct {
	TaskID    string
	CaseID    int64  // 0 for a draft's confirmation card
	Recipient string // the only userid whose click counts
	Actions   []string
	Version   int    // the case version the card was made for
	Kind      string // which card: chief, guidance, committee, verify, confirm …
	State     string // open, used
	UsedBy    string
	UsedAt    time.Time
	Action    string // what was chosen
	CreatedAt time.Time
}

// Card states.
const (
	CardOpen = "open"
	CardUsed = "used"
)

// CaseFilter selects cases for the API and the lists.
type CaseFilter struct {
	District string
	Status   Status
	Open     bool   // only open cases
	Plan     string // plan category
	Code     string
	Overdue  *bool
	From, To time.Time // created within [From, To)
	Assignee string
	Offset   int
	Limit    int
}

// CaseRepo is the part of a Tx that reads and changes cases, their events,
// photos and cards.
type CaseRepo interface {
	// NextCaseNo returns the next number of the day: prefix-YYYYMMDD-NNN.
	NextCaseNo(ctx context.Context, prefix string, day time.Time) (string, error)
	CreateCase(ctx context.Context, c *Case) error // sets ID, Version 1
	GetCase(ctx context.Context, id int64) (Case, error)
	GetCaseByNo(ctx context.Context, no string) (Case, error)
	// UpdateCase writes c if the stored version is still c.Version-1
	// (ECONFLICT otherwise); the caller has already incremented c.Version.
	UpdateCase(ctx context.Context, c Case) error
	AddEvent(ctx context.Context, e Event) error
	AddPhotos(ctx context.Context, photos ...Photo) error
	PutCard(ctx context.Context, c Card) error
	GetCard(ctx context.Context, taskID string) (Card, error)
	// UseCard marks an open card used (ECONFLICT if it was not open).
	UseCard(ctx context.Context, taskID, by, action string, at time.Time) error
	// Nearby lists open cases with this code within meters of the point.
	Nearby(ctx context.Context, code string, lat, lng, meters float64) ([]Case, error)
	ListCases(ctx context.Context, f CaseFilter) ([]Case, error)
}

// Cases is the store of cases outside a callback.
type Cases interface {
	// InTx runs fn in one transaction.
	InTx(ctx context.Context, fn func(Tx) error) error
	Get(ctx context.Context, id int64) (Case, error)
	GetByNo(ctx context.Context, no string) (Case, error)
	List(ctx context.Context, f CaseFilter) ([]Case, int, error) // the page and the total
	Events(ctx context.Context, caseID int64) ([]Event, error)
	Photos(ctx context.Context, caseID int64) ([]Photo, error)
	// Due lists open cases whose RemindAt or DueAt is at or before now.
	Due(ctx context.Context, now time.Time, limit int) ([]Case, error)
	// MediaStored records a downloaded file on every photo with its media id.
	MediaStored(ctx context.Context, r MediaResult) error
}

// Action is something a person (or the clock) does to a case.
type Action string

// Actions of the transition table (flow.go).
const (
	ActReport       Action = "report"        // 确认上报
	ActOnSpot       Action = "onspot"        // 当场处置: before and after photo, closed at once
	ActSelf         Action = "self"          // 自行处置
	ActCallGuidance Action = "call_guidance" // 呼叫指导员
	ActEscalate     Action = "escalate"      // 上报城管委
	ActAccept       Action = "accept"        // 接单
	ActAssign       Action = "assign"        // 指派部门 (Input.Dept)
	ActTransfer     Action = "transfer"      // 转交协作单位 (Input.Partner)
	ActEscalateUp   Action = "escalate_up"   // 上报区/市
	ActReply        Action = "reply"         // the partner's or higher level's result came back
	ActHandled      Action = "handled"       // 已处置 (an after-photo asked for)
	ActVerifyOK     Action = "verify_ok"     // 核查通过
	ActVerifyPart   Action = "verify_partial"
	ActVerifyFail   Action = "verify_fail" // 未解决: back to the handler, rework counted
	ActClose        Action = "close"       // close with a code (not ours, unsolvable, duplicate)
	ActSetSize      Action = "set_size"    // 改为大事 / 改为小事
	ActSupport      Action = "support"     // 附议: a duplicate report linked
	ActRemind       Action = "remind"      // the clock: the deadline is near
	ActOverdue      Action = "overdue"     // the clock: the deadline passed
)
