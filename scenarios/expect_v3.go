package scenarios

// Checks of version 3: per-status counts of a concurrent step, equal and
// not_equal between variables, and cookies the answer clears.

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// checkV3 compares what version 3 checks. vars are the scenario's
// variables after the step's captures; now is the scenario's clock, which
// a cookie's Expires is compared with.
func checkV3(e *Expect, o Observed, vars map[string]string, now time.Time) []string {
	if e == nil {
		return nil
	}
	var fails []string
	fail := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	for _, key := range slices.Sorted(maps.Keys(e.Statuses)) {
		want := e.Statuses[key]
		var set StatusSet
		if code, err := strconv.Atoi(key); err == nil {
			set.Codes = []int{code}
		} else {
			set.Classes = []int{int(key[0] - '0')}
		}
		n := 0
		for _, s := range o.Statuses {
			if set.Match(s) {
				n++
			}
		}
		if !want.Holds(n) {
			fail("expected %s answers with status %s, got %d (statuses %v)", want, key, n, o.Statuses)
		}
	}
	if len(e.Equal) > 0 {
		first := vars[e.Equal[0]]
		for _, name := range e.Equal[1:] {
			if vars[name] != first {
				fail("expected ${%s} to equal ${%s}, got two different values (%s, %s)", name, e.Equal[0], shown(first), shown(vars[name]))
			}
		}
	}
	for i, a := range e.NotEqual {
		for _, b := range e.NotEqual[i+1:] {
			if vars[a] == vars[b] {
				fail("expected ${%s} and ${%s} to differ, got the same value (%s)", a, b, shown(vars[a]))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(e.Cookies)) {
		if want := e.Cookies[name].Cleared; want != nil {
			fails = append(fails, checkCleared(name, *want, o.cookies, now)...)
		}
	}
	return fails
}

// shown prints a compared value without giving a token away.
func shown(v string) string {
	if v == "" {
		return "empty"
	}
	return strconv.Quote(snippet(maskTokens(v)))
}

// checkCleared checks that the answer deletes a cookie (cleared: true) or
// sets it without deleting it (cleared: false). Absence is checkCookie's
// to report.
func checkCleared(name string, want bool, got []*http.Cookie, now time.Time) []string {
	var c *http.Cookie
	for _, k := range got {
		if k.Name == name {
			c = k
		}
	}
	if c == nil {
		return nil
	}
	// net/http reads Max-Age=0 (and any negative Max-Age) as MaxAge -1.
	cleared := c.MaxAge < 0 || !c.Expires.IsZero() && c.Expires.Before(now)
	if cleared == want {
		return nil
	}
	if want {
		return []string{fmt.Sprintf("expected the answer to clear the cookie %s (Max-Age=0 or a past Expires), got %s", name, cookieLife(c))}
	}
	return []string{fmt.Sprintf("expected the answer to keep the cookie %s, got it cleared (%s)", name, cookieLife(c))}
}

func cookieLife(c *http.Cookie) string {
	switch {
	case c.MaxAge < 0:
		return "Max-Age=0"
	case c.MaxAge > 0:
		return "Max-Age=" + strconv.Itoa(c.MaxAge)
	case !c.Expires.IsZero():
		return "Expires=" + c.Expires.UTC().Format(http.TimeFormat)
	}
	return "a session cookie (no Max-Age or Expires)"
}

// UnmarshalYAML refuses keys a cookie check does not have: decoding a
// nested struct would ignore them, and a misspelt check (clered: true)
// would pass for ever.
func (c *CookieCheck) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a cookie check is a mapping such as {httponly: true} or {cleared: true}", n.Line)
	}
	known := yamlKeys(c)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !slices.Contains(known, k.Value) {
			return fmt.Errorf("line %d: unknown key %q in a cookie check (want %s)", k.Line, k.Value, strings.Join(known, ", "))
		}
	}
	type plain CookieCheck
	return n.Decode((*plain)(c))
}
