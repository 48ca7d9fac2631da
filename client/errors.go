package client

import (
	"errors"
	"fmt"
)

// Sentinel errors for what callers branch on.
var (
	// ErrLoginRequired means there is no usable session: never logged in,
	// or the server refused the refresh token (reused, revoked, expired).
	ErrLoginRequired = errors.New("login required")
	// ErrNoSession is a store's answer when it holds no session for a key.
	ErrNoSession = errors.New("no session stored")
	// ErrNoKeyring means the OS keyring cannot be reached or used.
	ErrNoKeyring = errors.New("no OS keyring is reachable")
)

// APIError is an answer from the API that tokenlab did not expect or that
// refuses what was asked.
type APIError struct {
	Status  int
	Code    string // the error code in the body, when there is one
	Message string // the server's words, or a description of the answer
}

func (e *APIError) Error() string {
	switch {
	case e.Code != "" && e.Message != "":
		return fmt.Sprintf("the server answered %d %s: %s", e.Status, e.Code, e.Message)
	case e.Code != "":
		return fmt.Sprintf("the server answered %d %s", e.Status, e.Code)
	case e.Message != "":
		return fmt.Sprintf("the server answered %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("the server answered %d", e.Status)
}

// loginRequired wraps why a session ended so both errors.Is(err,
// ErrLoginRequired) and the server's reason reach the caller.
type loginRequired struct{ cause error }

func (e loginRequired) Error() string {
	return "login required: " + e.cause.Error()
}
func (e loginRequired) Unwrap() []error { return []error{ErrLoginRequired, e.cause} }
