package wecomfake

import (
	"strings"
	"time"
)

type faultKind int

const (
	faultErr   faultKind = iota // answer an errcode
	faultHTTP                   // answer an HTTP status
	faultDelay                  // wait before answering
)

// fault is an injected failure or delay for the next n matching calls.
type fault struct {
	kind   faultKind
	api    string // "" = any API but gettoken
	n      int
	code   int
	msg    string
	status int
	delay  time.Duration
}

// FailNext makes the next n API calls (any endpoint but gettoken) answer
// errcode with errmsg (a default message when empty). The calls are recorded
// with that errcode and have no other effect.
func (f *Fake) FailNext(n int, errcode int, errmsg string) {
	f.addFault(&fault{kind: faultErr, n: n, code: errcode, msg: errmsg})
}

// FailNextOn is FailNext for one API only. api is a record's API name
// ("message/send", "update_template_card", "gettoken" …) or its path, with or
// without the "/cgi-bin/" prefix.
func (f *Fake) FailNextOn(api string, n, errcode int) {
	f.addFault(&fault{kind: faultErr, api: normalizeAPI(api), n: n, code: errcode})
}

// FailNextHTTP makes the next n API calls (any endpoint but gettoken) answer
// HTTP status with a short text body instead of JSON.
func (f *Fake) FailNextHTTP(n int, status int) {
	f.addFault(&fault{kind: faultHTTP, n: n, status: status})
}

// FailNextHTTPOn is FailNextHTTP for one API only (see FailNextOn).
func (f *Fake) FailNextHTTPOn(api string, n, status int) {
	f.addFault(&fault{kind: faultHTTP, api: normalizeAPI(api), n: n, status: status})
}

// DelayNext makes the next n API calls (any endpoint but gettoken) wait d,
// or until the request's context is done, before answering. The call is
// processed and recorded first: like a real timeout, the client cannot tell
// whether WeCom acted on it.
func (f *Fake) DelayNext(n int, d time.Duration) {
	f.addFault(&fault{kind: faultDelay, n: n, delay: d})
}

// DelayNextOn is DelayNext for one API only (see FailNextOn).
func (f *Fake) DelayNextOn(api string, n int, d time.Duration) {
	f.addFault(&fault{kind: faultDelay, api: normalizeAPI(api), n: n, delay: d})
}

func (f *Fake) addFault(ft *fault) {
	if ft.n <= 0 {
		return
	}
	if ft.kind == faultErr && ft.msg == "" {
		ft.msg = errMsgFor(ft.code)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, ft)
}

// takeFault consumes one use of the first fault of kind matching api. f.mu is held.
func (f *Fake) takeFault(kind faultKind, api string) *fault {
	for i, ft := range f.faults {
		if ft.kind != kind || ft.n <= 0 {
			continue
		}
		if ft.api == "" && api == "gettoken" || ft.api != "" && ft.api != api {
			continue
		}
		ft.n--
		got := *ft
		if ft.n == 0 {
			f.faults = append(f.faults[:i:i], f.faults[i+1:]...)
		}
		return &got
	}
	return nil
}

// normalizeAPI turns a path or API name into a record's API name.
func normalizeAPI(api string) string {
	api = strings.TrimPrefix(api, "/")
	api = strings.TrimPrefix(api, "cgi-bin/")
	api = strings.TrimSuffix(api, "/")
	if api == "message/update_template_card" {
		return "update_template_card"
	}
	return api
}
