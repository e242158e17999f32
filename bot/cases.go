package bot

import (
	"strings"
	"time"

	"gridbot/bot/roster"
	"gridbot/templates"
)

// cardButton is one button as the service thinks of it.
type cardButton struct {
	Key   string
	Label string
	Style int // 1 primary (blue), 2 secondary
}

// clickRef is the card tap (or the pending action that followed one) an
// action came from: the card is marked used and updated in place.
type clickRef struct {
	card         Card
	responseCode string
}

// sendCard records a card with a fresh task_id and sends it to user.
func (c *conv) sendCard(user string, card Card, data templates.CardData, rows []KeyValue, buttons []cardButton) error {
	card.TaskID = newTaskID()
	card.Recipient = user
	card.State = CardOpen
	card.CreatedAt = c.now
	for _, b := range buttons {
		card.Actions = append(card.Actions, b.Key)
	}
	if err := c.tx.PutCard(c.ctx, card); err != nil {
		return err
	}
	tc := TemplateCard{
		CardType:              CardButton,
		Source:                &CardSource{Desc: c.word(templates.CardSource, data)},
		MainTitle:             &CardTitle{Title: c.word(templates.CardTitle, data), Desc: c.word(templates.CardDesc, data)},
		SubTitleText:          shorten(c.word(templates.CardSub, data), 160),
		HorizontalContentList: rows,
		TaskID:                card.TaskID,
	}
	for _, b := range buttons {
		tc.ButtonList = append(tc.ButtonList, Button{Text: b.Label, Style: b.Style, Key: b.Key})
	}
	return c.tx.Enqueue(c.ctx, NewCardMessage("card:"+card.TaskID, user, tc))
}

// finishCard marks a card used and greys its buttons out on the tapper's
// phone with who did what, using the tap's one-time response code.
func (c *conv) finishCard(card Card, responseCode, what, action string) error {
	if card.State == CardOpen {
		if err := c.tx.UseCard(c.ctx, card.TaskID, c.me.UserID, action, c.now); err != nil {
			return err
		}
	}
	return c.greyCard(card, responseCode, c.word(templates.CardDone, templates.DoneData{By: c.me.Name, What: what}))
}

// greyCard replaces a card's buttons with text, once per tap.
func (c *conv) greyCard(card Card, responseCode, text string) error {
	if responseCode == "" {
		return nil
	}
	return c.tx.Enqueue(c.ctx, NewCardUpdate("upd:"+responseCode, CardUpdate{
		UserIDs: []string{c.me.UserID}, ResponseCode: responseCode, Button: &ReplaceName{ReplaceName: shorten(text, 20)},
	}))
}

// click handles a tap on a template card.
func (c *conv) click(taskID, key, responseCode string) error {
	card, err := c.tx.GetCard(c.ctx, taskID)
	if ErrorCode(err) == ENOTFOUND {
		c.audit(0, Action(key), "unknown card "+taskID)
		return c.say(templates.MsgCardUnknown, nil)
	}
	if err != nil {
		return err
	}
	if card.Recipient != c.me.UserID {
		c.audit(card.CaseID, Action(key), "tap on a card sent to "+card.Recipient)
		return c.say(templates.MsgRefusedPerson, templates.CaseData{No: c.caseNo(card.CaseID)})
	}
	if !contains(card.Actions, key) {
		c.audit(card.CaseID, Action(key), "key not on the card")
		return c.say(templates.MsgCardUnknown, nil)
	}
	if card.State != CardOpen {
		what := c.word(templates.ActionW, card.Action)
		if err := c.greyCard(card, responseCode, c.word(templates.CardDone, templates.DoneData{What: what})); err != nil {
			return err
		}
		return c.say(templates.MsgCardUsed, templates.DoneData{What: what})
	}
	if card.CaseID == 0 {
		return c.draftClick(card, key, responseCode)
	}
	kase, err := c.tx.GetCase(c.ctx, card.CaseID)
	if err != nil {
		return err
	}
	if kase.Version != card.Version {
		// Someone else acted first, or the case moved on.
		if err := c.tx.UseCard(c.ctx, card.TaskID, c.me.UserID, "stale", c.now); err != nil {
			return err
		}
		if err := c.greyCard(card, responseCode, c.word(templates.Status, string(kase.Status))); err != nil {
			return err
		}
		return c.say(templates.MsgRefusedState, c.caseData(kase, false))
	}
	return c.caseKey(kase, card, key, responseCode)
}

