package wecomfake

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Media kinds (the type parameter of media/upload).
const (
	mediaImage = "image"
	mediaVoice = "voice"
	mediaVideo = "video"
	mediaFile  = "file"
)

const (
	mediaTTL      = 72 * time.Hour // temporary media live 3 days
	minMediaBytes = 5              // media must be larger than 5 bytes
	maxUploadBody = 21 << 20       // the largest file (20 MB) plus multipart overhead
)

// mediaLimit is the size cap of a media kind (doc 90253).
func mediaLimit(kind string) int {
	switch kind {
	case mediaVoice:
		return 2 << 20
	case mediaImage, mediaVideo:
		return 10 << 20
	}
	return 20 << 20
}

// storedMedia is a stored temporary media file.
type storedMedia struct {
	kind        string
	contentType string
	filename    string
	data        []byte
	created     time.Time
}

// AddMedia stores data as a temporary media file (valid 3 days by
// Options.Now) and returns its media_id, to be fetched with media/get — the
// way a member's photo reaches WeCom before its MediaId is in a callback.
func (f *Fake) AddMedia(data []byte, contentType, filename string) string {
	kind := mediaFile
	switch {
	case strings.HasPrefix(contentType, "image/"):
		kind = mediaImage
	case strings.HasPrefix(contentType, "audio/"):
		kind = mediaVoice
	case strings.HasPrefix(contentType, "video/"):
		kind = mediaVideo
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.storeMedia(kind, contentType, filename, data)
}

// storeMedia keeps a copy of data and returns its new media_id. f.mu is held.
func (f *Fake) storeMedia(kind, contentType, filename string, data []byte) string {
	id := randomID(36)
	f.media[id] = &storedMedia{
		kind:        kind,
		contentType: contentType,
		filename:    filename,
		data:        append([]byte{}, data...),
		created:     f.now(),
	}
	return id
}

// mediaUsable reports whether id is a live media file of kind ("" = any).
// f.mu is held.
func (f *Fake) mediaUsable(id, kind string) bool {
	m := f.media[id]
	return m != nil && f.now().Sub(m.created) < mediaTTL && (kind == "" || m.kind == kind)
}

// peekUpload fills a record from a media/upload call.
func peekUpload(rec *Request, r *http.Request, _ []byte) {
	rec.MsgType = r.URL.Query().Get("type")
	rec.Body = summary(map[string]string{"type": rec.MsgType})
}

// peekMediaGet fills a record from a media/get call.
func peekMediaGet(rec *Request, r *http.Request, _ []byte) {
	rec.Body = summary(map[string]string{"media_id": r.URL.Query().Get("media_id")})
}

// uploadReply is the answer of media/upload; created_at is a string.
type uploadReply struct {
	ErrCode   int    `json:"errcode"`
	ErrMsg    string `json:"errmsg"`
	Type      string `json:"type"`
	MediaID   string `json:"media_id"`
	CreatedAt string `json:"created_at"`
}

// handleUpload answers media/upload: multipart/form-data with the file in
// the field "media".
func (f *Fake) handleUpload(c *call) (reply, *apiError) {
	kind := c.r.URL.Query().Get("type")
	switch kind {
	case mediaImage, mediaVoice, mediaVideo, mediaFile:
	default:
		return reply{}, fail(codeBadMediaType, "invalid media type %q", kind)
	}
	if c.tooLarge {
		return reply{}, tooBig(kind)
	}
	data, filename, ctype, err := mediaPart(c.r.Header.Get("Content-Type"), c.body)
	if err != nil {
		return reply{}, err
	}
	if len(data) <= minMediaBytes {
		return reply{}, fail(codeBadFileSize, "invalid file size: media must be larger than 5 bytes")
	}
	if len(data) > mediaLimit(kind) {
		return reply{}, tooBig(kind)
	}
	sniffed := http.DetectContentType(data)
	if kind == mediaImage && sniffed != "image/jpeg" && sniffed != "image/png" {
		return reply{}, fail(codeBadMediaFile, "invalid media file type: image must be jpg or png")
	}
	if ctype == "" || ctype == "application/octet-stream" {
		ctype = sniffed
	}
	id := f.storeMedia(kind, ctype, filename, data)
	c.rec.Body = summary(map[string]any{"type": kind, "filename": filename, "size": len(data), "media_id": id})
	return reply{json: uploadReply{ErrMsg: "ok", Type: kind, MediaID: id, CreatedAt: strconv.FormatInt(f.now().Unix(), 10)}}, nil
}

// mediaPart finds the "media" file of a multipart body.
func mediaPart(contentType string, body []byte) (data []byte, filename, ctype string, aerr *apiError) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, "", "", fail(codeEmptyMedia, "empty media data: multipart/form-data with a field \"media\" required")
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return nil, "", "", fail(codeEmptyMedia, "empty media data: no field \"media\"")
		}
		if p.FormName() != "media" {
			continue
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, "", "", fail(codeEmptyMedia, "empty media data: %v", err)
		}
		filename = p.FileName()
		if filename == "" {
			filename = "media"
		}
		return data, filename, p.Header.Get("Content-Type"), nil
	}
}

// tooBig is the size error of a media kind.
func tooBig(kind string) *apiError {
	switch kind {
	case mediaImage:
		return fail(codeImageSize, "invalid image size: at most 10 MB")
	case mediaVideo:
		return fail(codeVideoSize, "invalid video size: at most 10 MB")
	case mediaVoice:
		return fail(codeMediaTooBig, "media size out of limit: voice at most 2 MB")
	}
	return fail(codeMediaTooBig, "media size out of limit: file at most 20 MB")
}

// handleMediaGet answers media/get with the file's bytes (Range supported),
// or 40007 for an unknown or expired media_id.
func (f *Fake) handleMediaGet(c *call) (reply, *apiError) {
	id := c.r.URL.Query().Get("media_id")
	if id == "" {
		return reply{}, fail(codeNoMediaID, "media_id missing")
	}
	if !f.mediaUsable(id, "") {
		return reply{}, fail(codeBadMediaID, "invalid media_id")
	}
	return reply{media: f.media[id]}, nil
}
