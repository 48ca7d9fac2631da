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
	// ErrKeyringLocked means the keyring is there but locked: unlocking
	// it is the fix, not another store. It matches ErrNoKeyring too.
	ErrKeyringLocked = errors.New("the OS keyring is locked")
	// ErrSessionNotSaved means a refresh succeeded on the server but its
	// result could not be kept: the new refresh token is lost.
	ErrSessionNotSaved = errors.New("the refreshed session could not be saved")
	// ErrFlowNotOffered means the server does not offer the login flow
	// asked for, or none that fits.
	ErrFlowNotOffered = errors.New("the server does not offer that login flow")
	// ErrLoginTimeout means the browser or the device approval did not
	// come back in time.
	ErrLoginTimeout = errors.New("the login timed out")
	// ErrLoginDenied means the user (or the server) refused the login.
	ErrLoginDenied = errors.New("the login was denied")
)

// SessionNotSavedError says which store failed to keep a rotated refresh
// token, and why. It matches ErrSessionNotSaved.
type SessionNotSavedError struct {
	Store string
	Err   error
}

func (e *SessionNotSavedError) Error() string {
	return fmt.Sprintf("the server rotated the refresh token, but the new one could not be saved in the %s even on a second try (%v), so it is lost and the next refresh will fail; log in again", e.Store, e.Err)
}
func (e *SessionNotSavedError) Unwrap() []error { return []error{ErrSessionNotSaved, e.Err} }

// APIError is an answer from the API that tokenlab did not expect or that
// refuses what was asked.
type APIError struct {
	Status  int
	Code    string // the error code in the body, when there is one
	Message string // the server's words, or a description of the answer
}

// Error quotes the server with its control and bidi characters escaped:
// the sentence reaches a terminal, and the server may be hostile.
func (e *APIError) Error() string {
	code, msg := Printable(e.Code), Printable(e.Message)
	switch {
	case code != "" && msg != "":
		return fmt.Sprintf("the server answered %d %s: %s", e.Status, code, msg)
	case code != "":
		return fmt.Sprintf("the server answered %d %s", e.Status, code)
	case msg != "":
		return fmt.Sprintf("the server answered %d: %s", e.Status, msg)
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

// flowError is a sentence that matches a sentinel (ErrFlowNotOffered,
// ErrLoginTimeout, ErrLoginDenied, ErrCrossOriginEndpoint) without
// repeating the sentinel's own words.
type flowError struct {
	is  error
	msg string
}

func (e *flowError) Error() string { return e.msg }
func (e *flowError) Unwrap() error { return e.is }

func sentinelf(is error, format string, args ...any) error {
	return &flowError{is: is, msg: fmt.Sprintf(format, args...)}
}

// keyringLocked is a locked keyring: it matches ErrKeyringLocked and,
// because the keyring cannot be used until then, ErrNoKeyring.
type keyringLocked struct{}

func (keyringLocked) Error() string {
	return ErrKeyringLocked.Error() + ": unlock it (log in to the desktop, or unlock the login keyring in its manager) and try again"
}
func (keyringLocked) Unwrap() []error { return []error{ErrKeyringLocked, ErrNoKeyring} }