// caseKey turns a button of a case card into an action, a choice card or a
// question the member answers next.
func (c *conv) caseKey(kase Case, card Card, key, responseCode string) error {
	ref := &clickRef{card: card, responseCode: responseCode}
	action, param, _ := strings.Cut(key, ":")
	switch action {
	case "menu_assign":
		var bs []cardButton
		for _, d := range roster.Depts() {
			bs = append(bs, cardButton{Key: "assign:" + deptKey(string(d)), Label: string(d), Style: 2})
		}
		return c.choiceCard(kase, "menu_assign", bs, responseCode, card)
	case "menu_transfer":
		var bs []cardButton
		for _, p := range c.partnersFor(kase) {
			bs = append(bs, cardButton{Key: "transfer:" + p.ID, Label: shorten(p.Name, 10), Style: 2})
		}
		return c.choiceCard(kase, "menu_transfer", bs, responseCode, card)
	case "menu_close":
		bs := []cardButton{
			{Key: "close:not_ours", Label: c.word(templates.ButtonW, "close_not_ours"), Style: 2},
			{Key: "close:unsolvable", Label: c.word(templates.ButtonW, "close_unsolvable"), Style: 2},
			{Key: "close:duplicate", Label: c.word(templates.ButtonW, "close_duplicate"), Style: 2},
		}
		return c.choiceCard(kase, "menu_close", bs, responseCode, card)
	case "size":
		return c.perform(kase, Input{Action: ActSetSize, Size: Size(param)}, ref)
	case "assign":
		dept := deptName(param)
		return c.perform(kase, Input{Action: ActAssign, Dept: dept, Assignee: c.officer(kase.District, dept)}, ref)
	case "transfer":
		return c.perform(kase, Input{Action: ActTransfer, Partner: param}, ref)
	case "call_guidance":
		return c.perform(kase, Input{Action: ActCallGuidance, Assignee: c.officer(kase.District, kase.Dept)}, ref)
	case "close":
		switch CloseCode(param) {
		case CloseNotOurs:
			return c.ask(kase, ref, ActClose, param, "text", false, templates.MsgNeedOwner, nil)
		case CloseDuplicate:
			return c.ask(kase, ref, ActClose, param, "text", false, templates.MsgNeedDup, templates.ExampleData{Example: c.exampleNo()})
		}
		return c.perform(kase, Input{Action: ActClose, Code: CloseCode(param)}, ref)
	case string(ActHandled):
		return c.ask(kase, ref, ActHandled, "", "photo", true, templates.MsgNeedAfterPhoto, nil)
	case string(ActVerifyOK), string(ActVerifyPart):
		return c.ask(kase, ref, Action(action), "", "photo", true, templates.MsgNeedVerifyPhoto, nil)
	case string(ActVerifyFail):
		return c.ask(kase, ref, ActVerifyFail, "", "text", true, templates.MsgNeedReason, nil)
	case string(ActReply):
		return c.ask(kase, ref, ActReply, "", "text", true, templates.MsgNeedReply, nil)
	}
	return c.perform(kase, Input{Action: Action(action)}, ref)
}

// ask checks that the action is allowed now, then waits for the member's
// photo or text before taking it.
func (c *conv) ask(kase Case, ref *clickRef, action Action, param, need string, optional bool, prompt string, data any) error {
	in := c.input(kase, Input{Action: action, Code: CloseCode(param), Partner: "-", DupOf: "-"})
	if _, err := Step(kase, in, c.s.Policy, c.now); err != nil {
		return c.refuse(kase, in, err)
	}
	c.d.Session.Pending = &Pending{CaseID: kase.ID, Version: kase.Version, Action: action, Param: param, Need: need, Optional: optional,
		TaskID: ref.card.TaskID, ResponseCode: ref.responseCode, Until: c.now.Add(c.s.pendingTTL())}
	c.d.dirty = true
	return c.say(prompt, data)
}

