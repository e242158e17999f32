// Package bot is gridbot's domain: what comes in from WeCom, what goes out,
// and the rules in between. It does no I/O of its own: stores, the WeCom API
// and the clock are interfaces that cmd wires to real implementations.
package bot

import (
	"errors"
	"fmt"
)

// Error codes, mapped to HTTP statuses in one place (handlers.statusOf).
const (
	ECONFLICT     = "conflict"     // a unique key or version check failed
	EINTERNAL     = "internal"     // a bug or an unexpected failure
	EINVALID      = "invalid"      // bad input: the caller must change the request
	ENOTFOUND     = "not_found"    // no such thing
	EUNAUTHORIZED = "unauthorized" // a bad signature, token or identity
	ETOOLARGE     = "too_large"    // the body or a file is over its cap
	EUNAVAILABLE  = "unavailable"  // a dependency is down; try again later
)

// Error is a domain error with a machine code and a message safe to show.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the safe message of err: an *Error's own message,
// or a generic one for anything else (internal details never leave).
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
