// Package wecomfake is a fake WeCom (企业微信) API server: an in-memory, real
// implementation of the parts of the API gridbot uses (gettoken, message/send,
// message/update_template_card, appchat/send, webhook/send, media/upload,
// media/get). It validates requests the way WeCom does, answers with WeCom's
// errcodes (HTTP 200 with {"errcode":N,"errmsg":"..."}), and records every call
// so tests and the simulator can see what each member, chat or robot received.
//
// Serve a *Fake at the root of the API base URL: it answers paths of the form
// /cgi-bin/... (anything before "/cgi-bin/" is ignored, so it may also be
// mounted under a prefix).
package wecomfake

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configures a Fake.
type Options struct {
	CorpID     string // the corpid gettoken accepts
	CorpSecret string // the corpsecret gettoken accepts
	AgentID    int    // the agentid message/send and update_template_card require

	// RobotKeys are the accepted webhook keys; their records say "robot:<key>".
	RobotKeys []string
	// Robots are named webhook keys (name → key), accepted as well; their
	// records say "robot:<name>".
	Robots map[string]string

	// KnownChats, when not empty, are the only chatids appchat/send accepts
	// (others get 86003). When empty every chatid is accepted.
	KnownChats []string
	// KnownUsers, when not empty, are the members of the app's visible range:
	// message/send reports other userids in invaliduser and does not deliver
	// to them (81013 when nobody is left), and "@all" reaches each of them.
	// When empty every well-formed userid is accepted and "@all" is recorded
	// as the single recipient "@all".
	KnownUsers []string

	Now      func() time.Time // default time.Now
	TokenTTL time.Duration    // access_token lifetime; default 7200 s
}

// Request is one recorded API call.
type Request struct {
	Seq int64     // 1, 2, 3 … in arrival order (restarts after Reset)
	At  time.Time // by Options.Now

	// API is "gettoken", "message/send", "update_template_card",
	// "appchat/send", "webhook/send", "media/get" or "media/upload".
	API string
	// To is the touser of message/send, the userids ("a|b", or "@all" for
	// atall) of update_template_card, the chatid of appchat/send, or
	// "robot:<name or key>" for webhook/send.
	To string
	// MsgType is the msgtype of a send; for update_template_card it is
	// "button" (replace_name) or "template_card".
	MsgType string
	// Body is the request JSON (the access_token is in the query and never
	// here; the corpsecret is never recorded). For GET calls and uploads it
	// is a small JSON summary of the parameters, e.g. {"media_id":"…"}.
	Body json.RawMessage

	ErrCode    int    // the errcode answered (0 = accepted)
	ErrMsg     string // the errmsg answered
	HTTPStatus int    // non-zero when an injected HTTP failure answered instead

	// Recipients are those who actually saw the message: members (for
	// message/send less invalid and dropped ones; for an update the members
	// whose card changed), the chatid, or the robot.
	Recipients []string
	// DroppedFor are members for whom the per-member quota (30 a minute,
	// 1000 an hour) silently dropped this message; Dropped says whether
	// there is any. WeCom still answers errcode 0.
	DroppedFor []string
	Dropped    bool

	MsgID        string // msgid answered by message/send
	ResponseCode string // response_code answered by a send, or used by an update
	TaskID       string // the template card's task_id
}

// Fake is a fake WeCom API server. It implements http.Handler. All methods
// are safe for concurrent use.
type Fake struct {
	corpID, secret string
	agentID        int
	now            func() time.Time
	ttl            time.Duration
	robots         map[string]string // key → name shown in records
	knownChats     map[string]bool
	knownUsers     map[string]bool

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever a request is recorded
	seq      int64
	requests []Request
	tokens   map[string]*token
	cards    map[string]*card         // by task_id; a task_id is never reused
	codes    map[string]*responseCode // by response_code
	media    map[string]*storedMedia  // by media_id
	sends    map[string][]time.Time   // member → times of accepted message/send
	seen     map[string][]time.Time   // member → times of messages not dropped
	robotLog map[string][]time.Time   // webhook key → times of accepted sends
	faults   []*fault
	checkins []Checkin // 打卡 records served by checkin/getcheckindata
}

