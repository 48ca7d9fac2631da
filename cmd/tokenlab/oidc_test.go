package main

import (
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/client"
)

// TestRefreshLine: a session without a refresh token says "no refresh
// token", whatever the grant; one with an opaque token says its expiry is
// unknown.
func TestRefreshLine(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name string
		sess client.Session
		want string
	}{
		{"client credentials", client.Session{Grant: client.FlowClientCredentials}, "no refresh token: the grant runs again"},
		{"pkce without one", client.Session{Grant: client.FlowPKCE}, "no refresh token: the server gave none"},
		{"opaque", client.Session{Grant: client.FlowPKCE, RefreshToken: "opaque"}, "expiry unknown"},
		{"jwt", client.Session{RefreshToken: "x", RefreshExpiry: now.Add(time.Hour)}, "expires in 1h"},
	}
	st := newAuthStyles()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := refreshLine(st, tc.sess, now); !strings.Contains(got, tc.want) {
				t.Errorf("refreshLine = %q, want %q in it", got, tc.want)
			}
		})
	}
}

// TestIDTokenRow: status's ID token line for a kept token's claims, for
// claims kept without the token, and for sessions without one.
func TestIDTokenRow(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	claims := `{"iss":"http://127.0.0.1:4444","sub":"alice","name":"Alice \u202eX","exp":` + "1767326400" + `}` // 04:00 UTC
	cases := []struct {
		name string
		sess client.Session
		want []string
	}{
		{"claims only", client.Session{IDClaims: []byte(claims)}, []string{"sub alice (Alice \\u202eX) from http://127.0.0.1:4444, verified at login", "expires in 1h", "did not fit"}},
		{"client credentials", client.Session{Grant: client.FlowClientCredentials}, []string{"no user"}},
		{"none", client.Session{Grant: client.FlowPKCE}, []string{"none (the server offers no openid scope"}},
	}
	st := newAuthStyles()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := idTokenRow(st, tc.sess, now)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("idTokenRow = %q, want %q in it", got, w)
				}
			}
		})
	}
}
