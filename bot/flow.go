package bot

import (
	"fmt"
	"time"
)

// Rel is how the actor stands to a case: the transition table allows an
// action to relations, not to names.
type Rel string

// Relations.
const (
	RelChief     Rel = "chief"     // chief or deputy of the case's district (站长/副站长)
	RelAssignee  Rel = "assignee"  // holds the case now
	RelCommittee Rel = "committee" // the committee office (城管委办公室)
	RelInspector Rel = "inspector" // an inspector of the case's grid
	RelReporter  Rel = "reporter"  // may file a report: an inspector or station staff
	RelSystem    Rel = "system"    // the clock
)

// Input is one attempted action on a case.
type Input struct {
	Action   Action
	Actor    string // userid, or "system"
	Rels     []Rel  // how the actor stands to the case
	Assignee string // the officer who will hold it (call_guidance, assign, overdue)
	Dept     string // assign
	Partner  string // transfer; the owner named with close not_ours
	Code     CloseCode
	DupOf    string
	Size     Size
	Note     string
	Photos   []string
}

func (in Input) has(r Rel) bool {
	for _, x := range in.Rels {
		if x == r {
			return true
		}
	}
	return false
}

// Policy holds the plan's clock: 小事不过夜、大事不过周.
type Policy struct {
	Zone        *time.Location
	SmallHour   int           // a small case is due the same day at this hour (24 = midnight)
	BigFor      time.Duration // a big case is due this long after it is filed (7 days)
	RemindShare float64       // remind when this share of the time is gone (0.8)
}

// DefaultPolicy is the plan's: small by 24:00 the same day, big within 7
// days, reminded at 80% of the time.
func DefaultPolicy() Policy {
	return Policy{Zone: Shanghai(), SmallHour: 24, BigFor: 7 * 24 * time.Hour, RemindShare: 0.8}
}

// Due is the deadline of a case of this size filed (or escalated) at from.
func (p Policy) Due(size Size, from time.Time) time.Time {
	if size == Big {
		return from.Add(p.BigFor)
	}
	l := from.In(p.Zone)
	due := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, p.Zone).Add(time.Duration(p.SmallHour) * time.Hour)
	if !due.After(from) { // filed after the day's cut-off: the next day's
		due = due.Add(24 * time.Hour)
	}
	return due
}

// Remind is when to remind of a deadline running from from to due.
func (p Policy) Remind(from, due time.Time) time.Time {
	return from.Add(time.Duration(float64(due.Sub(from)) * p.RemindShare))
}

// Notice is something the transition asks the service to send: a card or a
// message to the people of a target.
type Notice struct {
	To   Target
	Kind string // a card kind (Card*) or a message kind (Msg*)
}

// Target names people by their relation to the case.
type Target string

// Targets.
const (
	ToChiefs     Target = "chiefs"     // the district's chief and deputies
	ToAssignee   Target = "assignee"   // whoever holds it now
	ToCommittee  Target = "committee"  // every member of the committee office
	ToActor      Target = "actor"      // whoever acted
	ToInspectors Target = "inspectors" // the grid's inspectors
	ToReporter   Target = "reporter"
	ToReceiver   Target = "receiver" // the first receiver of a resident's complaint
)

// Card kinds: which buttons a person gets.
const (
	CardChief     = "chief"     // 自行处置 / 呼叫指导员 / 上报城管委 / 改大小 / 结案
	CardStation   = "station"   // 已处置 / 呼叫指导员 / 上报城管委
	CardGuidance  = "guidance"  // 接单 / 已处置 / 上报城管委
	CardAccepted  = "accepted"  // 已处置 / 上报城管委
	CardCommittee = "committee" // 指派 / 转交 / 上报区市 / 已处置 / 结案
	CardTrack     = "track"     // 已办结 / 结案: a partner's or higher level's reply
	CardVerify    = "verify"    // 核查通过 / 部分解决 / 未解决
	// CardForStatus is the card of whatever level holds the case now.
	CardForStatus = "for_status"
)

