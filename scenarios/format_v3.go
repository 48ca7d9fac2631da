package scenarios

// Version 3 of the format: what QA needed to write scenarios that travel
// between servers — dialect-neutral token values, ranged and optional
// expectations, expected failures per target, a client clock of its own,
// tokens re-signed with a chosen key, cleared cookies and step timeouts.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/mockserver"
	"go.yaml.in/yaml/v3"
)

// Built-in variables holding the step's client's current tokens, whatever
// the dialect calls them. ${id_token} is the id_token of the client's last
// token answer that carried one (OpenID Connect; the session keeps none).
const (
	VarAccessToken  = "access_token"
	VarRefreshToken = "refresh_token"
	VarIDToken      = "id_token"
)

var tokenVars = []string{VarAccessToken, VarRefreshToken, VarIDToken}

// Capture sources of version 3: token.access, token.refresh and token.id
// read the tokens the step's answer carried, from the body field or the
// cookie the client's profile names (access_token, accessToken, a
// RefreshToken cookie…).
var tokenCaptures = []string{"access", "refresh", "id"}

// Top-level keys of version 3.
const (
	keyXFail    = "xfail"
	keySkew     = "skew"
	keySettings = "settings"
)

// SettingsWherePossible: apply `server:` settings where the server takes
// them, and where it cannot (no admin API) run anyway, assuming the server
// was configured so; the report says which was assumed.
const SettingsWherePossible = "where_possible"

// XFail is one target the scenario is expected to fail against. Every key
// given must match; reason is required.
type XFail struct {
	Profile string `yaml:"profile"` // the run's profile name: tokenlab, seed-json, seed-cookie, oauth2 or a profile file's name
	Dialect string `yaml:"dialect"` // the profile's dialect: json or oauth2
	Server  string `yaml:"server"`  // embedded (tokenlab's own server per scenario) or external (--server)
	Reason  string `yaml:"reason"`
	Line    int    `yaml:"-"`
}

// Where a scenario runs, for xfail's server key.
const (
	TargetEmbedded = "embedded"
	TargetExternal = "external"
)

// Skew is `skew:`: how far the client's clock is from the server's.
type Skew struct {
	Client time.Duration
}

// Range is a number or a range: `2`, `{min: 1}`, `{max: 2}`,
// `{min: 1, max: 3}`.
type Range struct {
	Min int
	Max int // -1: no upper bound
}

func exactRange(n int) Range { return Range{Min: n, Max: n} }

func (c *Range) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		v, err := strconv.Atoi(n.Value)
		if err != nil || v < 0 {
			return fmt.Errorf("line %d: a count is a whole number from 0, or a range such as {min: 1} or {max: 2}, not %q", n.Line, n.Value)
		}
		*c = exactRange(v)
		return nil
	case yaml.MappingNode:
		*c = Range{Min: 0, Max: -1}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, a := n.Content[i], n.Content[i+1]
			v, err := strconv.Atoi(a.Value)
			if err != nil || v < 0 || a.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: %s is a whole number from 0, not %q", a.Line, k.Value, a.Value)
			}
			switch k.Value {
			case "min":
				c.Min = v
			case "max":
				c.Max = v
			default:
				return fmt.Errorf("line %d: unknown key %q in a count (want min, max)", k.Line, k.Value)
			}
		}
		if len(n.Content) == 0 {
			return fmt.Errorf("line %d: {} checks nothing; give min, max or both", n.Line)
		}
		if c.Max >= 0 && c.Max < c.Min {
			return fmt.Errorf("line %d: max %d is less than min %d: no count can match", n.Line, c.Max, c.Min)
		}
		return nil
	}
	return fmt.Errorf("line %d: a count is a whole number such as 1, or a range such as {min: 1} or {max: 2}", n.Line)
}

// Holds reports whether n is in the range.
func (c Range) Holds(n int) bool { return n >= c.Min && (c.Max < 0 || n <= c.Max) }

func (c Range) String() string {
	switch {
	case c.Min == c.Max:
		return strconv.Itoa(c.Min)
	case c.Max < 0:
		return "at least " + strconv.Itoa(c.Min)
	case c.Min == 0:
		return "at most " + strconv.Itoa(c.Max)
	}
	return fmt.Sprintf("from %d to %d", c.Min, c.Max)
}

// StatusCounts is `statuses:` on a concurrent step: how many of its
// answers had each status (or class), each a Range. Statuses it does not
// name are not counted; add `status:` to say which statuses may occur.
type StatusCounts map[string]Range

func (s *StatusCounts) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		return fmt.Errorf("line %d: statuses is a map of status to count, such as {200: 8, 401: {max: 2}}", n.Line)
	}
	*s = StatusCounts{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, a := n.Content[i], n.Content[i+1]
		var set StatusSet
		if err := set.UnmarshalYAML(k); err != nil {
			return err
		}
		var c Range
		if err := c.UnmarshalYAML(a); err != nil {
			return err
		}
		(*s)[strings.ToLower(k.Value)] = c
	}
	return nil
}

