package mockserver

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// page is an HTML answer of the login pages.
type page struct {
	Status int
	Header http.Header
	Body   string
}

// htmlForm is a form read from a page, as a program filling it sees it.
type htmlForm struct {
	Method, Action string
	Fields         map[string]string // input name -> value (hidden and text)
	Types          map[string]string // input name -> type
	Buttons        map[string][]string
}

var (
	formTag   = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	inputTag  = regexp.MustCompile(`<input\b([^>]*)>`)
	buttonTag = regexp.MustCompile(`<button\b([^>]*)>`)
	attr      = regexp.MustCompile(`([a-z_-]+)="([^"]*)"`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attr.FindAllStringSubmatch(s, -1) {
		m[a[1]] = html.UnescapeString(a[2])
	}
	return m
}

// formOf reads the page's only form.
func formOf(tb testing.TB, p page) htmlForm {
	tb.Helper()
	forms := formTag.FindAllStringSubmatch(p.Body, -1)
	if len(forms) != 1 {
		tb.Fatalf("want exactly one form, found %d:\n%s", len(forms), p.Body)
	}
	fa := attrs(forms[0][1])
	f := htmlForm{Method: fa["method"], Action: fa["action"], Fields: map[string]string{}, Types: map[string]string{}, Buttons: map[string][]string{}}
	for _, in := range inputTag.FindAllStringSubmatch(forms[0][2], -1) {
		a := attrs(in[1])
		if _, dup := f.Fields[a["name"]]; dup {
			tb.Fatalf("field %s appears twice", a["name"])
		}
		f.Fields[a["name"]], f.Types[a["name"]] = a["value"], a["type"]
	}
	for _, b := range buttonTag.FindAllStringSubmatch(forms[0][2], -1) {
		a := attrs(b[1])
		f.Buttons[a["name"]] = append(f.Buttons[a["name"]], a["value"])
	}
	return f
}

// browser sends requests without following redirects, as a test reads
// the Location a browser would follow.
func (ts *testServer) browser(tb testing.TB, method, path string, form url.Values) page {
	tb.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(tb.Context(), method, ts.URL+path, body)
	if err != nil {
		tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", formType)
	}
	c := *ts.http
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return page{Status: resp.StatusCode, Header: resp.Header, Body: string(raw)}
}

// submit posts a form read from a page with some fields set.
func (ts *testServer) submit(tb testing.TB, f htmlForm, set ...string) page {
	tb.Helper()
	vals := url.Values{}
	for k, v := range f.Fields {
		vals.Set(k, v)
	}
	for i := 0; i+1 < len(set); i += 2 {
		vals.Set(set[i], set[i+1])
	}
	return ts.browser(tb, strings.ToUpper(f.Method), f.Action, vals)
}

// checkPageHeaders asserts the headers every login page carries.
func checkPageHeaders(tb testing.TB, p page) {
	tb.Helper()
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
		"Content-Security-Policy": "default-src 'none'"} {
		if !strings.Contains(p.Header.Get(h), want) {
			tb.Errorf("%s = %q, want %q", h, p.Header.Get(h), want)
		}
	}
	if strings.Contains(p.Header.Get("Content-Security-Policy"), "script-src") || strings.Contains(strings.ToLower(p.Body), "<script") {
		tb.Errorf("the page must not allow or contain scripts")
	}
}

// location parses a redirect's Location.
func location(tb testing.TB, p page) *url.URL {
	tb.Helper()
	if p.Status != http.StatusFound {
		tb.Fatalf("want a 302, got %d: %s", p.Status, p.Body)
	}
	u, err := url.Parse(p.Header.Get("Location"))
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// claimsOf decodes a JWT's payload without verifying it.
func claimsOf(tb testing.TB, tok string) map[string]any {
	tb.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		tb.Fatalf("not a JWT: %q", tok)
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

const testVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more-characters"

// authorizeQuery is a valid authorization request for the public client.
func authorizeQuery(redirect string, extra ...string) url.Values {
	q := url.Values{"response_type": {"code"}, "client_id": {DefaultClientID}, "redirect_uri": {redirect},
		"state": {"state-123"}, "scope": {"read write"}, "code_challenge": {s256(testVerifier)}, "code_challenge_method": {"S256"}}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			q.Del(extra[i])
		} else {
			q.Set(extra[i], extra[i+1])
		}
	}
	return q
}

// authorize walks the login page as alice and returns the code.
func (ts *testServer) authorize(tb testing.TB, q url.Values) string {
	tb.Helper()
	p := ts.browser(tb, "GET", "/oauth/authorize?"+q.Encode(), nil)
	if p.Status != 200 {
		tb.Fatalf("authorize page: %d %s", p.Status, p.Body)
	}
	loc := location(tb, ts.submit(tb, formOf(tb, p), "username", "alice", "password", "password123", "action", "approve"))
	code := loc.Query().Get("code")
	if code == "" {
		tb.Fatalf("no code in %s", loc)
	}
	return code
}
