// Package scenarios runs scripted token-lifecycle scenarios: YAML files of
// steps (login, request, advance the clock, replay a token…) with
// expectations, against an embedded mock server or any compatible API, and
// reports the results as text, JSON, JUnit XML or TAP.
package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/mockserver"
	"go.yaml.in/yaml/v3"
)

// Scenario is one scripted story.
type Scenario struct {
	Name        string
	Description string // the teaching text
	File        string // where it was read from
	Server      ServerSettings
	Requires    []string // "clock", "admin"; derived from the steps too
	Steps       []Step
}

// ServerSettings are the server policy a scenario needs; nil fields keep
// the server's own.
type ServerSettings struct {
	AccessTTL      *Duration `yaml:"access_ttl"`
	RefreshTTL     *Duration `yaml:"refresh_ttl"`
	SessionMax     *Duration `yaml:"session_max"`
	ReuseGrace     *Duration `yaml:"reuse_grace"`
	Rotation       *bool     `yaml:"rotation"`
	ReuseDetection *bool     `yaml:"reuse_detection"`
	AccessDenylist *bool     `yaml:"access_denylist"`
}

// empty reports whether the scenario leaves the server as it is.
func (s ServerSettings) empty() bool { return s == ServerSettings{} }

// Duration is a duration written as "16m", "7d" or "90s".
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := mockserver.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err) // yaml adds no line to an unmarshaler's error
	}
	*d = Duration(v)
	return nil
}

// Step kinds.
const (
	KindLogin      = "login"
	KindRequest    = "request"
	KindRefresh    = "refresh"
	KindAdvance    = "advance"
	KindWait       = "wait"
	KindSave       = "save"
	KindReplay     = "replay"
	KindTamper     = "tamper"
	KindConcurrent = "concurrent"
	KindLogout     = "logout"
	KindExpect     = "expect"
)

var kinds = []string{KindLogin, KindRequest, KindRefresh, KindAdvance, KindWait, KindSave, KindReplay,
	KindTamper, KindConcurrent, KindLogout, KindExpect}

// Requirements a scenario may have.
const (
	RequiresClock = "clock" // moves the server's clock: needs /admin/clock
	RequiresAdmin = "admin" // reads server events or changes settings: needs the admin token
)

// Step is one step. Kind says which of the argument fields is set.
type Step struct {
	Kind   string
	Line   int
	Say    string  // narration
	Expect *Expect // what must hold after the step

	Login      LoginArgs
	Request    RequestArgs
	Duration   time.Duration // advance, wait
	Save       SaveArgs
	Replay     string // a saved name
	Tamper     TamperArgs
	Concurrent ConcurrentArgs
}

// LoginArgs: the user to log in as (alice / password123 by default).
type LoginArgs struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// RequestArgs: an API call. Without Token it goes through the client,
// which refreshes as needed; with Token (a saved name) that exact access
// token is sent and nothing is refreshed.
type RequestArgs struct {
	Method string `yaml:"method"`
	Path   string `yaml:"path"`
	Body   string `yaml:"body"`
	Token  string `yaml:"token"`
}

// SaveArgs keep the current access or refresh token under a name.
type SaveArgs struct {
	Token string `yaml:"token"` // access or refresh
	As    string `yaml:"as"`
}

// TamperArgs alter a token and send it to Path as an access token.
type TamperArgs struct {
	Token  string         `yaml:"token"` // access (the current one) or a saved name
	How    string         `yaml:"how"`   // payload, alg-none, strip-signature, signature
	Claims map[string]any `yaml:"claims"`
	Path   string         `yaml:"path"`
	As     string         `yaml:"as"` // also save the tampered token under this name
}

// Ways to tamper with a token.
var tamperings = []string{"payload", "alg-none", "strip-signature", "signature"}

// ConcurrentArgs: N requests at once through the client.
type ConcurrentArgs struct {
	N       int         `yaml:"n"`
	Request RequestArgs `yaml:"request"`
}

// Expect is what must hold after a step. Unset fields are not checked.
type Expect struct {
	Status         *int           `yaml:"status"` // for concurrent: every request's status
	Error          *string        `yaml:"error"`  // the error code in the answer
	Refreshes      *int           `yaml:"refreshes"`
	Rotations      *int           `yaml:"rotations"`
	TokenChanged   *bool          `yaml:"token_changed"`   // the access token changed during the step
	RefreshChanged *bool          `yaml:"refresh_changed"` // the refresh token changed during the step
	LoginRequired  *bool          `yaml:"login_required"`  // the client's session ended
	BodyContains   *string        `yaml:"body_contains"`
	Claims         map[string]any `yaml:"claims"` // claims of the current access token
	Events         []string       `yaml:"events"` // server event kinds that happened during the step
}

// LoadError is a problem in a scenario file, with where it is.
type LoadError struct {
	File string
	Line int
	Msg  string
}

