package mockserver

import (
	"net/http"
	"strings"
	"testing"
)

// cookiePost sends POST path with alice's refresh token as the cookie
// only, and the header pairs given.
func (ts *testServer) cookiePost(tb testing.TB, path, refresh string, header ...string) reply {
	tb.Helper()
	return ts.do(tb, "POST", path, nil, append([]string{"Cookie", cookieRefresh + "=" + refresh}, header...)...)
}

// SameSite=Strict treats every port of 127.0.0.1 as one site, so a page
// served by any local program could post to /logout and /token with the
// user's cookies. A cookie-authenticated POST from another origin is
// refused; requests without browser headers (curl, programs) and those
// from the server's own origin still work.
func TestCookiePostsRefuseOtherOrigins(t *testing.T) {
	ts := newTestServer(t)
	otherPort := "http://127.0.0.1:1"
	for _, path := range []string{"/logout", "/token"} {
		for _, header := range [][]string{
			{"Origin", otherPort},
			{"Origin", "null"},
			{"Origin", "http://localhost" + ts.URL[strings.LastIndex(ts.URL, ":"):]}, // same port, another origin
			{"Sec-Fetch-Site", "same-site"},
			{"Sec-Fetch-Site", "cross-site"},
			{"Origin", ts.URL, "Sec-Fetch-Site", "same-site"},
		} {
			t.Run(path+" "+strings.Join(header, " "), func(t *testing.T) {
				_, refresh := ts.login(t)
				r := ts.cookiePost(t, path, refresh, header...)
				if r.Status != http.StatusForbidden || r.str("error") != "cross_origin_request" {
					t.Fatalf("a cookie POST from another origin: %d %s, want 403 cross_origin_request", r.Status, r.Raw)
				}
				// The session is untouched: the token still refreshes.
				if r := ts.do(t, "POST", "/token", map[string]string{"token": refresh}); r.Status != http.StatusOK {
					t.Fatalf("the refused request changed the session: %d %s", r.Status, r.Raw)
				}
			})
		}
		for _, header := range [][]string{
			nil, // curl and programs send neither header
			{"Origin", ts.URL},
			{"Sec-Fetch-Site", "same-origin"},
			{"Sec-Fetch-Site", "none"},
			{"Origin", ts.URL, "Sec-Fetch-Site", "same-origin"},
		} {
			t.Run(path+" allowed "+strings.Join(header, " "), func(t *testing.T) {
				_, refresh := ts.login(t)
				if r := ts.cookiePost(t, path, refresh, header...); r.Status/100 != 2 {
					t.Fatalf("a same-origin cookie POST: %d %s", r.Status, r.Raw)
				}
			})
		}
	}
	// A token in the body is not ambient authority: a page that has it
	// could use it anyway.
	_, refresh := ts.login(t)
	if r := ts.do(t, "POST", "/logout", map[string]string{"token": refresh}, "Origin", otherPort); r.Status != http.StatusNoContent {
		t.Fatalf("a body token from another origin: %d %s", r.Status, r.Raw)
	}
}
