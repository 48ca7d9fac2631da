package scenarios

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// check compares what a step saw with what the scenario expects and says,
// for each difference, what was expected and what came back. Checks that
// need what this run cannot see (server events without the admin API)
// come back in skipped, each with why.
func check(e *Expect, o Observed, claims map[string]any) (fails, skipped []string) {
	fail := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	if e.Status != nil {
		switch {
		case len(o.Statuses) > 0 && slices.ContainsFunc(o.Statuses, func(s int) bool { return !e.Status.Match(s) }):
			fail("expected every status to be %s, got %v", e.Status, o.Statuses)
		case len(o.Statuses) == 0 && !e.Status.Match(o.Status):
			fail("expected status %s, got %s", e.Status, o.describe())
		}
	}
	if e.Error != nil && !slices.ContainsFunc(e.Error, func(code string) bool { return matchesError(o, code) }) {
		got := o.Error
		if got == "" {
			got = "no error"
		}
		fail("expected error %s, got %s", e.Error, got)
	}
	if e.Refreshes != nil && !e.Refreshes.Holds(o.Refreshes) {
		fail("expected %s refreshes, got %d", e.Refreshes, o.Refreshes)
	}
	if e.Rotations != nil && !e.Rotations.Holds(o.Rotations) {
		fail("expected %s rotations, got %d", e.Rotations, o.Rotations)
	}
	if e.TokenChanged != nil && o.TokenChanged != *e.TokenChanged {
		fail("expected the access token %s, but it %s", changed(*e.TokenChanged), changedPast(o.TokenChanged))
	}
	if e.RefreshChanged != nil && o.RefreshChanged != *e.RefreshChanged {
		fail("expected the refresh token %s, but it %s", changed(*e.RefreshChanged), changedPast(o.RefreshChanged))
	}
	if e.HasRefresh != nil && o.hasRefresh != *e.HasRefresh {
		fail("expected the client to hold a refresh token: %v, got %v", *e.HasRefresh, o.hasRefresh)
	}
	if e.LoginRequired != nil && o.LoginRequired != *e.LoginRequired {
		fail("expected login_required %v, got %v", *e.LoginRequired, o.LoginRequired)
	}
	if e.BodyContains != nil && !strings.Contains(o.body, *e.BodyContains) {
		fail("expected the body to contain %q, got %q", *e.BodyContains, snippet(maskTokens(o.body)))
	}
	for _, name := range slices.Sorted(maps.Keys(e.Headers)) {
		want := e.Headers[name]
		got, ok := o.header[http.CanonicalHeaderKey(name)]
		switch {
		case !ok:
			fail("expected the header %s, got no such header", name)
		case !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, want) }):
			fail("expected the header %s to contain %q, got %q", name, want, maskTokens(strings.Join(got, ", ")))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(e.Cookies)) {
		fails = append(fails, checkCookie(name, e.Cookies[name], o.cookies)...)
	}
	for k, want := range e.Claims {
		if got, ok := claims[k]; !ok || !sameValue(got, want) {
			fail("expected claim %s = %v, got %v", k, want, describeClaim(got, ok))
		}
	}
	if !e.Events.empty() || len(e.NoEvents) > 0 {
		if o.EventsUnknown != "" {
			skipped = append(skipped, "events: "+o.EventsUnknown)
			return fails, skipped
		}
	}
	if e.Events != nil {
		for _, kind := range e.Events.Kinds {
			if !slices.Contains(o.Events, kind) {
				fail("expected the server event %s, got %v", kind, o.Events)
			}
		}
		for _, kind := range slices.Sorted(maps.Keys(e.Events.Counts)) {
			want := e.Events.Counts[kind]
			if got := count(o.Events, kind); !want.Holds(got) {
				fail("expected the server event %s %s times, got %d", kind, want, got)
			}
		}
	}
	for _, kind := range e.NoEvents {
		if n := count(o.Events, kind); n > 0 {
			fail("expected no server event %s, got %d", kind, n)
		}
	}
	return fails, skipped
}