func (e *LoadError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Parse reads a scenario document. file names it in errors. Everything is
// checked here, before anything runs: keys, step kinds, durations, saved
// names.
func Parse(file string, data []byte) (*Scenario, error) {
	p := parser{file: file}
	sc, err := p.parse(data)
	if err != nil {
		return nil, err
	}
	return sc, nil
}

type parser struct{ file string }

func (p parser) errf(line int, format string, args ...any) error {
	return &LoadError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// yamlErr turns a yaml error into a LoadError with its line.
func (p parser) yamlErr(err error, fallback int) error {
	if le := (*LoadError)(nil); errors.As(err, &le) {
		return err
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	msg = strings.TrimSpace(msg)
	line := fallback
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
		if slices.Contains(yamlParserProblems, msg) {
			line++ // yaml counts a parser error's lines from 0, a scanner error's from 1
		}
	}
	return p.errf(line, "%s", msg)
}

// yamlParserProblems are the messages of yaml's parser errors, whose line
// is the start of the block or flow collection they break.
var yamlParserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'", "did not find expected '-' indicator",
	"did not find expected <document start>", "did not find expected <stream-start>", "did not find expected key",
	"did not find expected node content", "found duplicate %TAG directive", "found duplicate %YAML directive",
	"found incompatible YAML document", "found undefined tag handle",
}

func (p parser) parse(data []byte) (*Scenario, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, p.errf(0, "the file is empty")
		}
		return nil, p.yamlErr(err, 1)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, p.errf(root.Line, "a scenario is a mapping with name, description and steps")
	}
	sc := &Scenario{File: p.file}
	var stepsNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		var err error
		switch k.Value {
		case "name":
			err = v.Decode(&sc.Name)
		case "description":
			err = v.Decode(&sc.Description)
		case "server":
			err = p.decodeKnown(v, &sc.Server)
		case "requires":
			err = v.Decode(&sc.Requires)
			for _, r := range sc.Requires {
				if r != RequiresClock && r != RequiresAdmin {
					return nil, p.errf(v.Line, "requires: unknown requirement %q (want clock or admin)", r)
				}
			}
		case "steps":
			stepsNode = v
		default:
			return nil, p.errf(k.Line, "unknown key %q (want name, description, server, requires, steps)", k.Value)
		}
		if err != nil {
			return nil, p.yamlErr(err, v.Line)
		}
	}
	switch {
	case sc.Name == "":
		return nil, p.errf(root.Line, "the scenario has no name")
	case stepsNode == nil || stepsNode.Kind != yaml.SequenceNode || len(stepsNode.Content) == 0:
		return nil, p.errf(root.Line, "the scenario has no steps (a list under steps:)")
	}
	for _, n := range stepsNode.Content {
		st, err := p.step(n)
		if err != nil {
			return nil, err
		}
		sc.Steps = append(sc.Steps, st)
	}
	if err := p.check(sc); err != nil {
		return nil, err
	}
	return sc, nil
}

// step reads one step: one kind key, with optional say and expect.
func (p parser) step(n *yaml.Node) (Step, error) {
	st := Step{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		return st, p.errf(n.Line, "a step is a mapping such as {request: /protected}")
	}
	var arg *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.Value == "say":
			if err := v.Decode(&st.Say); err != nil {
				return st, p.yamlErr(err, v.Line)
			}
		case k.Value == "expect" && st.Kind != KindExpect:
			if st.Expect != nil {
				return st, p.errf(k.Line, "expect given twice")
			}
			st.Expect = &Expect{}
			if err := p.decodeKnown(v, st.Expect); err != nil {
				return st, err
			}
		case slices.Contains(kinds, k.Value):
			if st.Kind != "" {
				return st, p.errf(k.Line, "a step has one kind; this one has %s and %s", st.Kind, k.Value)
			}
			st.Kind, st.Line, arg = k.Value, k.Line, v
		default:
			return st, p.errf(k.Line, "unknown step kind %q (want one of %s, or say/expect)", k.Value, strings.Join(kinds, ", "))
		}
	}
	if st.Kind == "" {
		if st.Expect != nil { // a lone {expect: …} step
			st.Kind = KindExpect
			return st, nil
		}
		return st, p.errf(n.Line, "the step has no kind (want one of %s)", strings.Join(kinds, ", "))
	}
	return st, p.args(&st, arg)
}

