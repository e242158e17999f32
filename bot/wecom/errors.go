package wecom

import (
	"fmt"

	"gridbot/bot"
)

// Errcodes the adapter acts on (doc 90313).
const (
	codeOK           = 0
	codeBusy         = -1    // system busy
	codeInvalidToken = 40014 // invalid access_token
	codeTokenExpired = 42001 // access_token expired
	codeTokenMissing = 41001 // access_token missing
	codeFrequency    = 45009 // API frequency limit
	codeConcurrency  = 45033 // API concurrency limit
	// Everything else is permanent, among them 40001 (a wrong secret: WeCom
	// blocks the IP on repeats), 40013 (a wrong corpid), 60020 (egress IP not
	// trusted) and 40007 (an unknown media_id).
)

// classify sorts an errcode into retry, refresh-the-token, or permanent.
func classify(errcode int) bot.SendClass {
	switch errcode {
	case codeBusy, codeFrequency, codeConcurrency:
		return bot.SendRetry
	case codeInvalidToken, codeTokenExpired, codeTokenMissing:
		return bot.SendRefresh
	}
	return bot.SendPermanent
}

// apiError is the SendError of an errcode answer.
func apiError(api string, errcode int, errmsg string) *bot.SendError {
	return &bot.SendError{Class: classify(errcode), ErrCode: errcode, Msg: fmt.Sprintf("%s: %s", api, errmsg)}
}

// transient is a network failure or a 5xx: always worth another try.
func transient(api string, err error) *bot.SendError {
	return &bot.SendError{Class: bot.SendRetry, Msg: fmt.Sprintf("%s: %v", api, err)}
}