// New returns a Fake configured by opts.
func New(opts Options) *Fake {
	f := &Fake{
		corpID:     opts.CorpID,
		secret:     opts.CorpSecret,
		agentID:    opts.AgentID,
		now:        opts.Now,
		ttl:        opts.TokenTTL,
		robots:     map[string]string{},
		knownChats: map[string]bool{},
		knownUsers: map[string]bool{},
		changed:    make(chan struct{}),
		tokens:     map[string]*token{},
		cards:      map[string]*card{},
		codes:      map[string]*responseCode{},
		media:      map[string]*storedMedia{},
		sends:      map[string][]time.Time{},
		seen:       map[string][]time.Time{},
		robotLog:   map[string][]time.Time{},
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.ttl <= 0 {
		f.ttl = 7200 * time.Second
	}
	for _, k := range opts.RobotKeys {
		f.robots[k] = k
	}
	for name, k := range opts.Robots {
		f.robots[k] = name
	}
	for _, c := range opts.KnownChats {
		f.knownChats[c] = true
	}
	for _, u := range opts.KnownUsers {
		f.knownUsers[u] = true
	}
	return f
}

// Handler returns f as an http.Handler.
func (f *Fake) Handler() http.Handler { return f }

// endpoint describes one API: how to summarise a request for the record and
// how to answer it.
type endpoint struct {
	api     string
	post    bool  // requires POST
	noToken bool  // authenticated by something other than access_token (gettoken, webhook key)
	maxBody int64 // bytes read from the body
	// peek fills the record's To, MsgType, TaskID and Body from the request,
	// best effort: it runs even for calls that fail.
	peek func(rec *Request, r *http.Request, body []byte)
	// handle answers the call, holding f.mu, and completes the record.
	handle func(c *call) (reply, *apiError)
}

// call is one request being answered.
type call struct {
	r        *http.Request
	body     []byte
	tooLarge bool // the body was longer than endpoint.maxBody
	rec      *Request
}

// reply is a successful answer: JSON, or a media file.
type reply struct {
	json  any
	media *storedMedia
}

// routes maps the path after /cgi-bin/ to its endpoint.
func (f *Fake) routes(path string) (endpoint, bool) {
	const jsonLimit = 4 << 20
	switch path {
	case "gettoken":
		return endpoint{api: "gettoken", noToken: true, peek: peekToken, handle: f.handleToken}, true
	case "message/send":
		return endpoint{api: "message/send", post: true, maxBody: jsonLimit, peek: peekSend, handle: f.handleSend}, true
	case "message/update_template_card":
		return endpoint{api: "update_template_card", post: true, maxBody: jsonLimit, peek: peekUpdate, handle: f.handleUpdate}, true
	case "appchat/send":
		return endpoint{api: "appchat/send", post: true, maxBody: jsonLimit, peek: peekSend, handle: f.handleAppChat}, true
	case "webhook/send":
		return endpoint{api: "webhook/send", post: true, noToken: true, maxBody: jsonLimit, peek: f.peekWebhook, handle: f.handleWebhook}, true
	case "media/upload":
		return endpoint{api: "media/upload", post: true, maxBody: maxUploadBody, peek: peekUpload, handle: f.handleUpload}, true
	case "media/get":
		return endpoint{api: "media/get", peek: peekMediaGet, handle: f.handleMediaGet}, true
	case "checkin/getcheckindata":
		return endpoint{api: "checkin/getcheckindata", post: true, maxBody: jsonLimit, peek: peekCheckin, handle: f.handleCheckin}, true
	}
	return endpoint{}, false
}

// ServeHTTP answers WeCom API calls under /cgi-bin/.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := strings.Index(r.URL.Path, "/cgi-bin/")
	if i < 0 {
		writeJSON(w, http.StatusNotFound, errorBody{ErrCode: 404, ErrMsg: "not found"})
		return
	}
	path := strings.TrimSuffix(r.URL.Path[i+len("/cgi-bin/"):], "/")
	ep, ok := f.routes(path)
	if !ok {
		writeJSON(w, http.StatusNotFound, errorBody{ErrCode: 404, ErrMsg: "api not found: " + path})
		return
	}
	f.serve(w, r, ep)
}

