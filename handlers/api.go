package handlers

import (
	"crypto/subtle"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gridbot/bot"

	"github.com/gin-gonic/gin"
)

// API serves the cases as JSON behind a bearer token.
type API struct {
	Cases    bot.Cases
	Token    string // required as "Authorization: Bearer …" when set
	Open     bool   // with no token: allow (the embedded default on localhost)
	MediaDir string // where downloaded photos are
	Zone     *time.Location
}

// auth checks the bearer token in constant time.
func (a *API) auth(c *gin.Context) {
	if a.Token == "" {
		if a.Open {
			c.Next()
			return
		}
		writeError(c, bot.Errorf(bot.EUNAUTHORIZED, "the API needs api.token in the config"))
		return
	}
	got := strings.TrimPrefix(c.GetHeader("Authorization"), "Bearer ")
	if subtle.ConstantTimeCompare([]byte(got), []byte(a.Token)) != 1 {
		c.Header("WWW-Authenticate", `Bearer realm="gridbot"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "bad or missing bearer token", "code": bot.EUNAUTHORIZED})
		return
	}
	c.Next()
}

// caseJSON is a case as the API shows it; the resident's phone is masked.
type caseJSON struct {
	ID            int64      `json:"id"`
	No            string     `json:"no"`
	Status        string     `json:"status"`
	Version       int        `json:"version"`
	Source        string     `json:"source"`
	Reporter      string     `json:"reporter"`
	Receiver      string     `json:"receiver,omitempty"`
	ResidentName  string     `json:"resident_name,omitempty"`
	ResidentPhone string     `json:"resident_phone,omitempty"`
	Code          string     `json:"code"`
	Category      string     `json:"category"`
	Plan          string     `json:"plan"`
	Dept          string     `json:"dept"`
	Size          string     `json:"size"`
	District      string     `json:"district"`
	Community     string     `json:"community"`
	Grid          string     `json:"grid"`
	Lat           float64    `json:"lat"`
	Lng           float64    `json:"lng"`
	Place         string     `json:"place"`
	Text          string     `json:"text"`
	Assignee      string     `json:"assignee,omitempty"`
	Partner       string     `json:"partner,omitempty"`
	DueAt         *time.Time `json:"due_at,omitempty"`
	Overdue       bool       `json:"overdue"`
	Escalations   int        `json:"escalations"`
	Rework        int        `json:"rework"`
	Supports      int        `json:"supports"`
	OnSpot        bool       `json:"on_spot"`
	CloseCode     string     `json:"close_code,omitempty"`
	CloseNote     string     `json:"close_note,omitempty"`
	DupOf         string     `json:"dup_of,omitempty"`
	ClosedAt      *time.Time `json:"closed_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

type eventJSON struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Note   string    `json:"note,omitempty"`
	Photos []string  `json:"photos,omitempty"`
	Denied bool      `json:"denied,omitempty"`
}

type photoJSON struct {
	MediaID     string    `json:"media_id"`
	Kind        string    `json:"kind"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	URL         string    `json:"url,omitempty"` // empty until downloaded
	ContentType string    `json:"content_type,omitempty"`
	Size        int64     `json:"size,omitempty"`
}

func (a *API) caseOut(k bot.Case) caseJSON {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		t = t.In(a.Zone)
		return &t
	}
	out := caseJSON{
		ID: k.ID, No: k.No, Status: string(k.Status), Version: k.Version, Source: string(k.Source),
		Reporter: k.Reporter, Receiver: k.Receiver, ResidentName: k.ResidentName,
		Code: k.Code, Category: k.Category, Plan: k.Plan, Dept: k.Dept, Size: string(k.Size),
		District: k.District, Community: k.Community, Grid: k.Grid, Lat: k.Lat, Lng: k.Lng, Place: k.Place, Text: k.Text,
		Assignee: k.Assignee, Partner: k.Partner, DueAt: opt(k.DueAt), Overdue: k.Overdue, Escalations: k.Escalations,
		Rework: k.Rework, Supports: k.Supports, OnSpot: k.OnSpot, CloseCode: string(k.CloseCode), CloseNote: k.CloseNote,
		DupOf: k.DupOf, ClosedAt: opt(k.ClosedAt), CreatedAt: k.CreatedAt.In(a.Zone), UpdatedAt: k.UpdatedAt.In(a.Zone),
	}
	if k.ResidentPhone != "" {
		out.ResidentPhone = bot.MaskPhone(k.ResidentPhone)
	}
	return out
}

// listCases answers GET /api/cases?district=&status=&category=&overdue=&from=&to=&page=&per_page=
func (a *API) listCases(c *gin.Context) {
	f, err := a.filter(c)
	if err != nil {
		writeError(c, err)
		return
	}
	list, total, err := a.Cases.List(c.Request.Context(), f)
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]caseJSON, 0, len(list))
	for _, k := range list {
		out = append(out, a.caseOut(k))
	}
	c.JSON(http.StatusOK, gin.H{"cases": out, "total": total, "page": f.Offset/f.Limit + 1, "per_page": f.Limit})
}

func (a *API) filter(c *gin.Context) (bot.CaseFilter, error) {
	f := bot.CaseFilter{District: c.Query("district"), Status: bot.Status(c.Query("status"))}
	if cat := c.Query("category"); cat != "" {
		if len(cat) == 5 && strings.Trim(cat, "0123456789") == "" {
			f.Code = cat
		} else {
			f.Plan = cat
		}
	}
	switch c.Query("overdue") {
	case "":
	case "true", "1":
		t := true
		f.Overdue = &t
	case "false", "0":
		t := false
		f.Overdue = &t
	default:
		return f, bot.Errorf(bot.EINVALID, "overdue must be true or false")
	}
	day := func(name string) (time.Time, error) {
		v := c.Query(name)
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.ParseInLocation("2006-01-02", v, a.Zone)
		if err != nil {
			return t, bot.Errorf(bot.EINVALID, "%s must be a date like 2026-12-01", name)
		}
		return t, nil
	}
	var err error
	if f.From, err = day("from"); err != nil {
		return f, err
	}
	if f.To, err = day("to"); err != nil {
		return f, err
	}
	if !f.To.IsZero() {
		f.To = f.To.AddDate(0, 0, 1) // "to" is inclusive
	}
	page, per := atoi(c.Query("page"), 1), atoi(c.Query("per_page"), 50)
	if page < 1 || per < 1 || per > 500 {
		return f, bot.Errorf(bot.EINVALID, "page must be ≥ 1 and per_page 1 to 500")
	}
	f.Limit, f.Offset = per, (page-1)*per
	return f, nil
}

func atoi(s string, def int) int {
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// getCase answers GET /api/cases/{id or number} with its events and photos.
func (a *API) getCase(c *gin.Context) {
	k, err := a.lookup(c)
	if err != nil {
		writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	evs, err := a.Cases.Events(ctx, k.ID)
	if err != nil {
		writeError(c, err)
		return
	}
	ps, err := a.Cases.Photos(ctx, k.ID)
	if err != nil {
		writeError(c, err)
		return
	}
	events := make([]eventJSON, 0, len(evs))
	for _, e := range evs {
		events = append(events, eventJSON{At: e.At.In(a.Zone), Actor: e.Actor, Action: string(e.Action), From: string(e.From), To: string(e.To), Note: e.Note, Photos: e.Photos, Denied: e.Denied})
	}
	photos := make([]photoJSON, 0, len(ps))
	for _, p := range ps {
		pj := photoJSON{MediaID: p.MediaID, Kind: p.Kind, By: p.By, At: p.At.In(a.Zone), ContentType: p.ContentType, Size: p.Size}
		if p.File != "" {
			pj.URL = "/api/cases/" + strconv.FormatInt(k.ID, 10) + "/photos/" + p.File
		}
		photos = append(photos, pj)
	}
	c.JSON(http.StatusOK, gin.H{"case": a.caseOut(k), "events": events, "photos": photos})
}

func (a *API) lookup(c *gin.Context) (bot.Case, error) {
	id := c.Param("id")
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		return a.Cases.Get(c.Request.Context(), n)
	}
	return a.Cases.GetByNo(c.Request.Context(), strings.ToUpper(id))
}

// photo serves one downloaded photo of a case, and only of that case.
func (a *API) photo(c *gin.Context) {
	k, err := a.lookup(c)
	if err != nil {
		writeError(c, err)
		return
	}
	ps, err := a.Cases.Photos(c.Request.Context(), k.ID)
	if err != nil {
		writeError(c, err)
		return
	}
	name := c.Param("file")
	for _, p := range ps {
		if p.File != "" && p.File == name && filepath.Base(name) == name {
			c.Header("Content-Type", p.ContentType)
			c.File(filepath.Join(a.MediaDir, name))
			return
		}
	}
	writeError(c, bot.Errorf(bot.ENOTFOUND, "no such photo on this case"))
}