// Message kinds.
const (
	MsgFiled     = "filed"     // to the reporter: filed, its number, who has it
	MsgClosed    = "closed"    // to the reporter: closed and how
	MsgCallBack  = "callback"  // to the first receiver: call the resident back
	MsgReworked  = "reworked"  // to the holder: verification failed
	MsgReminder  = "reminder"  // to the holder: the deadline is near
	MsgOverdue   = "overdue"   // to the chiefs: overdue, escalated
	MsgSupported = "supported" // to the reporter: a 附议 was counted
)

// Transition is one row of the table: from these statuses, this action, by
// these relations, leads to To (StSame: the status apply leaves). apply
// changes the case; it sees the status the case comes from.
type Transition struct {
	From    []Status
	Action  Action
	Who     []Rel
	To      Status
	Notices []Notice
	Doc     string // what happens, for the README
	apply   func(c *Case, in Input, p Policy, now time.Time) error
}

// StSame marks a transition that keeps the status.
const StSame Status = "same"

var openStatuses = []Status{StReported, StStation, StGuidance, StCommittee, StPartner, StExternal, StVerifying}

// Table is the case workflow: every action anyone may take, in one place.
func Table() []Transition {
	return []Transition{
		{From: []Status{StNew}, Action: ActReport, Who: []Rel{RelReporter}, To: StReported,
			Notices: []Notice{{ToChiefs, CardChief}, {ToReporter, MsgFiled}},
			Doc:     "filed; the district's chiefs get the first-handling card",
			apply: func(c *Case, in Input, p Policy, now time.Time) error {
				c.CreatedAt = now
				setDeadline(c, p, now)
				return nil
			}},
		{From: []Status{StNew}, Action: ActOnSpot, Who: []Rel{RelInspector}, To: StClosed,
			Notices: []Notice{{ToReporter, MsgClosed}},
			Doc:     "a small case handled on the spot: before and after photo, closed and still counted",
			apply: func(c *Case, in Input, p Policy, now time.Time) error {
				if c.Size != Small {
					return Errorf(EINVALID, "only a small case can be handled on the spot")
				}
				if len(in.Photos) < 2 {
					return Errorf(EINVALID, "on-the-spot handling needs a before and an after photo")
				}
				c.CreatedAt, c.OnSpot = now, true
				setDeadline(c, p, now)
				closeCase(c, CloseResolved, now)
				return nil
			}},
		{From: []Status{StReported}, Action: ActSelf, Who: []Rel{RelChief}, To: StStation,
			Notices: []Notice{{ToAssignee, CardStation}},
			Doc:     "the station handles it itself (自行处置); the chief who tapped holds it",
			apply: func(c *Case, in Input, p Policy, now time.Time) error {
				c.Assignee = in.Actor
				return nil
			}},
		{From: []Status{StReported, StStation}, Action: ActCallGuidance, Who: []Rel{RelChief}, To: StGuidance,
			Notices: []Notice{{ToAssignee, CardGuidance}},
			Doc:     "the guidance officer of the category's department is called",
			apply:   toOfficer},
		{From: []Status{StReported, StStation}, Action: ActEscalate, Who: []Rel{RelChief}, To: StCommittee,
			Notices: []Notice{{ToCommittee, CardCommittee}},
			Doc:     "escalated to the committee office (难事不出街道)",
			apply:   toCommittee},
		{From: []Status{StGuidance}, Action: ActAccept, Who: []Rel{RelAssignee}, To: StSame,
			Notices: []Notice{{ToAssignee, CardAccepted}},
			Doc:     "the officer takes it",
			apply:   noop},
		{From: []Status{StGuidance}, Action: ActEscalate, Who: []Rel{RelAssignee}, To: StCommittee,
			Notices: []Notice{{ToCommittee, CardCommittee}},
			Doc:     "the officer cannot solve it: to the committee office",
			apply:   toCommittee},
		{From: []Status{StCommittee}, Action: ActAssign, Who: []Rel{RelCommittee}, To: StGuidance,
			Notices: []Notice{{ToAssignee, CardGuidance}},
			Doc:     "the committee assigns a department's officer",
			apply: func(c *Case, in Input, p Policy, now time.Time) error {
				if in.Dept == "" {
					return Errorf(EINVALID, "assign needs a department")
				}
				c.Dept = in.Dept
				return toOfficer(c, in, p, now)
			}},
		{From: []Status{StCommittee}, Action: ActTransfer, Who: []Rel{RelCommittee}, To: StPartner,
			Notices: []Notice{{ToActor, CardTrack}},
			Doc:     "handed to a partner body (转交: 公安, 交警, 居委会, 物业 …); its reply is tracked",
			apply: func(c *Case, in Input, p Policy, now time.Time) error {
				if in.Partner == "" {
					return Errorf(EINVALID, "transfer needs a partner")
				}
				c.Partner, c.Assignee = in.Partner, in.Actor
				return nil
			}},
		{From: []Status{StCommittee}, Action: ActEscalateUp, Who: []Rel{RelCommittee}, To: StExternal,
			Notices: []Notice{{ToActor, CardTrack}},
			Doc:     "escalated beyond the subdistrict (区/市, 大事三级联动), tracked until it comes back",
			apply: func(c *Case, in Input, p Policy, now time.Time) error {
				c.Assignee = in.Actor
				return nil
			}},
		{From: []Status{StPartner, StExternal}, Action: ActReply, Who: []Rel{RelCommittee}, To: StVerifying,
			Notices: []Notice{{ToInspectors, CardVerify}},
			Doc:     "the partner's or higher level's reply is in: the grid's inspector verifies",
			apply:   toVerify},
		{From: []Status{StStation}, Action: ActHandled, Who: []Rel{RelAssignee, RelChief}, To: StVerifying,
			Notices: []Notice{{ToInspectors, CardVerify}},
			Doc:     "marked handled (after-photo asked for): the grid's inspector verifies",
			apply:   toVerify},
		{From: []Status{StGuidance}, Action: ActHandled, Who: []Rel{RelAssignee}, To: StVerifying,
			Notices: []Notice{{ToInspectors, CardVerify}},
			Doc:     "the officer marks it handled: the grid's inspector verifies",
			apply:   toVerify},
		{From: []Status{StCommittee}, Action: ActHandled, Who: []Rel{RelCommittee}, To: StVerifying,
			Notices: []Notice{{ToInspectors, CardVerify}},
			Doc:     "the committee had it handled: the grid's inspector verifies",
			apply:   toVerify},
		{From: []Status{StVerifying}, Action: ActVerifyOK, Who: []Rel{RelInspector}, To: StClosed,
			Notices: []Notice{{ToReporter, MsgClosed}, {ToReceiver, MsgCallBack}},
			Doc:     "verified on site (办结情况由网格员实地查证后结案): closed, resolved",
			apply: func(c *Case, in Input, p Policy, now time.Time) error {
				closeCase(c, CloseResolved, now)
				return nil
			}},
		{From: []Status{StVerifying}, Action: ActVerifyPart, Who: []Rel{RelInspector}, To: StClosed,
			Notices: []Notice{{ToReporter, MsgClosed}, {ToReceiver, MsgCallBack}},
			Doc:     "verified as partly solved: closed, partial",
			apply: func(c *Case, in Input, p Policy, now time.Time) error {
				closeCase(c, ClosePartial, now)
				return nil
			}},
		{From: []Status{StVerifying}, Action: ActVerifyFail, Who: []Rel{RelInspector}, To: StSame,
			Notices: []Notice{{ToAssignee, MsgReworked}, {ToAssignee, CardForStatus}},
			Doc:     "not solved: back to whoever handled it, rework counted",
			apply: func(c *Case, in Input, p Policy, now time.Time) error {
				c.Rework++
				switch c.Holder {
				case StPartner, StExternal, "":
					c.Status = StCommittee // the partner said done and was not: the committee decides again
				default:
					c.Status = c.Holder
				}
				c.Holder = ""
				return nil
			}},
		{From: []Status{StReported, StStation}, Action: ActClose, Who: []Rel{RelChief}, To: StClosed,
			Notices: []Notice{{ToReporter, MsgClosed}, {ToReceiver, MsgCallBack}},
			Doc:     "closed by the chief: not ours (owner named), unsolvable (挂账) or a duplicate",
			apply:   closeWithCode},
		{From: []Status{StReported, StStation, StGuidance, StCommittee, StPartner, StExternal}, Action: ActClose, Who: []Rel{RelCommittee}, To: StClosed,
			Notices: []Notice{{ToReporter, MsgClosed}, {ToReceiver, MsgCallBack}},
			Doc:     "closed by the committee: not ours (owner named), unsolvable (挂账) or a duplicate",
			apply:   closeWithCode},
		{From: []Status{StReported, StStation}, Action: ActSetSize, Who: []Rel{RelChief}, To: StSame,
			Notices: []Notice{{ToActor, CardForStatus}},
			Doc:     "the chief switches small ↔ big; the deadline is set again from the filing time",
			apply: func(c *Case, in Input, p Policy, now time.Time) error {
				if in.Size != Small && in.Size != Big {
					return Errorf(EINVALID, "size must be small or big")
				}
				c.Size = in.Size
				if !c.Overdue {
					setDeadlineFrom(c, p, c.CreatedAt, now)
				}
				return nil
			}},
		{From: openStatuses, Action: ActSupport, Who: []Rel{RelReporter, RelInspector}, To: StSame,
			Notices: []Notice{{ToActor, MsgSupported}},
			Doc:     "a near-duplicate report is linked (附议) and counted",
			apply: func(c *Case, in Input, p Policy, now time.Time) error {
				c.Supports++
				return nil
			}},
		{From: openStatuses, Action: ActRemind, Who: []Rel{RelSystem}, To: StSame,
			Notices: []Notice{{ToAssignee, MsgReminder}},
			Doc:     "the clock: the deadline is near; whoever holds it is reminded once",
			apply: func(c *Case, in Input, p Policy, now time.Time) error {
				c.RemindAt = time.Time{}
				return nil
			}},
		{From: openStatuses, Action: ActOverdue, Who: []Rel{RelSystem}, To: StSame,
			Notices: []Notice{{ToChiefs, MsgOverdue}},
			Doc:     "the clock: overdue; escalates one level (station → officer → committee), the chiefs are told",
			apply:   overdue},
	}
}

