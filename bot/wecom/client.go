package wecom

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"gridbot/bot"
)

// DefaultBaseURL is WeCom's API host.
const DefaultBaseURL = "https://qyapi.weixin.qq.com"

// ClientOptions configures a Client. Host, HTTP client, clock and token
// cache are all injected: tests point BaseURL at the fake WeCom.
//
// The SDK's own HTTP helpers use a process-wide URI modifier and an HTTP
// client with no timeout, so the client speaks HTTP itself; the SDK is used
// for the callback crypto, which it does well.
type ClientOptions struct {
	BaseURL  string // default DefaultBaseURL
	CorpID   string
	AgentID  int
	Secret   string
	HTTP     *http.Client      // default: 10 s timeout
	Tokens   bot.KV            // shared access-token cache (Redis, or SQL with no Redis)
	Robots   map[string]string // group robot name → webhook key
	MediaDir string            // where downloaded media go
	MaxMedia int64             // largest media file accepted, bytes (default 10 MiB)
	// OnCall, when set, is told of every API call and its errcode (-1 for a
	// network failure, the HTTP status for a non-200 answer).
	OnCall func(api string, errcode int)
}

// Client calls the WeCom API for one app. It implements bot.Sender.
type Client struct {
	opts ClientOptions
	mu   sync.Mutex // single-flight for token fetches in this instance
}

// NewClient returns a Client.
func NewClient(o ClientOptions) *Client {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if o.MaxMedia <= 0 {
		o.MaxMedia = 10 << 20
	}
	return &Client{opts: o}
}

var _ bot.Sender = (*Client)(nil)

// Send performs the WeCom call of one outbox item and returns its result
// as JSON. Errors are *bot.SendError (a network failure is SendRetry).
func (c *Client) Send(ctx context.Context, item bot.OutboxItem) ([]byte, error) {
	switch item.Kind {
	case bot.OutMessage:
		return c.withToken(ctx, "message/send", func(tok string) ([]byte, error) {
			return c.postAgent(ctx, "message/send", "/cgi-bin/message/send", tok, item.Payload)
		})
	case bot.OutCardUpdate:
		return c.withToken(ctx, "update_template_card", func(tok string) ([]byte, error) {
			return c.postAgent(ctx, "update_template_card", "/cgi-bin/message/update_template_card", tok, item.Payload)
		})
	case bot.OutAppChat:
		return c.withToken(ctx, "appchat/send", func(tok string) ([]byte, error) {
			return c.post(ctx, "appchat/send", "/cgi-bin/appchat/send?access_token="+url.QueryEscape(tok), item.Payload)
		})
	case bot.OutWebhook:
		return c.webhook(ctx, item.Payload)
	case bot.OutMedia:
		var job bot.MediaJob
		if err := json.Unmarshal(item.Payload, &job); err != nil {
			return nil, &bot.SendError{Class: bot.SendPermanent, Msg: "media job is not JSON"}
		}
		return c.withToken(ctx, "media/get", func(tok string) ([]byte, error) {
			return c.downloadMedia(ctx, tok, job)
		})
	}
	return nil, &bot.SendError{Class: bot.SendPermanent, Msg: fmt.Sprintf("unknown outbox kind %q", item.Kind)}
}

// withToken runs call with the cached access token; when WeCom says the
// token is invalid or expired it drops it, fetches a new one, and retries
// exactly once.
func (c *Client) withToken(ctx context.Context, api string, call func(tok string) ([]byte, error)) ([]byte, error) {
	tok, err := c.token(ctx, false)
	if err != nil {
		return nil, err
	}
	out, err := call(tok)
	var se *bot.SendError
	if errors.As(err, &se) && se.Class == bot.SendRefresh {
		if tok, err = c.token(ctx, true); err != nil {
			return nil, err
		}
		out, err = call(tok)
		if errors.As(err, &se) && se.Class == bot.SendRefresh {
			se.Class = bot.SendRetry // refreshed once already: back off and try later
		}
	}
	return out, err
}

func (c *Client) tokenKey() string {
	return "wecom_token:" + c.opts.CorpID + ":" + strconv.Itoa(c.opts.AgentID)
}