// answerPending completes the pending action with the member's text or photos.
func (c *conv) answerPending(text string, photos []string) error {
	p := c.d.Session.Pending
	c.d.Session.Pending = nil
	c.d.dirty = true
	kase, err := c.tx.GetCase(c.ctx, p.CaseID)
	if err != nil {
		return err
	}
	card, err := c.tx.GetCard(c.ctx, p.TaskID)
	if err != nil {
		return err
	}
	if kase.Version != p.Version || card.State != CardOpen {
		return c.say(templates.MsgRefusedState, c.caseData(kase, false))
	}
	if text == "跳过" {
		text = ""
	}
	in := Input{Action: p.Action, Code: CloseCode(p.Param), Note: text, Photos: photos}
	switch {
	case p.Action == ActClose && CloseCode(p.Param) == CloseNotOurs:
		in.Partner = text
	case p.Action == ActClose && CloseCode(p.Param) == CloseDuplicate:
		in.DupOf = strings.ToUpper(strings.TrimSpace(text))
		if _, err := c.tx.GetCaseByNo(c.ctx, in.DupOf); err != nil {
			c.d.Session.Pending = p // ask again
			return c.say(templates.MsgQueryNone, templates.CaseData{No: in.DupOf})
		}
	}
	return c.perform(kase, in, &clickRef{card: card, responseCode: p.ResponseCode})
}

// choiceCard answers a menu button with a card of choices.
func (c *conv) choiceCard(kase Case, kind string, bs []cardButton, responseCode string, from Card) error {
	if len(bs) == 0 {
		return c.say(templates.MsgCardUnknown, nil)
	}
	if len(bs) > 6 {
		bs = bs[:6]
	}
	data := c.cardData(kase, kind, c.me.UserID)
	return c.sendCard(c.me.UserID, Card{CaseID: kase.ID, Kind: kind, Version: kase.Version}, data, c.cardRows(kase, data), bs)
}

// input fills in who the actor is and how they stand to the case.
func (c *conv) input(kase Case, in Input) Input {
	in.Actor = c.me.UserID
	in.Rels = c.s.rels(c.me, kase)
	return in
}

// rels is how a person stands to a case, for the table.
func (s *Service) rels(p roster.Person, kase Case) []Rel {
	var out []Rel
	if (p.HasRole(roster.RoleChief) || p.HasRole(roster.RoleDeputy)) && p.District == kase.District {
		out = append(out, RelChief)
	}
	if kase.Assignee != "" && kase.Assignee == p.UserID {
		out = append(out, RelAssignee)
	}
	if p.HasRole(roster.RoleCommittee) {
		out = append(out, RelCommittee)
	}
	if p.HasRole(roster.RoleInspector) && (kase.Status == StNew || p.Grid == kase.Grid) {
		out = append(out, RelInspector)
	}
	if kase.Status == StVerifying && len(s.Roster.InspectorsOf(kase.Grid)) == 0 &&
		(p.HasRole(roster.RoleChief) || p.HasRole(roster.RoleDeputy)) && p.District == kase.District {
		out = append(out, RelInspector) // a grid with no inspector: the station verifies
	}
	if p.HasRole(roster.RoleInspector) || p.HasRole(roster.RoleStationStaff) || p.HasRole(roster.RoleChief) || p.HasRole(roster.RoleDeputy) {
		out = append(out, RelReporter)
	}
	return out
}

// perform takes one action on a case under the table and carries out
// everything it causes, inside the delivery's transaction.
func (c *conv) perform(kase Case, in Input, ref *clickRef) error {
	in = c.input(kase, in)
	out, err := Step(kase, in, c.s.Policy, c.now)
	if err != nil {
		return c.refuse(kase, in, err)
	}
	next := out.Case
	if kase.Status == StNew {
		no, err := c.tx.NextCaseNo(c.ctx, c.s.Roster.Subdistrict.Code, c.now.In(c.s.Policy.Zone))
		if err != nil {
			return err
		}
		next.No = no
		if err := c.tx.CreateCase(c.ctx, &next); err != nil {
			return err
		}
	} else if err := c.tx.UpdateCase(c.ctx, next); err != nil {
		return err // a lost compare-and-set rolls back; the retry sees the case as it is
	}
	ev := out.Event
	ev.CaseID, ev.Key = next.ID, c.d.DedupeKey
	if err := c.tx.AddEvent(c.ctx, ev); err != nil {
		return err
	}
	if err := c.addPhotos(next, in); err != nil {
		return err
	}
	if ref != nil {
		what := c.word(templates.ActionW, string(in.Action))
		if kase.Status == StNew {
			what += " " + next.No
		}
		if err := c.finishCard(ref.card, ref.responseCode, what, string(in.Action)); err != nil {
			return err
		}
	}
	return c.s.notify(c.ctx, c.tx, c.now, next, in, out.Notices, c.d.DedupeKey)
}

