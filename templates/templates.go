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
	Help, "status", "action", "size", "source", "closecode", "button",
	CardSource, CardTitle, CardDesc, CardSub, CardDone,
	RowCategory, RowPlace, RowGrid, RowPhotos, RowDue, RowStatus, RowHolder, ValuePhotos, ValueDue,
	MsgNotRegistered, MsgDraftPhoto, MsgDraftPlace, MsgDraftNeedPlace, MsgDraftStart, MsgDraftNone,
	MsgDraftCancelled, MsgDraftExpired, MsgResidentFormat, MsgFiled, MsgOnSpot, MsgClosed, MsgCallBack,
	MsgReworked, MsgReminder, MsgOverdue, MsgSupported, MsgRefusedPerson, MsgRefusedState, MsgCardUsed,
	MsgCardUnknown, MsgNeedAfterPhoto, MsgNeedVerifyPhoto, MsgNeedOwner, MsgNeedDup, MsgNeedReply,
	MsgNeedReason, MsgVoiceUnsupported, MsgDone, MsgBadInput, MsgNoOfficer, MsgTodo, MsgQuery, MsgQueryNone, MsgQueryFormat,
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

// HelpData is the data of Help.
type HelpData struct {
	Name string // the member's name, or "" when unknown
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