// noErrorCode in an error list stands for a refusal that names no code:
// what `optional: true` adds to `error: {code: …}`.
const noErrorCode = ""

// unmarshalErrorMapping reads `error: {code: invalid_grant, optional: true}`
// (code may be a list) into l.
func (l *StringList) unmarshalErrorMapping(n *yaml.Node) error {
	var codes StringList
	optional := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, a := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "code":
			if a.Kind == yaml.MappingNode {
				return fmt.Errorf("line %d: code is an error code such as invalid_grant, or a list of them", a.Line)
			}
			if err := codes.UnmarshalYAML(a); err != nil {
				return err
			}
		case "optional":
			if err := a.Decode(&optional); err != nil {
				return fmt.Errorf("line %d: optional is true or false", a.Line)
			}
		default:
			return fmt.Errorf("line %d: unknown key %q in error (want code, optional)", k.Line, k.Value)
		}
	}
	if len(codes) == 0 || slices.Contains(codes, "") {
		return fmt.Errorf("line %d: error: {…} needs code: an error code such as invalid_grant", n.Line)
	}
	if optional {
		codes = append(codes, noErrorCode)
	}
	*l = codes
	return nil
}

// TimeShift is a signed duration relative to the scenario's clock, for
// tamper's nbf, iat and exp: `+5m`, `-1h`, `0s`.
type TimeShift time.Duration

func (t *TimeShift) UnmarshalYAML(n *yaml.Node) error {
	d, err := parseSigned(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a time relative to the clock, such as +5m or -1h, not %q", n.Line, n.Value)
	}
	*t = TimeShift(d)
	return nil
}

// parseSigned parses "+2m", "-90s", "2m".
func parseSigned(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	d, err := mockserver.ParseDuration(strings.TrimPrefix(strings.TrimPrefix(s, "+"), "-"))
	if err != nil {
		return 0, err
	}
	if neg {
		d = -d
	}
	return d, nil
}

// ResignArgs sign a tampered token again, with a key the scenario chooses:
// HS256 with secret_file (its first line) or secret, RS256/ES256/EdDSA with
// key_file (a PEM private key). Without a key, a fresh random one: a real
// signature by a key the server does not know.
type ResignArgs struct {
	Alg        string `yaml:"alg"`
	SecretFile string `yaml:"secret_file"`
	Secret     string `yaml:"secret"`
	KeyFile    string `yaml:"key_file"`
	Kid        string `yaml:"kid"` // the header's kid; the token's own when empty
	key        any    // loaded when the file is read: []byte or crypto.Signer
}

// topLevelV3 reads the top-level keys of version 3.
func (p parser) topLevelV3(sc *Scenario, k, v *yaml.Node) error {
	switch k.Value {
	case keyXFail:
		return p.xfail(sc, v)
	case keySkew:
		if v.Kind != yaml.MappingNode || len(v.Content) != 2 || v.Content[0].Value != "client" {
			return p.errf(v.Line, "skew is {client: +2m}: how far the client's clock is ahead (+) or behind (-) the server's")
		}
		d, err := parseSigned(v.Content[1].Value)
		if err != nil {
			return p.errf(v.Content[1].Line, "skew client needs a signed duration such as +2m or -30s, not %q", v.Content[1].Value)
		}
		if d > 366*24*time.Hour || d < -366*24*time.Hour {
			return p.errf(v.Content[1].Line, "skew client is at most a year either way")
		}
		sc.Skew = &Skew{Client: d}
	case keySettings:
		if v.Value != SettingsWherePossible || v.Kind != yaml.ScalarNode {
			return p.errf(v.Line, "settings: the only value is %s (apply server: where the server takes it, assume it elsewhere), not %q", SettingsWherePossible, v.Value)
		}
		sc.Settings = v.Value
	}
	return nil
}

func (p parser) xfail(sc *Scenario, v *yaml.Node) error {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	if len(items) == 0 {
		return p.errf(v.Line, "xfail: [] names no target; write {profile: seed-json, reason: …}")
	}
	for _, it := range items {
		var x XFail
		if err := p.decodeKnown(it, &x); err != nil {
			return err
		}
		x.Line = it.Line
		switch {
		case x.Profile == "" && x.Dialect == "" && x.Server == "":
			return p.errf(it.Line, "xfail needs a target: profile, dialect or server (else it would hold everywhere; delete the scenario instead)")
		case strings.TrimSpace(x.Reason) == "":
			return p.errf(it.Line, "xfail needs a reason: why it fails there, for the report")
		case x.Dialect != "" && x.Dialect != "json" && x.Dialect != "oauth2":
			return p.errf(it.Line, "xfail dialect is json or oauth2, not %q", x.Dialect)
		case x.Server != "" && x.Server != TargetEmbedded && x.Server != TargetExternal:
			return p.errf(it.Line, "xfail server is %s or %s, not %q", TargetEmbedded, TargetExternal, x.Server)
		}
		sc.XFail = append(sc.XFail, x)
	}
	return nil
}

