package mockserver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is every refusal the server answers, on every route and in every
// dialect: writeError renders one Error as the seed dialect's JSON, as RFC
// 6749 §5.2's JSON on /oauth/ routes, or as the login pages' HTML error
// page. Any other error is the server's own failure: a logged 500 that
// says nothing more. Read an Error with ErrorCode or errors.As, never with
// a type assertion, so that wrapping one with %w changes nothing.
type Error struct {
	Status  int    // the HTTP status; for a refused grant, the seed dialect's
	Code    string // machine-readable: invalid_request, token_expired, ...
	Message string // one sentence for the person who reads it
	// Grant marks a refused credential, token or code: what RFC 6749 calls
	// an invalid grant. The OAuth dialect answers it as 400 invalid_grant
	// with Code in the description; the seed dialect as Status and Code.
	Grant bool
	// Bearer, when set, becomes a WWW-Authenticate challenge (RFC 6750).
	Bearer bool
	// Scope is the scope an insufficient_scope refusal asks for.
	Scope string
	// Basic asks for HTTP Basic client authentication (invalid_client).
	Basic bool
	// RetryAfter, when set, becomes a Retry-After header (whole seconds,
	// at least one).
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode returns the code of the first Error in err's chain: "" for
// nil, and server_error for an error that is the server's own failure.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return codeServerError
}

const codeServerError = "server_error"

func badRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_request", Message: fmt.Sprintf(format, args...)}
}

// refused is a refused token, code or credential: 401 in the seed dialect,
// invalid_grant in the OAuth dialect.
func refused(code, msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: code, Message: msg, Grant: true}
}

// withBearer is err with a Bearer challenge, for protected routes: the
// same refusal, told to a resource request rather than a grant.
func withBearer(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	c := *e
	c.Bearer = true
	return &c
}

// errorBody is the seed dialect's error answer.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// oauthErrorBody is RFC 6749 §5.2's error answer.
type oauthErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// writeError answers err in the dialect of r's route; an error that is not
// an Error is logged (with no request data) and answered as a vague 500.
// A request whose client hung up gets no answer: nobody reads it, and the
// server did not fail.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		s.log.Debug("client went away", "method", r.Method, "path", r.URL.Path)
		return
	}
	if !errors.As(err, &e) {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		e = &Error{Status: http.StatusInternalServerError, Code: codeServerError, Message: "the server failed; see its log"}
	}
	if e.Bearer {
		w.Header().Set("WWW-Authenticate", s.bearerChallenge(e))
	}
	if e.Basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="tokenlab"`)
	}
	setRetryAfter(w, e.RetryAfter)
	switch {
	case isPage(r):
		s.writeErrorPage(w, e)
	case strings.HasPrefix(r.URL.Path, "/oauth/") && e.Grant && s.writeVendorRefusal(w, e):
		// a preset's vendor words it (presets.go)
	case strings.HasPrefix(r.URL.Path, "/oauth/") && e.Bearer:
		// A resource request (userinfo): RFC 6750 §3.1's codes, not a grant's.
		writeJSON(w, bearerStatus(e), oauthErrorBody{Error: bearerCode(e), Description: e.Message})
	case strings.HasPrefix(r.URL.Path, "/oauth/") && e.Grant:
		writeJSON(w, http.StatusBadRequest, oauthErrorBody{Error: "invalid_grant", Description: e.Message + " (" + e.Code + ")"})
	case strings.HasPrefix(r.URL.Path, "/oauth/"):
		writeJSON(w, e.Status, oauthErrorBody{Error: e.Code, Description: e.Message})
	default:
		writeJSON(w, e.Status, errorBody{Error: e.Code, Message: e.Message})
	}
}

// setRetryAfter sets Retry-After to d in whole seconds (at least one);
// nothing when d is zero.
func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	if d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))))
	}
}
