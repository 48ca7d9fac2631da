package scenarios

// Version 2 of the format: expectations that travel between APIs,
// captures and variables, several clients, faults and server events.

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// StatusSet is what `status:` accepts: a number (200), a list ([401, 403])
// or a class (4xx).
type StatusSet struct {
	Codes   []int
	Classes []int // 4 for 4xx
}

func (s *StatusSet) UnmarshalYAML(n *yaml.Node) error {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
		if len(items) == 0 {
			return fmt.Errorf("line %d: status needs at least one status (a number such as 200, a list such as [401, 403], or a class such as 4xx)", n.Line)
		}
	}
	for _, it := range items {
		if it.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: status is a number such as 200, a list such as [401, 403], or a class such as 4xx", it.Line)
		}
		v := strings.ToLower(it.Value)
		if len(v) == 3 && strings.HasSuffix(v, "xx") && v[0] >= '1' && v[0] <= '5' {
			s.Classes = append(s.Classes, int(v[0]-'0'))
			continue
		}
		code, err := strconv.Atoi(v)
		quoted := it.Tag == "!!str" && it.Style != 0
		switch {
		case err == nil && quoted:
			return fmt.Errorf("line %d: status %q: write the number without quotes (%d)", it.Line, it.Value, code)
		case err == nil && (code < 100 || code > 599):
			return fmt.Errorf("line %d: status %d is not an HTTP status: write a number from 100 to 599 (200), a list ([401, 403]) or a class (4xx)", it.Line, code)
		case err != nil:
			return fmt.Errorf("line %d: status %q: write a number from 100 to 599 (200), a list ([401, 403]) or a class (4xx)", it.Line, it.Value)
		}
		s.Codes = append(s.Codes, code)
	}
	return nil
}

// Match reports whether code is in the set.
func (s StatusSet) Match(code int) bool {
	return slices.Contains(s.Codes, code) || slices.Contains(s.Classes, code/100)
}

func (s StatusSet) String() string {
	var parts []string
	for _, c := range s.Codes {
		parts = append(parts, strconv.Itoa(c))
	}
	for _, c := range s.Classes {
		parts = append(parts, strconv.Itoa(c)+"xx")
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "one of " + strings.Join(parts, ", ")
}

// StringList is a string or a list of strings (`error: token_reused` or
// `error: [token_reused, token_revoked]`).
type StringList []string

func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = StringList{n.Value}
	case yaml.SequenceNode:
		var v []string
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: a list of error codes such as [invalid_token, token_expired]", n.Line)
		}
		if len(v) == 0 {
			return fmt.Errorf("line %d: the list is empty and would check nothing; give at least one error code", n.Line)
		}
		*l = v
	case yaml.MappingNode:
		return l.unmarshalErrorMapping(n)
	default:
		return fmt.Errorf("line %d: an error code such as invalid_token, or a list of them", n.Line)
	}
	return nil
}

func (l StringList) String() string {
	names := make([]string, len(l))
	for i, c := range l {
		names[i] = c
		if c == noErrorCode {
			names[i] = "no code"
		}
	}
	if len(names) == 1 {
		return names[0]
	}
	return "one of " + strings.Join(names, ", ")
}

// EventCheck is `events:`: a list (each happened at least once) or a map
// of counts ({reuse_detected: 1}, {refresh: {min: 1}}).
type EventCheck struct {
	Kinds  []string         // at least once, in the order written
	Counts map[string]Range // a number or a range
}

func (e *EventCheck) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.SequenceNode:
		if err := n.Decode(&e.Kinds); err != nil {
			return fmt.Errorf("line %d: events is a list of event kinds such as [reuse_detected] or a map of counts such as {reuse_detected: 1}", n.Line)
		}
		if len(e.Kinds) == 0 {
			return fmt.Errorf("line %d: events: [] checks nothing; name the events, or use no_events: to say what must not happen", n.Line)
		}
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			return fmt.Errorf("line %d: events: {} checks nothing; give counts such as {reuse_detected: 1}", n.Line)
		}
		e.Counts = map[string]Range{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, a := n.Content[i], n.Content[i+1]
			var c Range
			if a.Kind == yaml.ScalarNode && strings.HasPrefix(a.Value, "-") {
				return fmt.Errorf("line %d: events: %s cannot happen %s times", a.Line, k.Value, a.Value)
			}
			if err := c.UnmarshalYAML(a); err != nil {
				return fmt.Errorf("line %d: an events map gives each kind a whole number or a range, such as {reuse_detected: 1} or {refresh: {min: 1}}", a.Line)
			}
			e.Counts[k.Value] = c
		}
	default:
		return fmt.Errorf("line %d: events is a list such as [reuse_detected] or a map such as {reuse_detected: 1}", n.Line)
	}
	return nil
}

func (e *EventCheck) empty() bool { return e == nil || len(e.Kinds) == 0 && len(e.Counts) == 0 }

// CookieCheck is what `cookies:` checks of one cookie set by the answer.
type CookieCheck struct {
	Present *bool `yaml:"present"` // true by default
	// Cleared: the answer deletes the cookie (Max-Age=0 or an Expires in
	// the past), or with false, sets it and does not delete it.
	Cleared  *bool  `yaml:"cleared"`
	HTTPOnly *bool  `yaml:"httponly"`
	Secure   *bool  `yaml:"secure"`
	SameSite string `yaml:"samesite"` // Strict, Lax or None
	Path     string `yaml:"path"`
}

// RefreshArgs: `refresh:` alone refreshes; lose_response sends the refresh
// and throws its answer away, as a dropped connection would.
type RefreshArgs struct {
	LoseResponse bool `yaml:"lose_response"`
}

// FaultArgs make tokenlab's server answer the next calls to a route badly.
type FaultArgs struct {
	Route  string   `yaml:"route"`  // token, login, protected, logout (mockserver.FaultToken, ...)
	Status int      `yaml:"status"` // answer this status instead (0: answer normally, after the delay)
	Times  int      `yaml:"times"`  // how many calls; 1 by default
	Delay  Duration `yaml:"delay"`  // wait this long before answering
	// Client: only that client's requests (app: the app's); LoseResponse:
	// the server acts and drops its answer (app scenarios).
	Client       string `yaml:"client"`
	LoseResponse bool   `yaml:"lose_response"`
}

// maxSteps bounds a scenario once its repeats are unrolled.
const maxSteps = 10000

// Variables: ${name} is a captured value or a built-in.
var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_-]*)\}`)

// Built-in variables.
const (
	VarRunID    = "run_id"   // unique per run
	VarScenario = "scenario" // the scenario's name
)

// varsIn returns the names a text refers to.
func varsIn(s string) []string {
	var names []string
	for _, m := range varRef.FindAllStringSubmatch(s, -1) {
		names = append(names, m[1])
	}
	return names
}

// expand replaces ${name} by its value; unknown names stay as written
// (the parser has already refused them).
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := vars[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// captureSources are where a capture may read: body.FIELD, header.NAME,
// cookie.NAME.
var captureSources = []string{"body", "header", "cookie", "token"}

func checkCapture(expr string) error {
	src, name, ok := strings.Cut(expr, ".")
	if !ok || name == "" || !slices.Contains(captureSources, src) {
		return fmt.Errorf("capture %q: write body.FIELD, header.NAME, cookie.NAME or token.access, token.refresh, token.id", expr)
	}
	if src == "token" && !slices.Contains(tokenCaptures, name) {
		return fmt.Errorf("capture %q: a token capture is token.access, token.refresh or token.id", expr)
	}
	return nil
}