// Step keys besides the kind, say, expect, client and capture.
const keyTimeout = "timeout"

// stepKeyV3 reads a step key of version 3.
func (p parser) stepKeyV3(st *Step, k, v *yaml.Node) error {
	if k.Value == keyTimeout {
		d, err := mockserver.ParseDuration(v.Value)
		if err != nil || v.Kind != yaml.ScalarNode || d <= 0 || d > 10*time.Minute {
			return p.errf(v.Line, "timeout is a duration from 1ms to 10m, such as 2s, not %q", v.Value)
		}
		st.Timeout = d
	}
	return nil
}

// stepTexts are the texts of a step in which ${var} is expanded.
func stepTexts(st Step) []string {
	var texts []string
	req := func(r RequestArgs) {
		texts = append(texts, r.Path, r.Body)
		for _, v := range r.Headers {
			texts = append(texts, v)
		}
	}
	switch st.Kind {
	case KindRequest:
		req(st.Request)
	case KindConcurrent:
		req(st.Concurrent.Request)
	case KindLogin:
		texts = append(texts, st.Login.Username, st.Login.ClientSecret)
		if st.Login.Password != nil {
			texts = append(texts, *st.Login.Password)
		}
	case KindReplay:
		texts = append(texts, st.Replay)
	}
	return texts
}

// replayVar is the variable a `replay: ${name}` sends, or "".
func replayVar(s string) string {
	if m := varRef.FindStringSubmatch(s); m != nil && m[0] == s {
		return m[1]
	}
	return ""
}

// checkScenarioV3 validates the top-level keys of version 3 together.
func (p parser) checkScenarioV3(sc *Scenario, root *yaml.Node) error {
	if sc.Settings == SettingsWherePossible && sc.Server.empty() {
		line := root.Line
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == keySettings {
				line = root.Content[i].Line
			}
		}
		return p.errf(line, "settings: where_possible applies server: settings, and this scenario has none")
	}
	return nil
}

// checkV3 validates across steps what version 3 adds; vars are the
// variables known before the step (built-ins included).
func (p parser) checkV3(sc *Scenario, i int, st Step, target Step, vars map[string]bool) error {
	if e := st.Expect; e != nil {
		if len(e.Equal) == 1 || len(e.NotEqual) == 1 {
			return p.errf(st.Line, "equal and not_equal compare two or more variables, such as [successor, again]")
		}
		for _, name := range append(slices.Clone(e.Equal), e.NotEqual...) {
			known := vars[name] || st.Capture[name] != ""
			if !known {
				return p.errf(st.Line, "equal/not_equal: unknown variable %q: capture it on this or an earlier step", name)
			}
		}
		if e.Statuses != nil && target.Kind != KindConcurrent {
			return p.errf(st.Line, "statuses counts the answers of a concurrent step; %s gets one answer: use status", target.Kind)
		}
		for _, c := range e.Cookies {
			if c.Cleared != nil && c.Present != nil && !*c.Present {
				return p.errf(st.Line, "cookies: cleared checks a Set-Cookie that is there; it cannot go with present: false")
			}
		}
	}
	if st.Kind == KindSave && st.Save.From != "" && !vars[st.Save.From] {
		return p.errf(st.Line, "save from: unknown variable %q: capture it on an earlier step (capture: {%s: token.refresh})", st.Save.From, st.Save.From)
	}
	if st.Timeout > 0 && !slices.Contains(answered, st.Kind) {
		return p.errf(st.Line, "timeout bounds a step that waits for an answer (login, request, refresh, replay, tamper, logout, concurrent), not %s", st.Kind)
	}
	if st.Kind == KindTamper && st.Tamper.Resign != nil && slices.Contains([]string{"alg-none", "strip-signature", "signature"}, st.Tamper.How) {
		return p.errf(st.Line, "resign signs the token again, so it cannot go with how: %s; leave how out or write how: payload", st.Tamper.How)
	}
	return nil
}

// xfailFor returns the xfail entry that matches this run, if any.
func (sc *Scenario) xfailFor(r *Runner) (XFail, bool) {
	target := TargetExternal
	if r.Server == "" {
		target = TargetEmbedded
	}
	for _, x := range sc.XFail {
		if (x.Profile == "" || x.Profile == r.Profile.Name) && (x.Dialect == "" || x.Dialect == r.Profile.Dialect) &&
			(x.Server == "" || x.Server == target) {
			return x, true
		}
	}
	return XFail{}, false
}