func (c *conv) addPhotos(kase Case, in Input) error {
	kind := "before"
	switch in.Action {
	case ActHandled, ActReply:
		kind = "after"
	case ActVerifyOK, ActVerifyPart, ActVerifyFail:
		kind = "verify"
	}
	var ps []Photo
	for i, id := range in.Photos {
		k := kind
		if in.Action == ActOnSpot && i == len(in.Photos)-1 {
			k = "after"
		}
		ps = append(ps, Photo{CaseID: kase.ID, MediaID: id, Kind: k, By: c.me.UserID, At: c.now})
	}
	if len(ps) == 0 {
		return nil
	}
	return c.tx.AddPhotos(c.ctx, ps...)
}

// refuse answers a refused action politely and audits the attempt.
func (c *conv) refuse(kase Case, in Input, err error) error {
	switch ErrorCode(err) {
	case EUNAUTHORIZED:
		c.audit(kase.ID, in.Action, "not allowed")
		return c.say(templates.MsgRefusedPerson, c.caseData(kase, false))
	case ECONFLICT:
		c.audit(kase.ID, in.Action, "not possible now")
		return c.say(templates.MsgRefusedState, c.caseData(kase, false))
	case EINVALID:
		if in.Action == ActCallGuidance || in.Action == ActAssign {
			d, _ := c.s.Roster.District(kase.District)
			dept := kase.Dept
			if in.Dept != "" {
				dept = in.Dept
			}
			return c.say(templates.MsgNoOfficer, templates.NoOfficerData{District: d.Name, Dept: dept})
		}
		return c.say(templates.MsgBadInput, templates.ReasonData{Reason: ErrorMessage(err)})
	}
	return err
}

// audit records a refused attempt on a case; it changes nothing else.
func (c *conv) audit(caseID int64, action Action, note string) {
	if caseID == 0 {
		return
	}
	_ = c.tx.AddEvent(c.ctx, Event{CaseID: caseID, At: c.now, Actor: c.me.UserID, Action: action, Note: note, Key: c.d.DedupeKey, Denied: true})
}

func (c *conv) caseNo(id int64) string {
	if id == 0 {
		return ""
	}
	k, err := c.tx.GetCase(c.ctx, id)
	if err != nil {
		return ""
	}
	return k.No
}

// officer is the guidance officer of a department serving a district.
func (c *conv) officer(district, dept string) string {
	return c.s.officer(district, dept)
}

func (s *Service) officer(district, dept string) string {
	if os := s.Roster.Guidance(district, roster.Dept(dept)); len(os) > 0 {
		return os[0].UserID
	}
	return ""
}

// partnersFor lists the partner bodies that can take a case: its district's
// and the whole subdistrict's, its community's 居委会 first.
func (c *conv) partnersFor(kase Case) []roster.Partner {
	var first, rest []roster.Partner
	for _, p := range c.s.Roster.Partners {
		if p.District != "" && p.District != kase.District {
			continue
		}
		if p.Kind == roster.KindResidents && p.Community != "" && p.Community != kase.Community {
			continue
		}
		if p.Community != "" && p.Community == kase.Community {
			first = append(first, p)
		} else {
			rest = append(rest, p)
		}
	}
	return append(first, rest...)
}

// deptKey and deptName map departments to ASCII button keys and back.
var deptKeys = map[string]string{"环卫": "sanitation", "住建": "construction", "园林": "landscape", "执法": "enforcement"}

func deptKey(d string) string { return deptKeys[d] }

