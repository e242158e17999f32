// Package templates holds every word a user of gridbot sees: one
// text/template file per message, embedded, each with a typed data struct
// and a golden test. A missing or broken template fails the boot, not a user.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"
)

//go:embed *.tmpl
var files embed.FS

// Set is the parsed templates.
type Set struct {
	t *template.Template
}

// Load parses every embedded template.
func Load() (*Set, error) {
	t, err := template.New("").Option("missingkey=error").Funcs(template.FuncMap{
		"join": strings.Join,
	}).ParseFS(files, "*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	for _, name := range append(append([]string{}, Names...), RhythmNames...) {
		if t.Lookup(name) == nil {
			return nil, fmt.Errorf("templates: %s is missing", name)
		}
	}
	return &Set{t: t}, nil
}

// MustLoad is Load for tests and startup.
func MustLoad() *Set {
	s, err := Load()
	if err != nil {
		panic(err)
	}
	return s
}

// Render executes the named template with data and trims surrounding space.
func (s *Set) Render(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := s.t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("templates: render %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// Names lists the templates Load insists on; a missing one fails the boot.
var Names = []string{
	Help, "status", "action", "size", "source", "closecode", "button", When,
	CardSource, CardTitle, CardDesc, CardSub, CardDone,
	RowCategory, RowPlace, RowGrid, RowPhotos, RowDue, RowStatus, RowHolder, ValuePhotos, ValueDue,
	MsgNotRegistered, MsgDraftPhoto, MsgDraftPlace, MsgDraftNeedPlace, MsgDraftStart, MsgDraftNone,
	MsgDraftCancelled, MsgDraftExpired, MsgResidentFormat, MsgFiled, MsgOnSpot, MsgClosed, MsgCallBack,
	MsgReworked, MsgReminder, MsgOverdue, MsgSupported, MsgRefusedPerson, MsgRefusedState, MsgCardUsed,
	MsgCardUnknown, MsgNeedAfterPhoto, MsgNeedVerifyPhoto, MsgNeedOwner, MsgNeedDup, MsgNeedReply,
	MsgNeedReason, MsgVoiceUnsupported, MsgDone, MsgBadInput, MsgNoOfficer, MsgTodo, MsgQuery, MsgQueryNone, MsgQueryFormat,
	// Reports (digest.tmpl).
	DigestDaily, DigestPack, ReportWeekday, ReportHolder, ReportValue, ReportTimeline, ReportTitle, ReportSubtitle,
	ReportSheet, ReportColumns, ReportDefinitions,
}

// Template names and their data.
const (
	// Help answers any text while no other conversation applies. Data: HelpData.
	Help = "help.tmpl"

	// Words: "status", "action", "size", "source", "closecode" and "button"
	// take the code (a string) and give its Chinese name.
	Status    = "status"
	ActionW   = "action"
	SizeW     = "size"
	SourceW   = "source"
	CloseCode = "closecode"
	ButtonW   = "button"
	When      = "when" // WhenData

	// Cards. Data: CardData (CardDone: DoneData).
	CardSource  = "card.source"
	CardTitle   = "card.title"
	CardDesc    = "card.desc"
	CardSub     = "card.sub"
	CardDone    = "card.done"
	RowCategory = "row.category"
	RowPlace    = "row.place"
	RowGrid     = "row.grid"
	RowPhotos   = "row.photos"
	RowDue      = "row.due"
	RowStatus   = "row.status"
	RowHolder   = "row.holder"
	ValuePhotos = "value.photos"
	ValueDue    = "value.due"

	// Messages with no data (pass nil).
	MsgNotRegistered    = "msg.not_registered"
	MsgDraftNeedPlace   = "msg.draft_need_place"
	MsgDraftStart       = "msg.draft_start"
	MsgDraftNone        = "msg.draft_none"
	MsgDraftCancelled   = "msg.draft_cancelled"
	MsgDraftExpired     = "msg.draft_expired"
	MsgResidentFormat   = "msg.resident_format"
	MsgCardUnknown      = "msg.card_unknown"
	MsgNeedAfterPhoto   = "msg.need_after_photo"
	MsgNeedVerifyPhoto  = "msg.need_verify_photo"
	MsgNeedOwner        = "msg.need_owner"
	MsgNeedReply        = "msg.need_reply"
	MsgNeedReason       = "msg.need_reason"
	MsgVoiceUnsupported = "msg.voice_unsupported"

	// Messages about a draft. Data: DraftData.
	MsgDraftPhoto = "msg.draft_photo"
	MsgDraftPlace = "msg.draft_place"

	// Messages about a case. Data: CaseData.
	MsgFiled         = "msg.filed"
	MsgOnSpot        = "msg.onspot"
	MsgClosed        = "msg.closed"
	MsgCallBack      = "msg.callback"
	MsgReworked      = "msg.reworked"
	MsgReminder      = "msg.reminder"
	MsgOverdue       = "msg.overdue"
	MsgSupported     = "msg.supported"
	MsgRefusedPerson = "msg.refused_person"
	MsgRefusedState  = "msg.refused_state"
	MsgQuery         = "msg.query"
	MsgQueryNone     = "msg.query_none"

	// Other messages.
	MsgCardUsed    = "msg.card_used"    // DoneData
	MsgDone        = "msg.done"         // DoneData
	MsgNeedDup     = "msg.need_dup"     // ExampleData
	MsgQueryFormat = "msg.query_format" // ExampleData
	MsgBadInput    = "msg.bad_input"    // ReasonData
	MsgNoOfficer   = "msg.no_officer"   // NoOfficerData
	MsgTodo        = "msg.todo"         // TodoData
)

// WhenData is a local date and time: 12月1日 24:00.
type WhenData struct {
	Month, Day int
	Clock      string // 15:04, or 24:00 for the end of the day
}

// HelpData is the data of Help.
type HelpData struct {
	Name      string // the member's name, or "" when unknown
	Reporter  bool   // may report problems
	Inspector bool   // patrols a grid
	Station   bool   // files residents' complaints (station staff, chiefs)
	Guidance  bool   // a guidance officer: visits and activities
}

// CardData is the data of every card text.
type CardData struct {
	Kind      string // the card kind (bot.Card* or confirm, pick, dup, menu_*)
	No        string // case number, "" for a draft
	Category  string // the standard category name
	Text      string // the report, shortened
	Resident  string // "王大爷 138****8000" (masked unless the reader is one of the case's people)
	Photos    int
	Due       string // formatted deadline
	Overdue   bool
	DupNo     string // dup cards: the nearby case
	DupMeters int
	Note      string // a line of context (who escalated, a reply …)
}

// DoneData says who did what on a card or case.
type DoneData struct {
	No   string
	By   string // a name
	What string // what was done, already in words
}

// DraftData is the state of a report being assembled.
type DraftData struct {
	Photos   int
	HasText  bool
	HasPlace bool
	Place    string
}

// CaseData is a case as messages show it.
type CaseData struct {
	No       string
	Category string
	Status   string // status code
	Size     string // size code
	Holder   string // a name or a body, in words
	Due      string
	Overdue  bool
	Code     string // close code
	Note     string
	Resident string
	Place    string
	Text     string
	Rework   int
	Supports int
}

// TodoData lists someone's open cases.
type TodoData struct {
	Items []CaseData
}

// ExampleData carries an example case number.
type ExampleData struct {
	Example string
}

// ReasonData carries why an input was refused, in words.
type ReasonData struct {
	Reason string
}

// NoOfficerData names a district and department with no officer.
type NoOfficerData struct {
	District string
	Dept     string
}

// Patrols, visits and activities (rhythm.tmpl). Data: RhythmData.
const (
	MsgPatrolNeedStart      = "msg.patrol_need_start"
	MsgPatrolStarted        = "msg.patrol_started"
	MsgPatrolAlready        = "msg.patrol_already"
	MsgPatrolNeedEnd        = "msg.patrol_need_end"
	MsgPatrolNone           = "msg.patrol_none"
	MsgPatrolPoint          = "msg.patrol_point"
	MsgPatrolEnded          = "msg.patrol_ended"
	MsgPatrolOnlyInspectors = "msg.patrol_only_inspectors"
	MsgVisitNeedPlace       = "msg.visit_need_place"
	MsgVisitDone            = "msg.visit_done"
	MsgVisitOutside         = "msg.visit_outside"
	MsgVisitOnlyGuidance    = "msg.visit_only_guidance"
	MsgActivityFormat       = "msg.activity_format"
	MsgActivityDone         = "msg.activity_done"
	MsgActivityPhoto        = "msg.activity_photo"
)

// RhythmNames are the templates of rhythm.tmpl; Load insists on them too.
var RhythmNames = []string{
	MsgPatrolNeedStart, MsgPatrolStarted, MsgPatrolAlready, MsgPatrolNeedEnd, MsgPatrolNone, MsgPatrolPoint,
	MsgPatrolEnded, MsgPatrolOnlyInspectors, MsgVisitNeedPlace, MsgVisitDone, MsgVisitOutside, MsgVisitOnlyGuidance,
	MsgActivityFormat, MsgActivityDone, MsgActivityPhoto,
}

// RhythmData is the data of the patrol, visit and activity messages.
type RhythmData struct {
	Grid       string // a grid's name
	Since      string // a time of day, 08:30
	Minutes    int
	Points     int
	Counts     bool
	Community  string
	Count      int
	Month      string // 11月
	Kind       string // law or service
	Topic      string
	Place      string
	Attendance int
	Photos     int
}

// ---- Reports (digest.tmpl): digests, packs, ledgers, the assessment. ----

// Report template names.
const (
	DigestDaily       = "digest.daily"       // DigestData
	DigestPack        = "digest.pack"        // PackData
	ReportWeekday     = "report.weekday"     // int: 0 Sunday … 6 Saturday
	ReportHolder      = "report.holder"      // HolderData
	ReportValue       = "report.value"       // string: a value code (yes, no, law, service, chat, checkin, small_sample, total …)
	ReportTimeline    = "report.timeline"    // TimelineData
	ReportTitle       = "report.title"       // TitleData
	ReportSubtitle    = "report.subtitle"    // TitleData
	ReportSheet       = "report.sheet"       // string: a sheet id (cases, patrols, coverage, visits, visit_weeks, activities, assessment, definitions, pack_*)
	ReportColumns     = "report.columns"     // string: a sheet id; one column header a line
	ReportDefinitions = "report.definitions" // nil: the assessment's definitions, one "indicator<TAB>definition" a line
)

// DigestData is the daily digest of a district or, with Committee, of the
// whole subdistrict. Lists are already cut to fit; the *More fields count
// what was left out.
type DigestData struct {
	Committee           bool
	Name                string // the district's or the subdistrict's name
	Month, Day, Weekday int    // the digest's date; Weekday 0 is Sunday
	New, Closed         int    // filed and closed yesterday
	Open, DueToday      int    // open now; open and due later today
	Overdue, Verifying  int    // open and overdue; waiting for on-site verification
	Districts           []DigestLine
	DistrictsMore       int
	OverdueCases        []DigestCase
	OverdueMore         int
	DueCases            []DigestCase
	DueMore             int
	VerifyCases         []DigestCase
	VerifyMore          int
	Grids, Patrolled    int    // yesterday's grids and those patrolled
	PatrolPct           string // "75%"
	Missed              []DigestMiss
	MissedMore          int
	Visits, VisitsDone  int // this week's officer-community visits due and done
	VisitsDue           []DigestVisit
	VisitsMore          int
}

// DigestLine is one district's line in the committee's digest.
type DigestLine struct {
	Name                                      string
	New, Closed, DueToday, Overdue, Verifying int
	Grids, Patrolled, Visits, VisitsDone      int
}

// DigestCase is a case in a digest list. It carries no resident data.
type DigestCase struct {
	District    string // the district's name (committee lists only)
	No          string
	Category    string
	Grid        string // the grid's name
	Due         string // "11-02 18:00"
	Holder      string // who holds it, in words (report.holder)
	Escalations int
}

// DigestMiss is a grid nobody patrolled and its inspectors.
type DigestMiss struct {
	Grid   string
	People []string
	Days   int  // days in a row with no patrol, up to yesterday (at most the flag's threshold)
	Stale  bool // Days reached the threshold: flagged
}

// DigestVisit is an officer and the communities not visited yet this week.
type DigestVisit struct {
	Officer     string
	Communities []string
}

// PackData is the weekly (周例会) or monthly (月例会) pack of a district or,
// with Committee, of the subdistrict.
type PackData struct {
	Monthly, Committee                 bool
	Name                               string
	Year, Month, Week                  int
	FromMonth, FromDay, ToMonth, ToDay int
	Filed, OnSpot, Closed, OnTime      int
	Unsolvable, OpenOverdue            int
	OverdueEvents, Escalated           int
	Handled, Reworked                  int
	BySource                           []PackCount // Code is a source code
	ByPlan                             []PackCount // Name is a plan category
	ByPlanMore                         int
	Hotspots                           []PackHotspot
	HotspotsMore                       int
	Patrol, Visits, Activities         PackRatio
	Score, Grade                       string // monthly: the assessment; "" otherwise
	Rank                               int
	Small                              bool
	Districts                          []PackLine
	DistrictsMore                      int
}

// PackCount is a count by source or category.
type PackCount struct {
	Code, Name string
	N          int
}

// PackHotspot is a grid where one category was reported again and again.
type PackHotspot struct {
	District, Grid, Category string
	N                        int
}

// PackRatio is what was done of what was due, with its percentage.
type PackRatio struct {
	Done, Total int
	Pct         string // "87.5%", or "—" when nothing was due
}

// PackLine is one district's line in the committee's pack.
type PackLine struct {
	Name                                         string
	Filed, Closed, OnTime, OpenOverdue, Reworked int
	Patrol, Visits                               PackRatio
	Score, Grade                                 string
	Rank                                         int
}

// HolderData names who holds a case: Kind is person, station, committee,
// partner, external or inspector; Name the person, district or body.
type HolderData struct {
	Kind, Name string
}

// TimelineData is a case's history in brief, for the ledger.
type TimelineData struct {
	Items []TimelineItem
}

// TimelineItem is one step: when ("11-02 09:10"), who (a name), the action
// code and its note.
type TimelineItem struct {
	When, Actor, Action, Note string
}

// TitleData is the title and subtitle of a report: Kind is its sheet id
// (cases, patrols, visits, assessment, weekly, monthly); a week shows its
// number and dates, a month its number; Gen* say when it was made.
type TitleData struct {
	Kind, Subdistrict                  string
	Year, Month, Week                  int
	FromMonth, FromDay, ToMonth, ToDay int
	GenYear, GenMonth, GenDay          int
	GenTime                            string // "08:30"
	Count                              int    // rows, 0 to leave out
	Partial                            bool   // the period has not ended yet
}