// Outcome is what Step decided: the new case, the event to record and what
// to send.
type Outcome struct {
	Case    Case
	Event   Event
	Notices []Notice
}

// Step applies in to c at now under the table. It does no I/O. A refused
// action returns EUNAUTHORIZED (wrong person) or ECONFLICT (not possible in
// this status); c is never changed in place.
func Step(c Case, in Input, p Policy, now time.Time) (Outcome, error) {
	var match *Transition
	possible := false
	for _, t := range Table() {
		if t.Action != in.Action || !hasStatus(t.From, c.Status) {
			continue
		}
		possible = true
		if allowed(t.Who, in) {
			t := t
			match = &t
			break
		}
	}
	if match == nil {
		if possible {
			return Outcome{}, Errorf(EUNAUTHORIZED, "%s may not %s this case", in.Actor, in.Action)
		}
		return Outcome{}, Errorf(ECONFLICT, "cannot %s a case that is %s", in.Action, statusName(c.Status))
	}
	next := c
	from := c.Status
	// apply sees the status it comes from; the table's To is set after.
	if err := match.apply(&next, in, p, now); err != nil {
		return Outcome{}, err
	}
	if match.To != StSame {
		next.Status = match.To
	}
	next.Version++
	next.UpdatedAt = now
	return Outcome{
		Case:    next,
		Event:   Event{CaseID: c.ID, At: now, Actor: in.Actor, Action: in.Action, From: from, To: next.Status, Note: in.Note, Photos: in.Photos},
		Notices: match.Notices,
	}, nil
}

