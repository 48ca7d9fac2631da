package scenarios

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// check compares what a step saw with what the scenario expects and says,
// for each difference, what was expected and what came back.
func check(e *Expect, o Observed, claims map[string]any) []string {
	var fails []string
	fail := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	if e.Status != nil {
		switch {
		case len(o.Statuses) > 0 && slices.ContainsFunc(o.Statuses, func(s int) bool { return s != *e.Status }):
			fail("expected every status to be %d, got %v", *e.Status, o.Statuses)
		case len(o.Statuses) == 0 && o.Status != *e.Status:
			fail("expected status %d, got %s", *e.Status, o.describe())
		}
	}
	if e.Error != nil && !matchesError(o, *e.Error) {
		got := o.Error
		if got == "" {
			got = "no error"
		}
		fail("expected error %s, got %s", *e.Error, got)
	}
	if e.Refreshes != nil && o.Refreshes != *e.Refreshes {
		fail("expected %d refreshes, got %d", *e.Refreshes, o.Refreshes)
	}
	if e.Rotations != nil && o.Rotations != *e.Rotations {
		fail("expected %d rotations, got %d", *e.Rotations, o.Rotations)
	}
	if e.TokenChanged != nil && o.TokenChanged != *e.TokenChanged {
		fail("expected the access token %s, but it %s", changed(*e.TokenChanged), changedPast(o.TokenChanged))
	}
	if e.RefreshChanged != nil && o.RefreshChanged != *e.RefreshChanged {
		fail("expected the refresh token %s, but it %s", changed(*e.RefreshChanged), changedPast(o.RefreshChanged))
	}
	if e.LoginRequired != nil && o.LoginRequired != *e.LoginRequired {
		fail("expected login_required %v, got %v", *e.LoginRequired, o.LoginRequired)
	}
	if e.BodyContains != nil && !strings.Contains(o.body, *e.BodyContains) {
		fail("expected the body to contain %q, got %q", *e.BodyContains, snippet(maskTokens(o.body)))
	}
	for k, want := range e.Claims {
		if got, ok := claims[k]; !ok || !sameValue(got, want) {
			fail("expected claim %s = %v, got %v", k, want, describeClaim(got, ok))
		}
	}
	for _, kind := range e.Events {
		if !slices.Contains(o.Events, kind) {
			fail("expected the server event %s, got %v", kind, o.Events)
		}
	}
	return fails
}

// matchesError accepts the code itself or, for OAuth's invalid_grant, the
// tokenlab code named in the description ("… (token_reused)").
func matchesError(o Observed, want string) bool {
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
