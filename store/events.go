package store

import (
	"context"
	"encoding/json"

	"gridbot/bot"
)

// eventRecord is a case_events row as stored.
type eventRecord struct {
	ID     int64  `db:"id"`
	CaseID int64  `db:"case_id"`
	At     int64  `db:"at"`
	Actor  string `db:"actor"`
	Action string `db:"action"`
	From   string `db:"from_status"`
	To     string `db:"to_status"`
	Note   string `db:"note"`
	Photos string `db:"photos"`
	Key    string `db:"ekey"`
	Denied int    `db:"denied"`
}

// event converts the record to the domain type.
func (r eventRecord) event() (bot.Event, error) {
	photos, err := decodePhotos(r.Photos)
	if err != nil {
		return bot.Event{}, bot.Errorf(bot.EINTERNAL, "store: event %d: photos do not parse: %v", r.ID, err)
	}
	return bot.Event{
		ID:     r.ID,
		CaseID: r.CaseID,
		At:     fromMS(r.At),
		Actor:  r.Actor,
		Action: bot.Action(r.Action),
		From:   bot.Status(r.From),
		To:     bot.Status(r.To),
		Note:   r.Note,
		Photos: photos,
		Key:    r.Key,
		Denied: r.Denied != 0,
	}, nil
}

// encodePhotos is the stored form of an event's media ids: a JSON array, or
// "" for none.
func encodePhotos(ids []string) (string, error) {
	if len(ids) == 0 {
		return "", nil
	}
	for _, id := range ids {
		if err := checkKey("event photo media id", id); err != nil {
			return "", err
		}
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return "", bot.Errorf(bot.EINVALID, "store: event photos: %v", err)
	}
	return string(b), nil
}

// decodePhotos is the inverse of encodePhotos.
func decodePhotos(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var ids []string
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, err
	}
	return ids, nil
}

