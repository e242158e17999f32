package bot

import (
	"context"
	"fmt"
	"time"

	"gridbot/bot/roster"
	"gridbot/templates"
)

// notify sends what a transition asks for: cards to whoever acts next and
// messages to whoever should know. Keys derive from the case version, so a
// replayed transition sends nothing twice.
func (s *Service) notify(ctx context.Context, tx Tx, now time.Time, kase Case, in Input, notices []Notice, cause string) error {
	c := &conv{s: s, ctx: ctx, tx: tx, now: now, d: &Delivery{DedupeKey: cause, Session: &Session{}}}
	if p, ok := s.Roster.Person(in.Actor); ok {
		c.me = p
	}
	for _, n := range notices {
		for _, user := range s.targets(kase, in, n.To) {
			if err := c.notice(kase, n, user); err != nil {
				return err
			}
		}
	}
	return nil
}

// targets resolves a notice's target to userids.
func (s *Service) targets(kase Case, in Input, t Target) []string {
	ids := func(ps []roster.Person) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.UserID)
		}
		return out
	}
	switch t {
	case ToChiefs:
		return ids(s.Roster.Chiefs(kase.District))
	case ToAssignee:
		if kase.Status == StVerifying {
			return s.targets(kase, in, ToInspectors) // the inspector holds it now
		}
		if kase.Assignee != "" {
			return []string{kase.Assignee}
		}
		switch kase.Status {
		case StCommittee, StPartner, StExternal:
			return ids(s.Roster.Committee())
		case StReported:
			return ids(s.Roster.Chiefs(kase.District))
		case StVerifying:
			return s.targets(kase, in, ToInspectors)
		}
	case ToCommittee:
		return ids(s.Roster.Committee())
	case ToActor:
		if in.Actor != "" && in.Actor != "system" {
			return []string{in.Actor}
		}
	case ToInspectors:
		if is := ids(s.Roster.InspectorsOf(kase.Grid)); len(is) > 0 {
			return is
		}
		return ids(s.Roster.Chiefs(kase.District)) // a grid with no inspector: the station verifies
	case ToReporter:
		if kase.Reporter != "" {
			return []string{kase.Reporter}
		}
	case ToReceiver:
		if kase.Source == SrcResident && kase.Receiver != "" {
			return []string{kase.Receiver}
		}
	}
	return nil
}

// notice sends one card or message about kase to user.
func (c *conv) notice(kase Case, n Notice, user string) error {
	if n.Kind == CardForStatus {
		switch kase.Status {
		case StReported:
			n.Kind = CardChief
		case StStation:
			n.Kind = CardStation
		case StGuidance:
			n.Kind = CardAccepted
		case StCommittee:
			n.Kind = CardCommittee
		case StPartner, StExternal:
			n.Kind = CardTrack
		default:
			return nil
		}
	}
	switch n.Kind {
	case CardChief, CardStation, CardGuidance, CardAccepted, CardCommittee, CardTrack, CardVerify:
		data := c.s.cardDataFor(kase, n.Kind, user)
		return c.sendCard(user, Card{CaseID: kase.ID, Kind: n.Kind, Version: kase.Version}, data, c.cardRows(kase, data), c.caseButtons(kase, n.Kind))
	}
	name, full := "", c.s.isCasePerson(kase, user)
	switch n.Kind {
	case MsgFiled:
		name = templates.MsgFiled
		if kase.OnSpot {
			name = templates.MsgOnSpot
		}
		if kase.Status == StClosed && !kase.OnSpot {
			return nil
		}
	case MsgClosed:
		name = templates.MsgClosed
		if kase.OnSpot {
			name = templates.MsgOnSpot
		}
	case MsgCallBack:
		name, full = templates.MsgCallBack, true
	case MsgReworked:
		name = templates.MsgReworked
	case MsgReminder:
		name = templates.MsgReminder
	case MsgOverdue:
		name = templates.MsgOverdue
	case MsgSupported:
		name = templates.MsgSupported
	default:
		return fmt.Errorf("bot: unknown notice %s", n.Kind)
	}
	text, err := c.s.T.Render(name, c.s.caseData(kase, full))
	if err != nil {
		return err
	}
	key := fmt.Sprintf("note:%d:%d:%s:%s", kase.ID, kase.Version, n.Kind, user)
	return c.tx.Enqueue(c.ctx, NewTextMessage(key, user, text))
}

// cardDataFor fills a case card's texts for its reader: the resident's
// phone is masked unless the reader is one of the case's people.
func (s *Service) cardDataFor(kase Case, kind, reader string) templates.CardData {
	d := templates.CardData{
		Kind: kind, No: kase.No, Category: kase.Category, Text: shorten(kase.Text, 120),
		Due: s.fmtTime(kase.DueAt), Overdue: kase.Overdue,
	}
	if kase.ResidentName != "" {
		d.Resident = s.caseData(kase, s.isCasePerson(kase, reader)).Resident
	}
	if kase.CloseNote != "" {
		d.Note = kase.CloseNote
	}
	return d
}

func (c *conv) cardData(kase Case, kind, reader string) templates.CardData {
	return c.s.cardDataFor(kase, kind, reader)
}

// cardRows are the key-value rows of a case card.
func (c *conv) cardRows(kase Case, d templates.CardData) []KeyValue {
	grid := kase.Grid
	if g, ok := c.s.Roster.Grid(kase.Grid); ok {
		grid = g.Name
	}
	rows := []KeyValue{
		{KeyName: c.word(templates.RowPlace, nil), Value: shorten(kase.Place, 20)},
		{KeyName: c.word(templates.RowGrid, nil), Value: grid},
		{KeyName: c.word(templates.RowDue, nil), Value: c.word(templates.ValueDue, d)},
	}
	if h := c.s.holderName(kase); h != "" {
		rows = append(rows, KeyValue{KeyName: c.word(templates.RowHolder, nil), Value: shorten(h, 20)})
	}
	return rows
}

// caseButtons are the buttons of each case card kind.
func (c *conv) caseButtons(kase Case, kind string) []cardButton {
	b := func(key, word string, style int) cardButton {
		return cardButton{Key: key, Label: c.word(templates.ButtonW, word), Style: style}
	}
	switch kind {
	case CardChief:
		size := b("size:big", "size_big", 2)
		if kase.Size == Big {
			size = b("size:small", "size_small", 2)
		}
		return []cardButton{b("self", "self", 1), b("call_guidance", "call_guidance", 1), b("escalate", "escalate", 2), size, b("menu_close", "menu_close", 2)}
	case CardStation:
		return []cardButton{b("handled", "handled", 1), b("call_guidance", "call_guidance", 2), b("escalate", "escalate", 2)}
	case CardGuidance:
		return []cardButton{b("accept", "accept", 1), b("handled", "handled", 1), b("escalate", "escalate", 2)}
	case CardAccepted:
		return []cardButton{b("handled", "handled", 1), b("escalate", "escalate", 2)}
	case CardCommittee:
		return []cardButton{b("menu_assign", "menu_assign", 1), b("menu_transfer", "menu_transfer", 2), b("escalate_up", "escalate_up", 2), b("handled", "handled", 2), b("menu_close", "menu_close", 2)}
	case CardTrack:
		return []cardButton{b("reply", "reply", 1), b("menu_close", "menu_close", 2)}
	case CardVerify:
		return []cardButton{b("verify_ok", "verify_ok", 1), b("verify_partial", "verify_partial", 2), b("verify_fail", "verify_fail", 2)}
	}
	return nil
}
