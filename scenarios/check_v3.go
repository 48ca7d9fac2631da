package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tokenlab/tokenlab/mockserver"
)

// Load-time checks for mistakes that would otherwise pass or fail for
// ever: an event kind the server never writes, a step that needs a
// session before any login, and variables in expected values (which are
// expanded, like everywhere else a value is sent or compared).

// checkEventKinds refuses event kinds the server never writes.
func (p parser) checkEventKinds(st Step) error {
	known := mockserver.EventKinds()
	var named []string
	if ev := st.Expect.Events; ev != nil {
		named = append(named, ev.Kinds...)
		named = append(named, slices.Sorted(maps.Keys(ev.Counts))...)
	}
	named = append(named, st.Expect.NoEvents...)
	for _, kind := range named {
		if !slices.Contains(known, kind) {
			return p.errf(st.Line, "unknown server event %q: the server writes %s", kind, strings.Join(known, ", "))
		}
	}
	return nil
}

// needsSession reports whether a step sends the client's tokens, which
// it has only after a login.
func needsSession(st Step) bool {
	switch st.Kind {
	case KindRefresh, KindLogout:
		return true
	case KindConcurrent:
		return st.Concurrent.Request.Token == "" && st.Concurrent.Request.Auth != "none"
	case KindRequest:
		return st.Request.Token == "" && st.Request.Auth != "none"
	case KindTamper:
		return st.Tamper.Token == "access"
	}
	return false
}

// usesSession reports whether a step works on the client's session (logs
// in, refreshes, logs out, or sends its tokens), so that login_required
// says whether the client still holds one afterwards.
func usesSession(st Step) bool {
	return st.Kind == KindLogin || (needsSession(st) && st.Kind != KindTamper)
}

// checkSession refuses a step that needs a session before its client
// has logged in, and notes logins.
func (p parser) checkSession(st Step, loggedIn map[string]bool) error {
	if st.Kind == KindLogin {
		loggedIn[st.Client] = true
		return nil
	}
	if needsSession(st) && !loggedIn[st.Client] {
		who := ""
		if st.Client != DefaultClient && st.Client != "" {
			who = " of client " + st.Client
		}
		return p.errf(st.Line, "%s needs a session, and no login%s comes before it: add - login: {}%s", st.Kind, who, clientSuffix(st.Client))
	}
	return nil
}

func clientSuffix(c string) string {
	if c == DefaultClient || c == "" {
		return ""
	}
	return fmt.Sprintf(" with client: %s", c)
}

// texts are the expected values that may hold ${name}.
func (e *Expect) texts() []string {
	var out []string
	out = append(out, e.Error...)
	if e.BodyContains != nil {
		out = append(out, *e.BodyContains)
	}
	for _, v := range e.Headers {
		out = append(out, v)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, v := range e.Claims {
		walk(v)
	}
	return out
}

// expanded returns e with ${name} replaced in every expected value.
func (e *Expect) expanded(vars map[string]string) *Expect {
	if e == nil || !slices.ContainsFunc(e.texts(), func(s string) bool { return strings.Contains(s, "${") }) {
		return e
	}
	c := *e
	if e.Error != nil {
		c.Error = make(StringList, len(e.Error))
		for i, code := range e.Error {
			c.Error[i] = expand(code, vars)
		}
	}
	if e.BodyContains != nil {
		b := expand(*e.BodyContains, vars)
		c.BodyContains = &b
	}
	if e.Headers != nil {
		c.Headers = make(map[string]string, len(e.Headers))
		for k, v := range e.Headers {
			c.Headers[k] = expand(v, vars)
		}
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case string:
			return expand(v, vars)
		case []any:
			out := make([]any, len(v))
			for i, x := range v {
				out[i] = walk(x)
			}
			return out
		}
		return v
	}
	if e.Claims != nil {
		c.Claims = make(map[string]any, len(e.Claims))
		for k, v := range e.Claims {
			c.Claims[k] = walk(v)
		}
	}
	return &c
}

// checkHeaders refuses request headers that no HTTP client can send (a
// control character in a name or value): they would fail at run time as
// if the server could not be reached.
func (p parser) checkHeaders(st Step) error {
	var headers map[string]string
	switch st.Kind {
	case KindRequest:
		headers = st.Request.Headers
	case KindConcurrent:
		headers = st.Concurrent.Request.Headers
	}
	for _, name := range slices.Sorted(maps.Keys(headers)) {
		if i := strings.IndexFunc(name+headers[name], isControl); i >= 0 || name == "" {
			return p.errf(st.Line, "header %q: a header name or value cannot hold control characters such as a line break or NUL (HTTP cannot send them)", name)
		}
		if strings.ContainsAny(name, " :") {
			return p.errf(st.Line, "header %q: a header name has no spaces or colons", name)
		}
	}
	return nil
}

func isControl(r rune) bool { return r != '\t' && (r < 0x20 || r == 0x7f) }
