package bot

import (
	"context"

	"gridbot/templates"
)

// Delivery is one inbox row handed to the bot: the parsed callback and the
// key that makes everything it causes idempotent.
type Delivery struct {
	InboxID   int64
	DedupeKey string
	Msg       Inbound
}

// Handler decides what a callback causes and writes it through tx. It must
// do all of its effects through tx, so that they commit together with the
// inbox row being marked done — once, or not at all.
type Handler interface {
	Handle(ctx context.Context, tx Tx, d Delivery) error
}

// Bot is gridbot's conversation. For now it answers any text with the help
// text and fetches inbound photos before WeCom forgets them.
type Bot struct {
	T *templates.Set
}

var _ Handler = (*Bot)(nil)

// Handle implements Handler.
func (b *Bot) Handle(ctx context.Context, tx Tx, d Delivery) error {
	m := d.Msg
	switch m.Kind {
	case KindText:
		return b.reply(ctx, tx, d, templates.Help, templates.HelpData{})
	case KindClick:
		if m.EventKey == "help" {
			return b.reply(ctx, tx, d, templates.Help, templates.HelpData{})
		}
	case KindImage, KindVoice, KindVideo:
		if m.MediaID != "" {
			return tx.Enqueue(ctx, NewMediaJob("media:"+d.DedupeKey, m.MediaID, "inbox:"+d.DedupeKey))
		}
	}
	return nil
}

// reply sends one rendered text back to the sender, keyed by the delivery.
func (b *Bot) reply(ctx context.Context, tx Tx, d Delivery, name string, data any) error {
	text, err := b.T.Render(name, data)
	if err != nil {
		return err
	}
	return tx.Enqueue(ctx, NewTextMessage("reply:"+d.DedupeKey, d.Msg.UserID, text))
}