func count(list []string, v string) int {
	n := 0
	for _, s := range list {
		if s == v {
			n++
		}
	}
	return n
}

// checkCookie checks one cookie of the answer's Set-Cookie headers.
func checkCookie(name string, want CookieCheck, got []*http.Cookie) []string {
	var c *http.Cookie
	for _, k := range got {
		if k.Name == name {
			c = k
		}
	}
	present := want.Present == nil || *want.Present
	switch {
	case c == nil && present:
		return []string{fmt.Sprintf("expected the answer to set the cookie %s, got no such cookie", name)}
	case c != nil && !present:
		return []string{fmt.Sprintf("expected no cookie %s, got one", name)}
	case c == nil:
		return nil
	}
	var fails []string
	flag := func(what string, want *bool, got bool) {
		if want != nil && *want != got {
			fails = append(fails, fmt.Sprintf("expected cookie %s %s %v, got %v", name, what, *want, got))
		}
	}
	flag("httponly", want.HTTPOnly, c.HttpOnly)
	flag("secure", want.Secure, c.Secure)
	if want.SameSite != "" && !strings.EqualFold(want.SameSite, sameSiteName(c.SameSite)) {
		fails = append(fails, fmt.Sprintf("expected cookie %s samesite %s, got %s", name, want.SameSite, sameSiteName(c.SameSite)))
	}
	if want.Path != "" && want.Path != c.Path {
		fails = append(fails, fmt.Sprintf("expected cookie %s path %s, got %q", name, want.Path, c.Path))
	}
	return fails
}

func sameSiteName(s http.SameSite) string {
	switch s {
	case http.SameSiteStrictMode:
		return "Strict"
	case http.SameSiteLaxMode:
		return "Lax"
	case http.SameSiteNoneMode:
		return "None"
	}
	return "unset"
}

// matchesError accepts the code itself or, for OAuth's invalid_grant, the
// tokenlab code named in the description ("… (token_reused)"); noErrorCode
// (optional: true) accepts a refusal that names no code.
func matchesError(o Observed, want string) bool {
	if want == noErrorCode {
		return o.Error == "" && (o.Status >= 400 || o.LoginRequired)
	}
	return o.Error == want || strings.Contains(o.Message, "("+want+")")
}

func changed(b bool) string {
	if b {
		return "to change"
	}
	return "to stay the same"
}

func changedPast(b bool) string {
	if b {
		return "changed"
	}
	return "stayed the same"
}

// sameValue compares a claim with a YAML value: numbers as numbers,
// everything else by its printed form.
func sameValue(got, want any) bool {
	if n, ok := got.(json.Number); ok { // client.Decode keeps numbers as written
		if f, err := n.Float64(); err == nil {
			got = f
		}
	}
	if g, ok := got.(float64); ok {
		switch w := want.(type) {
		case int:
			return g == float64(w)
		case float64:
			return g == w
		}
	}
	if list, ok := got.([]any); ok { // aud may be a list
		for _, v := range list {
			if sameValue(v, want) {
				return true
			}
		}
	}
	return fmt.Sprint(got) == fmt.Sprint(want)
}

func describeClaim(v any, ok bool) string {
	if !ok {
		return "no such claim"
	}
	return fmt.Sprint(v)
}

// errorCode reads {error, message} or {error, error_description}.
func errorCode(body []byte) (code, message string) {
	var b struct {
		Error       any    `json:"error"`
		Message     string `json:"message"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &b) != nil {
		return "", ""
	}
	code, _ = b.Error.(string)
	message = b.Message
	if b.Description != "" {
		message = b.Description
	}
	return code, message
}

func snippet(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:80]) + "…"
	}
	return s
}

// jwtLike matches what looks like a JWT, so reports never carry one.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*`)

func maskTokens(s string) string { return jwtLike.ReplaceAllString(s, "<token>") }
