package mockserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestWrappedErrorsRenderInEveryDialect wraps each kind of refusal with %w
// (as a layer that adds context would) and sends it through the handler
// wrapper and writeError on a route of each dialect: the answer is the
// refusal's status and body, never a 500 or a panic. Before one Error type,
// a wrapped token refusal on a seed route fell through a type switch to 500.
func TestWrappedErrorsRenderInEveryDialect(t *testing.T) {
	ts := newTestServer(t)
	expired := refused(codeTokenExpired, "the token has expired")
	cases := []struct {
		name       string
		path       string
		err        error
		status     int
		code, text string // text is in the body's message or description
		header     string // a header that must be set
	}{
		{"seed token refusal", "/token", expired, 401, codeTokenExpired, "the token has expired", ""},
		{"seed credentials", "/login", errInvalidCredentials, 401, "invalid_credentials", "wrong username or password", ""},
		{"seed bad request", "/register", badRequest("username is required"), 400, "invalid_request", "username is required", ""},
		{"protected route", "/protected", withBearer(fmt.Errorf("verify: %w", expired)), 401, codeTokenExpired, "the token has expired", "WWW-Authenticate"},
		{"oauth grant", "/oauth/token", expired, 400, "invalid_grant", "the token has expired (token_expired)", ""},
		{"oauth credentials", "/oauth/token", errInvalidCredentials, 400, "invalid_grant", "wrong username or password (invalid_credentials)", ""},
		{"oauth client", "/oauth/token", invalidClient("unknown client"), 401, "invalid_client", "unknown client", "WWW-Authenticate"},
		{"oauth busy", "/oauth/token", errHashBusy, 503, "temporarily_unavailable", "", "Retry-After"},
		{"page", "/oauth/authorize", badRequest("client_id is missing"), 400, "invalid_request", "client_id is missing", ""},
		{"internal", "/token", errors.New("disk on fire"), 500, codeServerError, "the server failed", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wrapped := fmt.Errorf("layer two: %w", fmt.Errorf("layer one: %w", tc.err))
			if got := ErrorCode(wrapped); got != tc.code && tc.code != "invalid_grant" {
				t.Errorf("ErrorCode = %q, want %q", got, tc.code)
			}
			h := ts.errorHandler(func(http.ResponseWriter, *http.Request) error { return wrapped })
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tc.path, nil))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.status, rec.Body)
			}
			if tc.header != "" && rec.Header().Get(tc.header) == "" {
				t.Errorf("no %s header", tc.header)
			}
			body := rec.Body.String()
			if isPage(httptest.NewRequest(http.MethodGet, tc.path, nil)) {
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, tc.text) {
					t.Fatalf("page answer %q %s lacks %q", ct, body, tc.text)
				}
				return
			}
			var got map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			text := got["message"]
			if strings.HasPrefix(tc.path, "/oauth/") {
				text = got["error_description"]
			}
			if got["error"] != tc.code || !strings.Contains(text, tc.text) {
				t.Fatalf("body %s, want error %q with %q", body, tc.code, tc.text)
			}
		})
	}
}

func TestErrorCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("boom"), codeServerError},
		{fmt.Errorf("a: %w", errOtherClient), codeInvalidToken},
		{errors.Join(errors.New("first"), badRequest("x")), "invalid_request"},
	} {
		if got := ErrorCode(tc.err); got != tc.want {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	// withBearer copies: the shared sentinel keeps no challenge.
	if e := withBearer(fmt.Errorf("w: %w", errHighS)); !errors.As(e, new(*Error)) || errHighS.Bearer {
		t.Fatalf("withBearer changed the sentinel or lost the error")
	}
}