// AddEvent appends e to its case's history; At defaults to the
// transaction's time. Events are never changed or deleted.
func (t *Tx) AddEvent(ctx context.Context, e bot.Event) error {
	const q = `INSERT INTO case_events (case_id, at, actor, action, from_status, to_status, note, photos, ekey, denied)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if e.At.IsZero() {
		e.At = t.now
	}
	photos, err := encodePhotos(e.Photos)
	if err != nil {
		return err
	}
	if err := checkStrings(
		strCheck{"event actor", e.Actor, maxKeyLen},
		strCheck{"event action", string(e.Action), maxLabelLen},
		strCheck{"event from status", string(e.From), maxStateLen},
		strCheck{"event to status", string(e.To), maxStateLen},
		strCheck{"event note", e.Note, 0},
		strCheck{"event photos", photos, 0},
		strCheck{"event key", e.Key, maxKeyLen},
	); err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, q, e.CaseID, toMS(e.At), e.Actor, string(e.Action), string(e.From), string(e.To),
		e.Note, photos, e.Key, b2i(e.Denied))
	return translate(err)
}

// Events returns the history of a case, oldest first.
func (cs *Cases) Events(ctx context.Context, caseID int64) ([]bot.Event, error) {
	const q = `SELECT id, case_id, at, actor, action, from_status, to_status, note, photos, ekey, denied
		FROM case_events WHERE case_id = ? ORDER BY at, id`
	var recs []eventRecord
	if err := cs.db.db.SelectContext(ctx, &recs, q, caseID); err != nil {
		return nil, translate(err)
	}
	out := make([]bot.Event, len(recs))
	for i, r := range recs {
		e, err := r.event()
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// photoRecord is a case_photos row as stored.
type photoRecord struct {
	ID          int64  `db:"id"`
	CaseID      int64  `db:"case_id"`
	MediaID     string `db:"media_id"`
	Kind        string `db:"kind"`
	By          string `db:"by_user"`
	At          int64  `db:"at"`
	File        string `db:"file"`
	ContentType string `db:"content_type"`
	Size        int64  `db:"size"`
}

// photo converts the record to the domain type.
func (r photoRecord) photo() bot.Photo {
	return bot.Photo{
		ID:          r.ID,
		CaseID:      r.CaseID,
		MediaID:     r.MediaID,
		Kind:        r.Kind,
		By:          r.By,
		At:          fromMS(r.At),
		File:        r.File,
		ContentType: r.ContentType,
		Size:        r.Size,
	}
}

// checkMediaFile validates the file columns of a photo or a media result.
func checkMediaFile(file, contentType string, size int64) error {
	if size < 0 {
		return bot.Errorf(bot.EINVALID, "store: negative media size %d", size)
	}
	return checkStrings(
		strCheck{"media file", file, maxFileLen},
		strCheck{"media content type", contentType, maxTypeLen},
	)
}

// AddPhotos adds pictures to their cases; At defaults to the transaction's
// time. A photo whose (case, media id) is there already is skipped. A photo
// without a file takes the one MediaStored recorded for its media id, if
// the download finished before the photo was filed.
//
// The photo is inserted before its file is looked up, and the look-up locks
// the media_files row (or its gap) on MySQL, so a concurrent MediaStored
// either sees the new photo and updates it or is seen by the look-up; at
// worst the two deadlock and one is run again.
func (t *Tx) AddPhotos(ctx context.Context, photos ...bot.Photo) error {
	const qInsertSQLite = `INSERT INTO case_photos (case_id, media_id, kind, by_user, at, file, content_type, size)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (case_id, media_id) DO NOTHING`
	// Not INSERT IGNORE, which would also swallow truncations and bad values.
	const qInsertMySQL = `INSERT INTO case_photos (case_id, media_id, kind, by_user, at, file, content_type, size)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE case_id = case_id`
	const qFileSQLite = `SELECT file, content_type, size FROM media_files WHERE media_id = ?`
	// A locking read sees the latest committed row, not the transaction's snapshot.
	const qFileMySQL = `SELECT file, content_type, size FROM media_files WHERE media_id = ? FOR UPDATE`
	const qFill = `UPDATE case_photos SET file = ?, content_type = ?, size = ?
		WHERE case_id = ? AND media_id = ? AND file = ''`
	for _, p := range photos {
		if p.CaseID <= 0 {
			return bot.Errorf(bot.EINVALID, "store: photo %q has no case", p.MediaID)
		}
		if err := checkKey("photo media id", p.MediaID); err != nil {
			return err
		}
		if err := checkStrings(
			strCheck{"photo kind", p.Kind, maxStateLen},
			strCheck{"photo by", p.By, maxKeyLen},
		); err != nil {
			return err
		}
		if err := checkMediaFile(p.File, p.ContentType, p.Size); err != nil {
			return err
		}
	}
	for _, p := range photos {
		if p.At.IsZero() {
			p.At = t.now
		}
		if _, err := t.tx.ExecContext(ctx, t.db.dialect(qInsertSQLite, qInsertMySQL),
			p.CaseID, p.MediaID, p.Kind, p.By, toMS(p.At), p.File, p.ContentType, p.Size); err != nil {
			return translate(err)
		}
		if p.File != "" {
			continue
		}
		var files []mediaRecord
		if err := t.tx.SelectContext(ctx, &files, t.db.dialect(qFileSQLite, qFileMySQL), p.MediaID); err != nil {
			return translate(err)
		}
		if len(files) == 0 || files[0].File == "" {
			continue
		}
		f := files[0]
		if _, err := t.tx.ExecContext(ctx, qFill, f.File, f.ContentType, f.Size, p.CaseID, p.MediaID); err != nil {
			return translate(err)
		}
	}
	return nil
}

// mediaRecord is the file part of a media_files row.
type mediaRecord struct {
	File        string `db:"file"`
	ContentType string `db:"content_type"`
	Size        int64  `db:"size"`
}

// Photos returns the pictures of a case, oldest first.
func (cs *Cases) Photos(ctx context.Context, caseID int64) ([]bot.Photo, error) {
	const q = `SELECT id, case_id, media_id, kind, by_user, at, file, content_type, size
		FROM case_photos WHERE case_id = ? ORDER BY at, id`
	var recs []photoRecord
	if err := cs.db.db.SelectContext(ctx, &recs, q, caseID); err != nil {
		return nil, translate(err)
	}
	out := make([]bot.Photo, len(recs))
	for i, r := range recs {
		out[i] = r.photo()
	}
	return out, nil
}

// MediaStored records a downloaded file: on every photo with its media id,
// and in media_files, where AddPhotos finds it for a photo filed later (the
// download of a draft's picture may finish before the case exists). A
// deadlock with a concurrent AddPhotos runs the transaction again.
func (cs *Cases) MediaStored(ctx context.Context, r bot.MediaResult) error {
	if err := checkKey("media id", r.MediaID); err != nil {
		return err
	}
	if err := checkMediaFile(r.File, r.ContentType, r.Size); err != nil {
		return err
	}
	return translate(retryTx(func() error { return cs.mediaStored(ctx, r) }))
}

func (cs *Cases) mediaStored(ctx context.Context, r bot.MediaResult) error {
	const qSaveSQLite = `INSERT INTO media_files (media_id, file, content_type, size, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (media_id) DO UPDATE SET file = excluded.file, content_type = excluded.content_type,
		size = excluded.size, at = excluded.at`
	const qSaveMySQL = `INSERT INTO media_files (media_id, file, content_type, size, at) VALUES (?, ?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE file = VALUES(file), content_type = VALUES(content_type),
		size = VALUES(size), at = VALUES(at)`
	const qPhotos = `UPDATE case_photos SET file = ?, content_type = ?, size = ? WHERE media_id = ?`

	tx, now, err := cs.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	// media_files first, then the photos. AddPhotos writes the photo first,
	// then reads media_files with a lock: each writes its own table before
	// it looks at the other's, so one always sees the other (see AddPhotos).
	if _, err := tx.ExecContext(ctx, cs.db.dialect(qSaveSQLite, qSaveMySQL),
		r.MediaID, r.File, r.ContentType, r.Size, toMS(now)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, qPhotos, r.File, r.ContentType, r.Size, r.MediaID); err != nil {
		return err
	}
	return tx.Commit()
}
