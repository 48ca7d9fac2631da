package client

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
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

// FuzzLoopbackCallback: whatever comes to the loopback listener, a
// wrong state is refused without ending the login; the right state ends it
// with exactly one result, a code only when iss is absent or names the
// issuer, and an error sentence without control characters.
func FuzzLoopbackCallback(f *testing.F) {
	for _, seed := range []string{"code=abc&state=right", "code=abc&state=wrong", "error=access_denied&state=right",
		"state=right", "code=&state=right", "%zz", "state=right&state=other&code=x",
		"code=abc&state=right&iss=https%3A%2F%2Fidp.example", "code=abc&state=right&iss=https%3A%2F%2Fevil.example",
		"code=abc&state=right&iss=https%3A%2F%2Fidp.example&iss=x", "code=abc&state=right&iss=%1b%5D0%3Bowned%07",
		"error=x%1b%5B2J&error_description=%E2%80%AEevil%0d&state=right"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		lb := newLoopback("right", "https://idp.example", false, nil)
		h := lb.handler()
		req := httptest.NewRequest(http.MethodGet, "/callback", nil)
		req.URL.RawQuery = query
		q := req.URL.Query()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if q.Get("state") != "right" {
			if rec.Code != http.StatusBadRequest || len(lb.results) != 0 || lb.wrongStates() != 1 {
				t.Fatalf("wrong state %q: %d, %d results, %d refused; want refused and the login still waiting", q.Get("state"), rec.Code, len(lb.results), lb.wrongStates())
			}
			return
		}
		res := <-lb.results
		if (res.code == "") == (res.err == nil) {
			t.Fatalf("want a code or an error, got %+v", res)
		}
		if iss, sent := q["iss"]; res.code != "" && sent && (len(iss) != 1 || iss[0] != "https://idp.example") {
			t.Fatalf("code accepted with iss %q", iss)
		}
		if res.err != nil && jwtx.Printable(res.err.Error()) != res.err.Error() {
			t.Fatalf("the error carries control characters: %q", res.err.Error())
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req) // a second visit finds the login over
		if rec.Code != http.StatusGone || len(lb.results) != 0 {
			t.Fatalf("second visit: %d, %d results", rec.Code, len(lb.results))
		}
	})
}

// FuzzBrowsable: a URL handed to the OS browser opener is an absolute
// http(s) URL with nothing a terminal would act on.
func FuzzBrowsable(f *testing.F) {
	for _, seed := range []string{"https://idp.example/device", "http://127.0.0.1:4444/oauth2/auth?x=1", "file:///etc/passwd",
		"javascript:alert(1)", "https:///nohost", "//idp.example/device", "https://idp.example/\x1b[2J", "https://idp.example/\u202e",
		"HTTPS://IDP.EXAMPLE", "ms-settings:", "https://idp.example/dev\rice", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !browsable(s) {
			return
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("browsable(%q) but it is not an absolute http(s) URL", s)
		}
		if jwtx.Printable(s) != s {
			t.Fatalf("browsable(%q) keeps control or bidi characters", s)
		}
	})
}

// FuzzPrintable: the escaped text holds no control or bidi character and
// is unchanged when there was none.
func FuzzPrintable(f *testing.F) {
	for _, seed := range []string{"alice", "a\x1b[2Jb", "\u202eevil", "x\u009by", "\xff", "日本",
		"no\x1b]0;owned\x07title", "line\rover", "\u2066isolate\u2069", "\u061carabic mark", "\u200eltr", "tab\tand\x7fdel",
		`{"error":"invalid_grant"}`} {
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

// FuzzResourceMetadataURL: any WWW-Authenticate header is read without a
// panic, and a Bearer challenge that names resource_metadata first, as a
// quoted string without quotes or backslashes, gives back that URL.
func FuzzResourceMetadataURL(f *testing.F) {
	for _, seed := range []string{
		`https://api.example/.well-known/oauth-protected-resource`, ``, `a"b`, `\`, `x\"y`, `, =`,
	} {
		f.Add(seed, `Bearer error="invalid_token", resource_metadata=`)
	}
	f.Add("u", `Bearer resource_metadata="`)
	f.Add("u", `Bearer a="\`)
	f.Add("u", `Bearer ,,,=,"`)
	f.Fuzz(func(t *testing.T, mdURL, header string) {
		ResourceMetadataURL(http.Header{"Www-Authenticate": {header}}) // must not panic
		if mdURL == "" || strings.ContainsAny(mdURL, "\"\\\r\n") || !utf8.ValidString(mdURL) {
			return
		}
		v := `Bearer resource_metadata="` + mdURL + `", error="invalid_token"`
		if got := ResourceMetadataURL(http.Header{"Www-Authenticate": {v}}); got != mdURL {
			t.Fatalf("%q: got %q, want %q", v, got, mdURL)
		}
	})
}

// FuzzIDClaims: an ID token's claims of any shape (exp as a string, aud
// as a number, nonce as an object) are judged without a panic, and never
// pass without the issuer, this client in aud and a nonce that matches.
func FuzzIDClaims(f *testing.F) {
	for _, seed := range []string{
		`{"iss":"https://idp.example","aud":"cli","exp":1900000000,"nonce":"n"}`,
		`{"iss":"https://idp.example","aud":["cli","x"],"azp":"cli","exp":1900000000,"nonce":"n"}`,
		`{"iss":"https://idp.example","aud":7,"exp":"soon","nonce":{}}`,
		`{"iss":"https://idp.example","aud":"cli","exp":1e308,"nonce":"n"}`,
		`{"iss":"https://idp.example","aud":"cli","exp":-1e308,"nonce":"n"}`,
		`{"aud":[null,1,"cli"],"exp":null}`, `[]`, `null`,
	} {
		f.Add(seed)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		var claims IDClaims
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber() // as Decode reads them
		if dec.Decode(&claims) != nil {
			return
		}
		err := checkIDClaims(claims, "https://idp.example", "cli", "n", now)
		if err == nil && (claims.String("iss") != "https://idp.example" || !slices.Contains(audiences(claims["aud"]), "cli") || claims.String("nonce") != "n") {
			t.Fatalf("%s passed", raw)
		}
	})
}
