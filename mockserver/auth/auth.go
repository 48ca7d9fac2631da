// Package auth holds what the mock server and its store share: the
// domain types (users, clients, refresh-token families, codes, events),
// the requests the server makes of a store, and the errors a store
// answers with. It imports nothing of tokenlab, so the server (package
// mockserver) and every store implementation (package sqlite today) can
// import it without a cycle.
package auth

import "errors"

// Sentinel errors for the outcomes callers branch on.
var (
	ErrNotFound       = errors.New("not found")
	ErrUserExists     = errors.New("user already exists")
	ErrRevoked        = errors.New("refresh token family revoked")
	ErrTokenRevoked   = errors.New("refresh token revoked")
	ErrReused         = errors.New("refresh token already used")
	ErrExpired        = errors.New("refresh token expired")
	ErrSessionExpired = errors.New("session reached its maximum lifetime")
)

// Sentinel errors of the login flows.
var (
	ErrTooMany   = errors.New("too many pending codes for this user or address")
	ErrCodesFull = errors.New("too many pending codes on the whole server")
	// ErrClientCodesFull: one client's parties together reached its cap.
	ErrClientCodesFull = errors.New("too many pending codes for this client")
	ErrPending         = errors.New("the user has not decided yet")
	ErrSlowDown        = errors.New("polled faster than the interval")
	ErrDenied          = errors.New("the user denied the request")
	ErrCodeTaken       = errors.New("user code already in use")
)

// ErrBadCursor is a page cursor the store did not hand out.
var ErrBadCursor = errors.New("malformed page cursor")

// CodeLimits bounds the undecided or unredeemed codes a store keeps. Each
// is for one party of one client: a user's authorization codes, or the
// device codes asked for from one address; past it the store answers
// ErrTooMany. Total is for all clients and parties together (ErrCodesFull):
// a backstop, much larger, so that one party cannot close a shared client
// for everyone. Client, when set, is for one client's parties together
// (ErrClientCodesFull): a flood through one client from many addresses
// leaves room for the other clients.
type CodeLimits struct {
	Each, Client, Total int
}