// token returns the shared access token, fetching one when the cache has
// none (or when refresh is set).
func (c *Client) token(ctx context.Context, refresh bool) (string, error) {
	key := c.tokenKey()
	if !refresh {
		if v, ok, err := c.opts.Tokens.Get(ctx, key); err == nil && ok && len(v) > 0 {
			return string(v), nil
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !refresh { // another goroutine may have fetched it meanwhile
		if v, ok, err := c.opts.Tokens.Get(ctx, key); err == nil && ok && len(v) > 0 {
			return string(v), nil
		}
	}
	q := url.Values{"corpid": {c.opts.CorpID}, "corpsecret": {c.opts.Secret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.opts.BaseURL+"/cgi-bin/gettoken?"+q.Encode(), nil)
	if err != nil {
		return "", transient("gettoken", err)
	}
	var out struct {
		ErrCode     int    `json:"errcode"`
		ErrMsg      string `json:"errmsg"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := c.do(req, "gettoken", &out, nil); err != nil {
		return "", err
	}
	if out.ErrCode != codeOK || out.AccessToken == "" {
		se := apiError("gettoken", out.ErrCode, out.ErrMsg)
		if se.Class == bot.SendRefresh {
			se.Class = bot.SendRetry
		}
		return "", se
	}
	// Keep it a little shorter than WeCom does, so a cached token is never stale.
	ttl := time.Duration(out.ExpiresIn)*time.Second - 5*time.Minute
	if ttl < time.Minute {
		ttl = time.Minute
	}
	if err := c.opts.Tokens.Set(ctx, key, []byte(out.AccessToken), ttl); err != nil {
		// The cache is a saving, not a requirement: go on with the token.
		_ = err
	}
	return out.AccessToken, nil
}

// postAgent posts payload with this app's agentid added (as a number).
func (c *Client) postAgent(ctx context.Context, api, path, tok string, payload []byte) ([]byte, error) {
	var body map[string]any
	if err := json.Unmarshal(payload, &body); err != nil {
		return nil, &bot.SendError{Class: bot.SendPermanent, Msg: api + ": payload is not a JSON object"}
	}
	body["agentid"] = c.opts.AgentID
	b, err := json.Marshal(body)
	if err != nil {
		return nil, &bot.SendError{Class: bot.SendPermanent, Msg: api + ": " + err.Error()}
	}
	return c.post(ctx, api, path+"?access_token="+url.QueryEscape(tok), b)
}

// sendResponse is every send's answer. invaliduser is "a|b" on
// message/send and an array on update_template_card.
type sendResponse struct {
	ErrCode      int             `json:"errcode"`
	ErrMsg       string          `json:"errmsg"`
	MsgID        string          `json:"msgid"`
	ResponseCode string          `json:"response_code"`
	InvalidUser  json.RawMessage `json:"invaliduser"`
}

// invalidUsers reads invaliduser in either of its shapes.
func (r sendResponse) invalidUsers() []string {
	if len(r.InvalidUser) == 0 {
		return nil
	}
	var s string
	if json.Unmarshal(r.InvalidUser, &s) == nil {
		if s == "" {
			return nil
		}
		return strings.Split(s, "|")
	}
	var list []string
	_ = json.Unmarshal(r.InvalidUser, &list)
	return list
}

// recipients lists the touser / userids of a send body.
func recipients(body []byte) []string {
	var b struct {
		ToUser  string   `json:"touser"`
		UserIDs []string `json:"userids"`
	}
	_ = json.Unmarshal(body, &b)
	if b.ToUser != "" {
		return strings.Split(b.ToUser, "|")
	}
	return b.UserIDs
}

func (c *Client) post(ctx context.Context, api, pathQuery string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.opts.BaseURL+pathQuery, bytes.NewReader(body))
	if err != nil {
		return nil, transient(api, err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	var out sendResponse
	if err := c.do(req, api, &out, nil); err != nil {
		return nil, err
	}
	if out.ErrCode != codeOK {
		return nil, apiError(api, out.ErrCode, out.ErrMsg)
	}
	invalid := out.invalidUsers()
	if to := recipients(body); len(invalid) > 0 && len(invalid) >= len(to) {
		// WeCom accepted the call but it reached nobody: not worth retrying.
		return nil, &bot.SendError{Class: bot.SendPermanent, ErrCode: 40003, Msg: api + ": invalid user " + strings.Join(invalid, "|")}
	}
	return json.Marshal(bot.SendResult{MsgID: out.MsgID, ResponseCode: out.ResponseCode, InvalidUser: strings.Join(invalid, "|")})
}

func (c *Client) webhook(ctx context.Context, payload []byte) ([]byte, error) {
	var m bot.WebhookMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, &bot.SendError{Class: bot.SendPermanent, Msg: "webhook payload is not JSON"}
	}
	key, ok := c.opts.Robots[m.Robot]
	if !ok || key == "" {
		return nil, &bot.SendError{Class: bot.SendPermanent, Msg: fmt.Sprintf("no webhook key configured for robot %q", m.Robot)}
	}
	body := map[string]any{"msgtype": m.MsgType}
	if m.Text != nil {
		body["text"] = m.Text
	}
	if m.Markdown != nil {
		body["markdown"] = m.Markdown
	}
	b, _ := json.Marshal(body)
	return c.post(ctx, "webhook/send", "/cgi-bin/webhook/send?key="+url.QueryEscape(key), b)
}

// downloadMedia fetches one media file into MediaDir under a random name,
// checking its size and sniffing its type.
func (c *Client) downloadMedia(ctx context.Context, tok string, job bot.MediaJob) ([]byte, error) {
	q := url.Values{"access_token": {tok}, "media_id": {job.MediaID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.opts.BaseURL+"/cgi-bin/media/get?"+q.Encode(), nil)
	if err != nil {
		return nil, transient("media/get", err)
	}
	var data []byte
	var ctype string
	err = c.do(req, "media/get", nil, func(resp *http.Response) error {
		ctype, _, _ = mime.ParseMediaType(resp.Header.Get("Content-Type"))
		b, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxMedia+1))
		data = b
		return err
	})
	if err != nil {
		return nil, err
	}
	if ctype == "application/json" || ctype == "text/plain" || (len(data) > 0 && data[0] == '{') {
		var out sendResponse
		if json.Unmarshal(data, &out) == nil && out.ErrCode != codeOK {
			return nil, apiError("media/get", out.ErrCode, out.ErrMsg)
		}
	}
	if int64(len(data)) > c.opts.MaxMedia {
		return nil, &bot.SendError{Class: bot.SendPermanent, Msg: fmt.Sprintf("media/get: file over %d bytes", c.opts.MaxMedia)}
	}
	sniffed := http.DetectContentType(data)
	ext, ok := mediaTypes[sniffed]
	if !ok {
		return nil, &bot.SendError{Class: bot.SendPermanent, Msg: "media/get: type " + sniffed + " not accepted"}
	}
	if err := os.MkdirAll(c.opts.MediaDir, 0o750); err != nil {
		return nil, transient("media/get", err)
	}
	name := randomName() + ext
	if err := os.WriteFile(filepath.Join(c.opts.MediaDir, name), data, 0o640); err != nil {
		return nil, transient("media/get", err)
	}
	return json.Marshal(bot.MediaResult{MediaID: job.MediaID, File: name, ContentType: sniffed, Size: int64(len(data))})
}

// mediaTypes are the sniffed types accepted, with their file extensions.
var mediaTypes = map[string]string{
	"image/jpeg": ".jpg",
	"image/png":  ".png",
	"image/gif":  ".gif",
	"image/webp": ".webp",
	"video/mp4":  ".mp4",
	"audio/amr":  ".amr",
}

func randomName() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// do sends req and decodes a JSON answer into out (or hands the response to
// raw). It never lets the URL (with its token or secret) into an error.
func (c *Client) do(req *http.Request, api string, out any, raw func(*http.Response) error) error {
	resp, err := c.opts.HTTP.Do(req)
	if err != nil {
		c.observe(api, -1)
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the URL: it carries the access token
		}
		return transient(api, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.observe(api, resp.StatusCode)
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		class := bot.SendPermanent
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			class = bot.SendRetry
		}
		return &bot.SendError{Class: class, Msg: fmt.Sprintf("%s: HTTP %d", api, resp.StatusCode)}
	}
	if raw != nil {
		if err := raw(resp); err != nil {
			c.observe(api, -1)
			return transient(api, err)
		}
		c.observe(api, 0)
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		c.observe(api, -1)
		return transient(api, err)
	}
	if err := json.Unmarshal(body, out); err != nil {
		c.observe(api, -1)
		return transient(api, fmt.Errorf("answer is not JSON"))
	}
	var code struct {
		ErrCode int `json:"errcode"`
	}
	_ = json.Unmarshal(body, &code)
	c.observe(api, code.ErrCode)
	return nil
}

func (c *Client) observe(api string, code int) {
	if c.opts.OnCall != nil {
		c.opts.OnCall(api, code)
	}
}

var _ bot.CheckinSource = (*Client)(nil)

// Checkins reads 外出打卡 records (checkin/getcheckindata, type 2) of up to
// 100 users over at most 30 days.
func (c *Client) Checkins(ctx context.Context, users []string, from, to time.Time) ([]bot.Checkin, error) {
	body, _ := json.Marshal(map[string]any{
		"opencheckindatatype": 2, "starttime": from.Unix(), "endtime": to.Unix(), "useridlist": users,
	})
	var out struct {
		ErrCode     int    `json:"errcode"`
		ErrMsg      string `json:"errmsg"`
		CheckinData []struct {
			UserID        string   `json:"userid"`
			CheckinType   string   `json:"checkin_type"`
			CheckinTime   int64    `json:"checkin_time"`
			LocationTitle string   `json:"location_title"`
			Lat           int64    `json:"lat"`
			Lng           int64    `json:"lng"`
			Notes         string   `json:"notes"`
			MediaIDs      []string `json:"mediaids"`
		} `json:"checkindata"`
	}
	_, err := c.withToken(ctx, "checkin/getcheckindata", func(tok string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.opts.BaseURL+"/cgi-bin/checkin/getcheckindata?access_token="+url.QueryEscape(tok), bytes.NewReader(body))
		if err != nil {
			return nil, transient("checkin/getcheckindata", err)
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		if err := c.do(req, "checkin/getcheckindata", &out, nil); err != nil {
			return nil, err
		}
		if out.ErrCode != codeOK {
			return nil, apiError("checkin/getcheckindata", out.ErrCode, out.ErrMsg)
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	recs := make([]bot.Checkin, 0, len(out.CheckinData))
	for _, r := range out.CheckinData {
		recs = append(recs, bot.Checkin{UserID: r.UserID, Type: r.CheckinType, At: time.Unix(r.CheckinTime, 0),
			Lat: float64(r.Lat) / 1e6, Lng: float64(r.Lng) / 1e6, Title: r.LocationTitle, Notes: r.Notes, MediaIDs: r.MediaIDs})
	}
	return recs, nil
}
