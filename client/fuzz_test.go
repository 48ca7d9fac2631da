package client

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tokenlab/tokenlab/client/jwtx"
)

// FuzzBearerInvalidToken: any WWW-Authenticate header is read without a
// panic, and only a Bearer challenge with error="invalid_token" counts.
func FuzzBearerInvalidToken(f *testing.F) {
	for _, seed := range []string{
		`Bearer error="invalid_token", error_description="expired"`,
		`bearer realm="x",error=invalid_token`,
		`Basic realm="x"`, `Bearer`, `Bearer error="insufficient_scope"`, ``, `Bearer ,,,=,"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{"Www-Authenticate": {v}}
		got := bearerInvalidToken(h)
		if got && !strings.Contains(v, "invalid_token") {
			t.Fatalf("%q counted as invalid_token", v)
		}
	})
}

// FuzzLoopbackCallback: whatever comes to the loopback listener, at most
// one result is sent, and a code is accepted only with the right state.
func FuzzLoopbackCallback(f *testing.F) {
	for _, seed := range []string{"code=abc&state=right", "code=abc&state=wrong", "error=access_denied&state=right",
		"state=right", "code=&state=right", "%zz", "state=right&state=other&code=x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		results := make(chan callbackResult, 1)
		h := loopbackHandler("right", results)
		req := httptest.NewRequest(http.MethodGet, "/callback", nil)
		req.URL.RawQuery = query
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := <-results
		if res.code != "" && req.URL.Query().Get("state") != "right" {
			t.Fatalf("code accepted with state %q", req.URL.Query().Get("state"))
		}
		if (res.code == "") == (res.err == nil) {
			t.Fatalf("want a code or an error, got %+v", res)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req) // a second visit finds the login over
		if rec.Code != http.StatusGone || len(results) != 0 {
			t.Fatalf("second visit: %d, %d results", rec.Code, len(results))
		}
	})
}

// FuzzPrintable: the escaped text holds no control or bidi character and
// is unchanged when there was none.
func FuzzPrintable(f *testing.F) {
	for _, seed := range []string{"alice", "a\x1b[2Jb", "\u202eevil", "x\u009by", "\xff", "日本"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := jwtx.Printable(s)
		for _, r := range out {
			if r < 0x20 || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
				t.Fatalf("Printable(%q) = %q keeps %U", s, out, r)
			}
		}
		if !utf8.ValidString(out) {
			t.Fatalf("Printable(%q) is not UTF-8", s)
		}
	})
}