func deptName(key string) string {
	for name, k := range deptKeys {
		if k == key {
			return name
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// todo lists the member's open cases.
func (c *conv) todo() error {
	var items []templates.CaseData
	seen := map[int64]bool{}
	add := func(f CaseFilter) error {
		f.Open, f.Limit = true, 20
		list, err := c.tx.ListCases(c.ctx, f)
		if err != nil {
			return err
		}
		for _, k := range list {
			if !seen[k.ID] && len(items) < 20 {
				seen[k.ID] = true
				items = append(items, c.caseData(k, false))
			}
		}
		return nil
	}
	if err := add(CaseFilter{Assignee: c.me.UserID}); err != nil {
		return err
	}
	if c.me.HasRole(roster.RoleChief) || c.me.HasRole(roster.RoleDeputy) {
		if err := add(CaseFilter{District: c.me.District, Status: StReported}); err != nil {
			return err
		}
	}
	if c.me.HasRole(roster.RoleCommittee) {
		if err := add(CaseFilter{Status: StCommittee}); err != nil {
			return err
		}
	}
	if c.me.HasRole(roster.RoleInspector) && c.me.Grid != "" {
		list, err := c.tx.ListCases(c.ctx, CaseFilter{Status: StVerifying, District: c.me.District, Limit: 50})
		if err != nil {
			return err
		}
		for _, k := range list {
			if k.Grid == c.me.Grid && !seen[k.ID] {
				seen[k.ID] = true
				items = append(items, c.caseData(k, false))
			}
		}
	}
	return c.say(templates.MsgTodo, templates.TodoData{Items: items})
}

// query shows one case by its number.
func (c *conv) query(no string) error {
	no = strings.ToUpper(strings.TrimSpace(no))
	if no == "" {
		return c.say(templates.MsgQueryFormat, templates.ExampleData{Example: c.exampleNo()})
	}
	kase, err := c.tx.GetCaseByNo(c.ctx, no)
	if ErrorCode(err) == ENOTFOUND {
		return c.say(templates.MsgQueryNone, templates.CaseData{No: no})
	}
	if err != nil {
		return err
	}
	return c.say(templates.MsgQuery, c.caseData(kase, c.s.isCasePerson(kase, c.me.UserID)))
}

// isCasePerson: the case's own people see a resident's full phone number.
func (s *Service) isCasePerson(kase Case, user string) bool {
	return user != "" && (user == kase.Receiver || user == kase.Reporter || user == kase.Assignee)
}

// caseData is a case in words for messages; full shows the resident's phone.
func (c *conv) caseData(kase Case, full bool) templates.CaseData {
	return c.s.caseData(kase, full)
}

func (s *Service) caseData(kase Case, full bool) templates.CaseData {
	d := templates.CaseData{
		No: kase.No, Category: kase.Category, Status: string(kase.Status), Size: string(kase.Size),
		Holder: s.holderName(kase), Due: s.fmtTime(kase.DueAt), Overdue: kase.Overdue, Code: string(kase.CloseCode),
		Note: kase.CloseNote, Place: kase.Place, Text: kase.Text, Rework: kase.Rework, Supports: kase.Supports,
	}
	if kase.ResidentName != "" {
		phone := MaskPhone(kase.ResidentPhone)
		if full {
			phone = kase.ResidentPhone
		}
		d.Resident = kase.ResidentName + " " + phone
	}
	return d
}

// holderName says in words who holds a case.
func (s *Service) holderName(kase Case) string {
	name := func(user string) string {
		if p, ok := s.Roster.Person(user); ok {
			return p.Name
		}
		return user
	}
	h := templates.HolderData{}
	switch kase.Status {
	case StReported:
		d, ok := s.Roster.District(kase.District)
		if !ok {
			return ""
		}
		h = templates.HolderData{Kind: "station", Name: d.Name}
	case StStation, StGuidance:
		return name(kase.Assignee)
	case StCommittee:
		h.Kind = "committee"
	case StPartner:
		for _, p := range s.Roster.Partners {
			if p.ID == kase.Partner {
				return p.Name
			}
		}
		return kase.Partner
	case StExternal:
		h.Kind = "external"
	case StVerifying:
		if is := s.Roster.InspectorsOf(kase.Grid); len(is) > 0 {
			return is[0].Name
		}
		return ""
	default:
		return ""
	}
	t, err := s.T.Render(templates.ReportHolder, h)
	if err != nil {
		return h.Name
	}
	return t
}

func (s *Service) fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	l := t.In(s.Policy.Zone)
	w := templates.WhenData{Month: int(l.Month()), Day: l.Day(), Clock: l.Format("15:04")}
	if l.Hour() == 0 && l.Minute() == 0 { // midnight is the day before's 24:00
		l = l.Add(-time.Minute)
		w = templates.WhenData{Month: int(l.Month()), Day: l.Day(), Clock: "24:00"}
	}
	out, err := s.T.Render(templates.When, w)
	if err != nil {
		return l.Format("01-02 15:04")
	}
	return out
}
