package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"gridbot/bot"
)

// cardRecord is a cards row as stored.
type cardRecord struct {
	TaskID    string `db:"task_id"`
	CaseID    int64  `db:"case_id"`
	Recipient string `db:"recipient"`
	Actions   string `db:"actions"`
	Version   int    `db:"version"`
	Kind      string `db:"kind"`
	State     string `db:"state"`
	UsedBy    string `db:"used_by"`
	UsedAt    int64  `db:"used_at"`
	Action    string `db:"action"`
	CreatedAt int64  `db:"created_at"`
}

// card converts the record to the domain type.
func (r cardRecord) card() bot.Card {
	var actions []string
	if r.Actions != "" {
		actions = strings.Split(r.Actions, ",")
	}
	return bot.Card{
		TaskID:    r.TaskID,
		CaseID:    r.CaseID,
		Recipient: r.Recipient,
		Actions:   actions,
		Version:   r.Version,
		Kind:      r.Kind,
		State:     r.State,
		UsedBy:    r.UsedBy,
		UsedAt:    fromMS(r.UsedAt),
		Action:    r.Action,
		CreatedAt: fromMS(r.CreatedAt),
	}
}

// checkTaskID validates a card's task_id (the primary key, VARCHAR(128)).
func checkTaskID(id string) error {
	if err := checkKey("card task id", id); err != nil {
		return err
	}
	return checkString("card task id", id, maxTaskIDLen)
}

// PutCard records a card sent; State defaults to open and CreatedAt to the
// transaction's time. A task id that exists is ECONFLICT: task ids are never
// reused. Actions are stored as a comma list, so none may contain a comma.
func (t *Tx) PutCard(ctx context.Context, c bot.Card) error {
	const q = `INSERT INTO cards (task_id, case_id, recipient, actions, version, kind, state, used_by, used_at, action,
		created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if err := checkTaskID(c.TaskID); err != nil {
		return err
	}
	for _, a := range c.Actions {
		if a == "" || strings.Contains(a, ",") {
			return bot.Errorf(bot.EINVALID, "store: card action %q is empty or has a comma", a)
		}
	}
	if c.State == "" {
		c.State = bot.CardOpen
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = t.now
	}
	actions := strings.Join(c.Actions, ",")
	if err := checkStrings(
		strCheck{"card recipient", c.Recipient, maxKeyLen},
		strCheck{"card actions", actions, 0},
		strCheck{"card kind", c.Kind, maxLabelLen},
		strCheck{"card state", c.State, maxStateLen},
		strCheck{"card used by", c.UsedBy, maxKeyLen},
		strCheck{"card action", c.Action, maxShortLen},
	); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(ctx, q, c.TaskID, c.CaseID, c.Recipient, actions, c.Version, c.Kind, c.State,
		c.UsedBy, toMS(c.UsedAt), c.Action, toMS(c.CreatedAt))
	return translate(err)
}

// GetCard returns the card of taskID; ENOTFOUND if there is none.
func (t *Tx) GetCard(ctx context.Context, taskID string) (bot.Card, error) {
	const q = `SELECT task_id, case_id, recipient, actions, version, kind, state, used_by, used_at, action, created_at
		FROM cards WHERE task_id = ?`
	var rec cardRecord
	if err := t.tx.GetContext(ctx, &rec, q, taskID); errors.Is(err, sql.ErrNoRows) {
		return bot.Card{}, bot.Errorf(bot.ENOTFOUND, "store: no card %q", taskID)
	} else if err != nil {
		return bot.Card{}, translate(err)
	}
	return rec.card(), nil
}

// UseCard marks the open card of taskID used by by, who chose action, at at
// (the transaction's time when zero). A card that is not open (used
// already, or unknown) is ECONFLICT and nothing changes.
func (t *Tx) UseCard(ctx context.Context, taskID, by, action string, at time.Time) error {
	const q = `UPDATE cards SET state = 'used', used_by = ?, used_at = ?, action = ?
		WHERE task_id = ? AND state = 'open'`
	if err := checkStrings(
		strCheck{"card used by", by, maxKeyLen},
		strCheck{"card action", action, maxShortLen},
	); err != nil {
		return err
	}
	if at.IsZero() {
		at = t.now
	}
	n, err := execOne(ctx, t.tx, q, by, toMS(at), action, taskID)
	if err != nil {
		return err
	}
	if n != 1 {
		return bot.Errorf(bot.ECONFLICT, "store: card %q is not open", taskID)
	}
	return nil
}
