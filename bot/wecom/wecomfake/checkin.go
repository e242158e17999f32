package wecomfake

import (
	"encoding/json"
	"net/http"
	"sort"
)

// Checkin is one 打卡 record as checkin/getcheckindata returns it
// (doc 90262). Lat and Lng are degrees × 1,000,000.
type Checkin struct {
	UserID         string   `json:"userid"`
	GroupName      string   `json:"groupname"`
	CheckinType    string   `json:"checkin_type"` // 上班打卡, 下班打卡, 外出打卡
	ExceptionType  string   `json:"exception_type"`
	CheckinTime    int64    `json:"checkin_time"` // Unix seconds
	LocationTitle  string   `json:"location_title"`
	LocationDetail string   `json:"location_detail"`
	Lat            int64    `json:"lat"`
	Lng            int64    `json:"lng"`
	Notes          string   `json:"notes"`
	MediaIDs       []string `json:"mediaids"`
}

// AddCheckin stores 打卡 records for checkin/getcheckindata to serve.
func (f *Fake) AddCheckin(records ...Checkin) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checkins = append(f.checkins, records...)
}

// checkinRequest is the body of checkin/getcheckindata.
type checkinRequest struct {
	Type       int      `json:"opencheckindatatype"` // 1 上下班, 2 外出, 3 all
	StartTime  int64    `json:"starttime"`
	EndTime    int64    `json:"endtime"`
	UserIDList []string `json:"useridlist"`
}

func peekCheckin(rec *Request, _ *http.Request, body []byte) {
	rec.Body = recordBody(body)
}

// handleCheckin answers checkin/getcheckindata: at most 100 users and 30
// days per call, as WeCom enforces.
func (f *Fake) handleCheckin(c *call) (reply, *apiError) {
	var req checkinRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		return reply{}, fail(40058, "invalid parameter: body is not JSON")
	}
	if len(req.UserIDList) == 0 || len(req.UserIDList) > 100 {
		return reply{}, fail(40058, "invalid parameter: useridlist must have 1 to 100 users")
	}
	if req.EndTime < req.StartTime || req.EndTime-req.StartTime > 30*24*3600 {
		return reply{}, fail(301023, "time span over 30 days or reversed")
	}
	users := map[string]bool{}
	for _, u := range req.UserIDList {
		users[u] = true
	}
	out := []Checkin{}
	for _, r := range f.checkins {
		if !users[r.UserID] || r.CheckinTime < req.StartTime || r.CheckinTime > req.EndTime {
			continue
		}
		if req.Type == 2 && r.CheckinType != "外出打卡" || req.Type == 1 && r.CheckinType == "外出打卡" {
			continue
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CheckinTime < out[j].CheckinTime })
	return reply{json: struct {
		ErrCode     int       `json:"errcode"`
		ErrMsg      string    `json:"errmsg"`
		CheckinData []Checkin `json:"checkindata"`
	}{ErrMsg: "ok", CheckinData: out}}, nil
}
