package bot

import (
	"errors"
	"fmt"
)

// SendClass says what to do after a failed WeCom call.
type SendClass int

// The classes of send errors.
const (
	SendRetry     SendClass = iota // busy, frequency limit, network, 5xx: back off and try again
	SendRefresh                    // the access token is bad: refresh once and retry (the client does this)
	SendPermanent                  // anything else: dead letter
)

// SendError is a failed WeCom call, with the errcode WeCom gave (0 for
// network and HTTP errors) and its class.
type SendError struct {
	Class   SendClass
	ErrCode int
	Msg     string
}

func (e *SendError) Error() string {
	return fmt.Sprintf("wecom errcode %d: %s", e.ErrCode, e.Msg)
}

// ClassOf returns the class of err: a *SendError's own, SendRetry otherwise
// (a network failure, a timeout).
func ClassOf(err error) (SendClass, int) {
	var se *SendError
	if errors.As(err, &se) {
		return se.Class, se.ErrCode
	}
	return SendRetry, 0
}