func statusName(s Status) string {
	if s == StNew {
		return "new"
	}
	return string(s)
}

func hasStatus(list []Status, s Status) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func allowed(who []Rel, in Input) bool {
	for _, r := range who {
		if in.has(r) {
			return true
		}
	}
	return false
}

func noop(*Case, Input, Policy, time.Time) error { return nil }

func toOfficer(c *Case, in Input, p Policy, now time.Time) error {
	if in.Assignee == "" {
		return Errorf(EINVALID, "no guidance officer of %s serves this district", c.Dept)
	}
	c.Assignee = in.Assignee
	return nil
}

func toCommittee(c *Case, in Input, p Policy, now time.Time) error {
	c.Assignee = ""
	return nil
}

func toVerify(c *Case, in Input, p Policy, now time.Time) error {
	c.Holder = c.Status
	return nil
}

func closeCase(c *Case, code CloseCode, now time.Time) {
	c.Status, c.CloseCode, c.ClosedAt, c.RemindAt = StClosed, code, now, time.Time{}
}

func closeWithCode(c *Case, in Input, p Policy, now time.Time) error {
	switch in.Code {
	case CloseNotOurs:
		if in.Partner == "" {
			return Errorf(EINVALID, "name the body it belongs to")
		}
		c.Partner = in.Partner
	case CloseDuplicate:
		if in.DupOf == "" || in.DupOf == c.No {
			return Errorf(EINVALID, "name the case it duplicates")
		}
		c.DupOf = in.DupOf
	case CloseUnsolvable:
	default:
		return Errorf(EINVALID, "close with not_ours, unsolvable or duplicate; a solved case is verified on site")
	}
	c.CloseNote = in.Note
	closeCase(c, in.Code, now)
	return nil
}