// args decodes a step's argument, accepting the short forms: request:
// /protected, advance: 16m, replay: name.
func (p parser) args(st *Step, v *yaml.Node) error {
	null := v.Kind == yaml.ScalarNode && (v.Tag == "!!null" || v.Value == "")
	switch st.Kind {
	case KindLogin:
		if !null {
			if err := p.decodeKnown(v, &st.Login); err != nil {
				return err
			}
		}
	case KindRefresh, KindLogout:
		if !null && !(v.Kind == yaml.MappingNode && len(v.Content) == 0) {
			return p.errf(v.Line, "%s takes no arguments", st.Kind)
		}
	case KindRequest:
		return p.request(v, &st.Request)
	case KindAdvance, KindWait:
		d, err := mockserver.ParseDuration(v.Value)
		if err != nil || v.Kind != yaml.ScalarNode {
			return p.errf(v.Line, "%s needs a duration such as 16m, 90s or 7d, not %q", st.Kind, v.Value)
		}
		if st.Kind == KindWait && (d < 0 || d > time.Minute) {
			return p.errf(v.Line, "wait takes real time: at most 1m (use advance to move the clock)")
		}
		st.Duration = d
	case KindSave:
		if err := p.decodeKnown(v, &st.Save); err != nil {
			return err
		}
		if (st.Save.Token != "access" && st.Save.Token != "refresh") || st.Save.As == "" {
			return p.errf(v.Line, "save needs token: access or refresh, and as: a name")
		}
	case KindReplay:
		if v.Kind != yaml.ScalarNode || null {
			return p.errf(v.Line, "replay needs the name of a saved refresh token")
		}
		st.Replay = v.Value
	case KindTamper:
		if err := p.decodeKnown(v, &st.Tamper); err != nil {
			return err
		}
		if !slices.Contains(tamperings, st.Tamper.How) {
			return p.errf(v.Line, "tamper how must be one of %s, not %q", strings.Join(tamperings, ", "), st.Tamper.How)
		}
		if st.Tamper.Token == "" {
			st.Tamper.Token = "access"
		}
	case KindConcurrent:
		if v.Kind != yaml.MappingNode {
			return p.errf(v.Line, "concurrent needs n and request")
		}
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, a := v.Content[i], v.Content[i+1]
			switch k.Value {
			case "n":
				if err := a.Decode(&st.Concurrent.N); err != nil {
					return p.yamlErr(err, a.Line)
				}
			case "request":
				if err := p.request(a, &st.Concurrent.Request); err != nil {
					return err
				}
			default:
				return p.errf(k.Line, "unknown key %q in concurrent (want n, request)", k.Value)
			}
		}
		if st.Concurrent.N < 1 || st.Concurrent.N > 1000 {
			return p.errf(v.Line, "concurrent n must be from 1 to 1000")
		}
		if st.Concurrent.Request.Path == "" {
			st.Concurrent.Request = RequestArgs{Method: "GET", Path: "/protected"}
		}
	}
	return nil
}

func (p parser) request(v *yaml.Node, r *RequestArgs) error {
	if v.Kind == yaml.ScalarNode {
		r.Path = v.Value
		if method, path, ok := strings.Cut(v.Value, " "); ok { // "POST /orders"
			r.Method, r.Path = method, strings.TrimSpace(path)
		}
	} else if err := p.decodeKnown(v, r); err != nil {
		return err
	}
	if r.Method == "" {
		r.Method = "GET"
	}
	r.Method = strings.ToUpper(r.Method)
	if r.Path == "" {
		return p.errf(v.Line, "request needs a path such as /protected")
	}
	return nil
}

// decodeKnown decodes a mapping into a struct, rejecting keys the struct
// does not have (yaml.Node.Decode alone would ignore them).
func (p parser) decodeKnown(n *yaml.Node, v any) error {
	if n.Kind != yaml.MappingNode {
		return p.errf(n.Line, "expected a mapping of %s", strings.Join(yamlKeys(v), ", "))
	}
	known := yamlKeys(v)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !slices.Contains(known, k.Value) {
			return p.errf(k.Line, "unknown key %q (want %s)", k.Value, strings.Join(known, ", "))
		}
	}
	if err := n.Decode(v); err != nil {
		return p.yamlErr(err, n.Line)
	}
	return nil
}

func yamlKeys(v any) []string {
	t := reflect.TypeOf(v).Elem()
	var keys []string
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}

// check validates across steps: saved names exist before use, and derives
// the requirements.
func (p parser) check(sc *Scenario) error {
	saved := map[string]bool{}
	need := func(r string) {
		if !slices.Contains(sc.Requires, r) {
			sc.Requires = append(sc.Requires, r)
		}
	}
	if !sc.Server.empty() {
		need(RequiresAdmin)
	}
	for i, st := range sc.Steps {
		use := func(name string) error {
			if !saved[name] {
				return p.errf(st.Line, "unknown saved name %q: save it first with save: {token: …, as: %s}", name, name)
			}
			return nil
		}
		switch st.Kind {
		case KindAdvance:
			need(RequiresClock)
		case KindSave:
			saved[st.Save.As] = true
		case KindReplay:
			if err := use(st.Replay); err != nil {
				return err
			}
		case KindRequest:
			if st.Request.Token != "" {
				if err := use(st.Request.Token); err != nil {
					return err
				}
			}
		case KindTamper:
			if st.Tamper.Token != "access" {
				if err := use(st.Tamper.Token); err != nil {
					return err
				}
			}
			if st.Tamper.As != "" {
				saved[st.Tamper.As] = true
			}
		case KindExpect:
			if i == 0 {
				return p.errf(st.Line, "expect checks the step before it; it cannot come first")
			}
		}
		if st.Expect != nil && len(st.Expect.Events) > 0 {
			need(RequiresAdmin)
		}
	}
	return nil
}
