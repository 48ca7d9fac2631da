package client

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestSessionEnded(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  APIError
		want bool
	}{
		{"reused", APIError{Status: 401, Code: "token_reused"}, true},
		{"seed 403", APIError{Status: 403}, true},
		{"oauth invalid_grant", APIError{Status: 400, Code: "invalid_grant"}, true},
		{"oauth invalid_client", APIError{Status: 401, Code: "invalid_client"}, false},
		{"wrong field name", APIError{Status: 400, Code: "invalid_request"}, false},
		{"unsupported grant", APIError{Status: 400, Code: "unsupported_grant_type"}, false},
		{"plain 400", APIError{Status: 400}, false},
		{"server error", APIError{Status: 500}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sessionEnded(&tc.err); got != tc.want {
				t.Fatalf("sessionEnded(%+v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestLoginDoesNotFollowRedirects: a redirect from the login endpoint must
// not carry the password to another host.
func TestLoginDoesNotFollowRedirects(t *testing.T) {
	var stolen atomic.Int64
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stolen.Add(1) }))
	defer thief.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, thief.URL+"/login", http.StatusTemporaryRedirect)
	}))
	defer api.Close()
	p, _ := ResolveProfile("tokenlab")
	c, err := New(api.URL, "alice", p, NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(t.Context(), "password123"); err == nil {
		t.Fatal("a redirected login must fail")
	}
	if n := stolen.Load(); n != 0 {
		t.Fatalf("the redirect target received %d requests with the password", n)
	}
}