// overdue escalates one level: station → officer (or the committee when the
// district has none for the department) → committee; at the committee and
// beyond, and while verifying, it stays and is chased. Each deadline passes
// once: a new one is set from now.
func overdue(c *Case, in Input, p Policy, now time.Time) error {
	c.Overdue = true
	c.Escalations++
	switch c.Status {
	case StReported, StStation:
		if in.Assignee != "" {
			c.Status, c.Assignee = StGuidance, in.Assignee
		} else {
			c.Status, c.Assignee = StCommittee, ""
		}
	case StGuidance:
		c.Status, c.Assignee = StCommittee, ""
	}
	setDeadline(c, p, now)
	return nil
}

func setDeadline(c *Case, p Policy, from time.Time) { setDeadlineFrom(c, p, from, from) }

// setDeadlineFrom sets the deadline from from and the reminder, unless the
// reminder would already be past at now.
func setDeadlineFrom(c *Case, p Policy, from, now time.Time) {
	c.DueAt = p.Due(c.Size, from)
	c.RemindAt = p.Remind(from, c.DueAt)
	if !c.RemindAt.After(now) {
		c.RemindAt = time.Time{}
	}
}

// DescribeTable prints the table, one row a line, for the README.
func DescribeTable() []string {
	var out []string
	for _, t := range Table() {
		from := ""
		for i, s := range t.From {
			if i > 0 {
				from += ", "
			}
			from += statusName(s)
		}
		who := ""
		for i, r := range t.Who {
			if i > 0 {
				who += ", "
			}
			who += string(r)
		}
		to := statusName(t.To)
		out = append(out, fmt.Sprintf("| %s | %s | %s | %s | %s |", from, t.Action, who, to, t.Doc))
	}
	return out
}