// serve runs one API call: read and summarise it, apply injected faults,
// authenticate, handle, record, then (after any injected delay) answer.
func (f *Fake) serve(w http.ResponseWriter, r *http.Request, ep endpoint) {
	c := &call{r: r}
	if ep.maxBody > 0 {
		c.body, c.tooLarge = readLimited(r.Body, ep.maxBody)
	}
	c.rec = &Request{API: ep.api}
	ep.peek(c.rec, r, c.body)

	f.mu.Lock()
	delay := f.takeFault(faultDelay, ep.api)
	var (
		rep     reply
		aerr    *apiError
		httpErr int
	)
	if hf := f.takeFault(faultHTTP, ep.api); hf != nil {
		httpErr = hf.status
	} else if ef := f.takeFault(faultErr, ep.api); ef != nil {
		aerr = &apiError{Code: ef.code, Msg: ef.msg}
	} else if ep.post && r.Method != http.MethodPost {
		aerr = fail(codeBadParam, "invalid parameter: %s requires POST", ep.api)
	} else if !ep.noToken {
		aerr = f.checkToken(r.URL.Query().Get("access_token"))
	}
	if httpErr == 0 && aerr == nil {
		rep, aerr = ep.handle(c)
	}
	c.rec.HTTPStatus = httpErr
	if aerr != nil {
		c.rec.ErrCode, c.rec.ErrMsg = aerr.Code, aerr.Msg
		c.rec.Recipients, c.rec.DroppedFor, c.rec.Dropped = nil, nil, false
	} else if httpErr == 0 {
		c.rec.ErrMsg = "ok"
	}
	f.record(c.rec)
	f.mu.Unlock()

	if delay != nil {
		wait(r.Context(), delay.delay)
	}
	switch {
	case httpErr != 0:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(httpErr)
		_, _ = io.WriteString(w, http.StatusText(httpErr)+" (injected by wecomfake)\n")
	case aerr != nil:
		writeJSON(w, http.StatusOK, errorBody{ErrCode: aerr.Code, ErrMsg: aerr.Msg})
	case rep.media != nil:
		w.Header().Set("Content-Type", rep.media.contentType)
		w.Header().Set("Content-Disposition", `attachment; filename="`+headerSafe(rep.media.filename)+`"`)
		http.ServeContent(w, r, rep.media.filename, time.Time{}, bytes.NewReader(rep.media.data))
	default:
		writeJSON(w, http.StatusOK, rep.json)
	}
}

// record appends rec with the next sequence number and wakes Wait. f.mu is held.
func (f *Fake) record(rec *Request) {
	f.seq++
	rec.Seq = f.seq
	rec.At = f.now()
	f.requests = append(f.requests, *rec)
	close(f.changed)
	f.changed = make(chan struct{})
}

// Requests returns every recorded API call, oldest first.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// Wait blocks until cond(f) holds or ctx ends (then it returns ctx.Err()).
// cond is evaluated now and again after every recorded request; it may call
// any method of f.
func (f *Fake) Wait(ctx context.Context, cond func(f *Fake) bool) error {
	for {
		f.mu.Lock()
		ch := f.changed
		f.mu.Unlock()
		if cond(f) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Reset clears the records (requests, per-member and per-robot counters) and
// the injected failures and delays. The state of the fake WeCom itself stays:
// tokens, media, cards, used task_ids and response_codes.
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq = 0
	f.requests = nil
	f.sends = map[string][]time.Time{}
	f.seen = map[string][]time.Time{}
	f.robotLog = map[string][]time.Time{}
	f.faults = nil
	close(f.changed)
	f.changed = make(chan struct{})
}

// errorBody is WeCom's error answer.
type errorBody struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readLimited reads at most limit bytes of r; tooLarge reports more.
func readLimited(r io.Reader, limit int64) (body []byte, tooLarge bool) {
	b, _ := io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(b)) > limit {
		return b[:limit], true
	}
	return b, false
}

// wait sleeps d or until ctx is done.
func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// randomID returns n random bytes as unpadded URL-safe base64.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// recordBody returns body as JSON for a record: compacted when valid, as a
// JSON string otherwise, nil when empty.
func recordBody(body []byte) json.RawMessage {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, body) == nil {
		return buf.Bytes()
	}
	s, _ := json.Marshal(string(body))
	return s
}

// headerSafe drops the characters that would break a quoted header value.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// summary marshals v as a record body.
func summary(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
