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

	"github.com/tokenlab/tokenlab/client"
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
	Tags        []string // for tokenlab run --tag
	Steps       []Step
	// Version 3 (format_v3.go): where the scenario is expected to fail,
	// the client's clock skew, and settings: where_possible.
	XFail    []XFail
	Skew     *Skew
	Settings string
	// App is the scenario's app: block (app.go), nil without one.
	App *AppSpec
	// needs says, per step that needs more than the API, what it needs:
	// the skip reason when that is missing.
	needs []need
}

// need is one step's requirement.
type need struct {
	step     int // 1-based, after repeats are unrolled
	kind     string
	requires string // RequiresClock or RequiresAdmin
	restart  bool   // only an embedded server can restart
	// A login's flow: with an oauth2 profile the server must offer its
	// grant; a flow other than password needs an oauth2 profile; pkce and
	// device need tokenlab's own login pages (the runner fills them).
	flow      string
	pages     bool
	clientID  string // a confidential client whose secret comes from secretEnv
	secretEnv string
}

// ServerSettings are the server policy a scenario needs; nil fields keep
// the server's own. They are mockserver.PolicyPatch with YAML names (see
// patch); a setting added there needs a field here.
type ServerSettings struct {
	AccessTTL      *Duration `yaml:"access_ttl"`
	RefreshTTL     *Duration `yaml:"refresh_ttl"`
	SessionMax     *Duration `yaml:"session_max"`
	ReuseGrace     *Duration `yaml:"reuse_grace"`
	Rotation       *bool     `yaml:"rotation"`
	ReuseDetection *bool     `yaml:"reuse_detection"`
	AccessDenylist *bool     `yaml:"access_denylist"`
	// Preset (a vendor's rules, mockserver/presets.go) applies first; the
	// other settings override its parts.
	Preset                  *PresetName `yaml:"preset"`
	GraceForever            *bool       `yaml:"grace_forever"`
	GracePrevious           *bool       `yaml:"grace_previous"`
	GraceReplays            *int        `yaml:"grace_replays"`
	ReuseRevokesAccess      *bool       `yaml:"reuse_revokes_access"`
	RevocationRevokesAccess *bool       `yaml:"revocation_revokes_access"`
	Revocation              *string     `yaml:"revocation"`
	PKCE                    *string     `yaml:"pkce"`
	OmitIss                 *bool       `yaml:"omit_iss"`
	Errors                  *string     `yaml:"errors"`
	// Clients are confidential clients the runner registers when it starts
	// its own server. An external server must have been started with them
	// (tokenlab serve --client-file); they are not settings the admin API
	// can change.
	Clients []ScenarioClient `yaml:"clients"`
}

// ScenarioClient is a confidential OAuth client of the embedded server.
type ScenarioClient struct {
	ID     string `yaml:"id"`
	Secret string `yaml:"secret"`
}

// empty reports whether the scenario leaves the server's settings as they
// are (its clients are not settings).
func (s ServerSettings) empty() bool { return s.patch().IsZero() }

// patch is the settings as the server's own patch: what the embedded
// server applies to its policy, and, as JSON, the body of PUT
// /admin/settings.
func (s ServerSettings) patch() mockserver.PolicyPatch {
	return mockserver.PolicyPatch{AccessTTL: (*mockserver.Duration)(s.AccessTTL), RefreshTTL: (*mockserver.Duration)(s.RefreshTTL),
		SessionMax: (*mockserver.Duration)(s.SessionMax), ReuseGrace: (*mockserver.Duration)(s.ReuseGrace),
		Rotation: s.Rotation, ReuseDetection: s.ReuseDetection, AccessDenylist: s.AccessDenylist,
		Preset: (*string)(s.Preset), GraceForever: s.GraceForever, GracePrevious: s.GracePrevious, GraceReplays: s.GraceReplays,
		ReuseRevokesAccess: s.ReuseRevokesAccess, RevocationRevokesAccess: s.RevocationRevokesAccess,
		Revocation: s.Revocation, PKCE: s.PKCE, OmitIss: s.OmitIss, Errors: s.Errors}
}

// PresetName is a preset's name, checked when the file is read.
type PresetName string

func (p *PresetName) UnmarshalYAML(n *yaml.Node) error {
	if _, err := mockserver.PresetPolicy(n.Value); err != nil || n.Value == "" {
		if err == nil {
			err = fmt.Errorf("preset must name one of %s", strings.Join(mockserver.PresetNames(), ", "))
		}
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*p = PresetName(n.Value)
	return nil
}

// clientSecret is the secret of one of the scenario's clients.
func (s ServerSettings) clientSecret(id string) (string, bool) {
	for _, c := range s.Clients {
		if c.ID == id {
			return c.Secret, true
		}
	}
	return "", false
}

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
	KindFault      = "fault"
	KindRestart    = "restart"
	KindRotateKeys = "rotate_keys"
	KindRepeat     = "repeat"
)

var kinds = append([]string{KindLogin, KindRequest, KindRefresh, KindAdvance, KindWait, KindSave, KindReplay,
	KindTamper, KindConcurrent, KindLogout, KindExpect, KindFault, KindRestart, KindRotateKeys, KindRepeat}, appKinds...)

// Requirements a scenario may have.
const (
	RequiresClock = "clock" // moves the server's clock: needs /admin/clock
	RequiresAdmin = "admin" // changes settings, injects faults, rotates keys: needs the admin token
	// RequiresRestart: restarts the server, which only the embedded server can do.
	RequiresRestart = "restart"
)

// Step is one step. Kind says which of the argument fields is set.
type Step struct {
	Kind   string
	Line   int
	Say    string  // narration
	Expect *Expect // what must hold after the step
	Client string  // the client that runs the step; "main" by default
	// Capture keeps parts of the step's answer as variables: name -> body.FIELD, header.NAME or cookie.NAME.
	Capture map[string]string

	Login      LoginArgs
	Request    RequestArgs
	Duration   time.Duration // advance, wait
	Save       SaveArgs
	Replay     string // a saved name
	Tamper     TamperArgs
	Concurrent ConcurrentArgs
	Refresh    RefreshArgs
	Fault      FaultArgs
	Timeout    time.Duration // bounds the step's exchanges (timeout:); 0: the runner's
	App        AppStepArgs   // browse, http, await, revoke (app_steps.go)

	repeated []Step // a repeat's steps, once; unrolled by the parser
	times    int
}

// DefaultClient is the client of steps that name none.
const DefaultClient = "main"

// LoginArgs: the user to log in as (the runner's user by default). A
// password given, even "", is sent as written. Flow picks the login flow;
// for pkce and device the runner plays the person at the browser on
// tokenlab's own pages.
type LoginArgs struct {
	Username string  `yaml:"username"`
	Password *string `yaml:"password"`
	Flow     string  `yaml:"flow"` // password (default), pkce, device, client-credentials
	// The OAuth client; the profile's (or the mock server's public client
	// tokenlab) when empty.
	ClientID        string `yaml:"client_id"`
	ClientSecret    string `yaml:"client_secret"`     // may be ${var}
	ClientSecretEnv string `yaml:"client_secret_env"` // the name of an environment variable holding it
	Scope           string `yaml:"scope"`
	Resource        string `yaml:"resource"` // an RFC 8707 resource indicator
	// Deny: the person presses Deny on the authorize or device page.
	Deny bool `yaml:"deny"`
	// WrongVerifier: the code is traded with another code_verifier than
	// the one its challenge came from (pkce).
	WrongVerifier bool `yaml:"wrong_verifier"`
	// Polls are the answers the device hears before the person decides on
	// /device: authorization_pending (it waited the interval) or slow_down
	// (it asked again at once).
	Polls []string `yaml:"polls"`
}

// flow is the login's flow, password when none is named.
func (l LoginArgs) flow() string {
	if l.Flow == "" {
		return client.FlowPassword
	}
	return l.Flow
}

// Login flows a step may name, and the device answers polls may list.
var (
	loginFlows  = []string{client.FlowPassword, client.FlowPKCE, client.FlowDevice, client.FlowClientCredentials}
	pollAnswers = []string{"authorization_pending", "slow_down"}
)

// RequestArgs: an API call. Without Token it goes through the client,
// which refreshes as needed; with Token (a saved name) that exact access
// token is sent and nothing is refreshed.
type RequestArgs struct {
	Method  string            `yaml:"method"`
	Path    string            `yaml:"path"`
	Body    string            `yaml:"body"`
	Token   string            `yaml:"token"`
	Headers map[string]string `yaml:"headers"`
	Auth    string            `yaml:"auth"` // none: send no token
}

// SaveArgs keep the current access or refresh token under a name, or
// (code) the token request that traded the last PKCE or device login's
// code, to replay it.
type SaveArgs struct {
	Token string `yaml:"token"` // access, refresh or code
	From  string `yaml:"from"`  // or a captured variable (a token captured with token.refresh)
	As    string `yaml:"as"`
}

// TamperArgs alter a token and send it to Path as an access token.
type TamperArgs struct {
	Token  string         `yaml:"token"` // access (the current one) or a saved name
	How    string         `yaml:"how"`   // payload, alg-none, strip-signature, signature
	Claims map[string]any `yaml:"claims"`
	Path   string         `yaml:"path"`
	As     string         `yaml:"as"` // also save the tampered token under this name
	// Resign signs the token again with a chosen key (resign.go); NBF, IAT
	// and EXP set those claims relative to the scenario's clock.
	Resign *ResignArgs `yaml:"resign"`
	NBF    *TimeShift  `yaml:"nbf"`
	IAT    *TimeShift  `yaml:"iat"`
	EXP    *TimeShift  `yaml:"exp"`
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
	Status         *StatusSet             `yaml:"status"`    // for concurrent: every request's status
	Error          StringList             `yaml:"error"`     // the error code in the answer, or one of several
	Refreshes      *Range                 `yaml:"refreshes"` // a number or a range ({max: 2})
	Rotations      *Range                 `yaml:"rotations"`
	TokenChanged   *bool                  `yaml:"token_changed"`     // the access token changed during the step
	RefreshChanged *bool                  `yaml:"refresh_changed"`   // the refresh token changed during the step
	HasRefresh     *bool                  `yaml:"has_refresh_token"` // the client holds a refresh token after the step
	LoginRequired  *bool                  `yaml:"login_required"`    // the client's session ended
	BodyContains   *string                `yaml:"body_contains"`
	Claims         map[string]any         `yaml:"claims"`    // claims of the current access token
	Events         *EventCheck            `yaml:"events"`    // server event kinds that happened during the step
	NoEvents       []string               `yaml:"no_events"` // server event kinds that must not have happened
	Headers        map[string]string      `yaml:"headers"`   // response header (any case) -> a part of its value
	Cookies        map[string]CookieCheck `yaml:"cookies"`   // cookies the answer sets, and their flags
	Statuses       StatusCounts           `yaml:"statuses"`  // concurrent: how many answers had each status
	Equal          []string               `yaml:"equal"`     // variables that must hold the same value
	NotEqual       []string               `yaml:"not_equal"` // variables that must differ
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
			if err = p.decodeKnown(v, &sc.Server); err == nil {
				err = p.checkLifetimes(v)
			}
			if err == nil {
				err = p.serverClients(v, sc.Server.Clients)
			}
		case "requires":
			if v.Kind != yaml.SequenceNode {
				return nil, p.errf(v.Line, "requires is a list such as [clock] or [clock, admin]")
			}
			err = v.Decode(&sc.Requires)
			for _, r := range sc.Requires {
				if r != RequiresClock && r != RequiresAdmin && r != RequiresRestart {
					return nil, p.errf(v.Line, "requires: unknown requirement %q (want clock, admin or restart)", r)
				}
			}
		case "tags":
			if v.Kind != yaml.SequenceNode {
				return nil, p.errf(v.Line, "tags is a list such as [smoke, logout]")
			}
			err = v.Decode(&sc.Tags)
		case "steps":
			stepsNode = v
		case "app":
			if err := p.parseApp(sc, v); err != nil {
				return nil, err
			}
		case keyXFail, keySkew, keySettings:
			if err := p.topLevelV3(sc, k, v); err != nil {
				return nil, err
			}
		default:
			return nil, p.errf(k.Line, "unknown key %q (want name, description, tags, server, app, settings, requires, skew, xfail, steps)", k.Value)
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
	steps, err := p.steps(stepsNode)
	if err != nil {
		return nil, err
	}
	sc.Steps = steps
	if err := p.checkScenarioV3(sc, root); err != nil {
		return nil, err
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
		case k.Value == "client":
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				return st, p.errf(v.Line, "client is a name such as phone or laptop")
			}
			st.Client = v.Value
		case k.Value == "capture":
			if v.Kind != yaml.MappingNode {
				return st, p.errf(v.Line, "capture is a mapping such as {order: body.id, csrf: header.X-CSRF-Token}")
			}
			if err := v.Decode(&st.Capture); err != nil {
				return st, p.yamlErr(err, v.Line)
			}
			for i := 0; i+1 < len(v.Content); i += 2 {
				if err := checkCapture(v.Content[i+1].Value); err != nil {
					return st, p.errf(v.Content[i+1].Line, "%v", err)
				}
			}
		case k.Value == "expect" && st.Kind != KindExpect:
			if st.Expect != nil {
				return st, p.errf(k.Line, "expect given twice")
			}
			st.Expect = &Expect{}
			if err := p.decodeKnown(v, st.Expect); err != nil {
				return st, err
			}
		case k.Value == keyTimeout:
			if err := p.stepKeyV3(&st, k, v); err != nil {
				return st, err
			}
		case slices.Contains(kinds, k.Value):
			if st.Kind != "" {
				return st, p.errf(k.Line, "a step has one kind; this one has %s and %s", st.Kind, k.Value)
			}
			st.Kind, st.Line, arg = k.Value, k.Line, v
		default:
			return st, p.errf(k.Line, "unknown step kind %q (want one of %s, or say/expect/client/capture/timeout)", k.Value, strings.Join(kinds, ", "))
		}
	}
	if st.Kind == "" {
		if st.Expect != nil { // a lone {expect: …} step; its client is the step before's
			st.Kind = KindExpect
			return st, nil
		}
		return st, p.errf(n.Line, "the step has no kind (want one of %s)", strings.Join(kinds, ", "))
	}
	if st.Client == "" {
		st.Client = DefaultClient
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
		return p.login(v, st.Login)
	case KindRefresh:
		if !null {
			if err := p.decodeKnown(v, &st.Refresh); err != nil {
				return err
			}
		}
	case KindLogout, KindRestart, KindRotateKeys:
		if !null && !(v.Kind == yaml.MappingNode && len(v.Content) == 0) {
			return p.errf(v.Line, "%s takes no arguments", st.Kind)
		}
	case KindFault:
		if err := p.decodeKnown(v, &st.Fault); err != nil {
			return err
		}
		f := &st.Fault
		if f.Times == 0 {
			f.Times = 1
		}
		if err := (mockserver.Fault{Route: f.Route, Status: f.Status, Times: f.Times, Delay: time.Duration(f.Delay), LoseResponse: f.LoseResponse}).Validate(); err != nil {
			return p.errf(v.Line, "%v", err)
		}
	case KindRequest:
		return p.request(v, &st.Request)
	case KindBrowse, KindHTTP, KindRestartApp, KindAwait, KindRevoke:
		return p.appArgs(st, v)
	case KindAdvance, KindWait:
		d, err := mockserver.ParseDuration(v.Value)
		if err != nil || v.Kind != yaml.ScalarNode {
			return p.errf(v.Line, "%s needs a duration such as 16m, 90s or 7d, not %q", st.Kind, v.Value)
		}
		if st.Kind == KindAdvance && d < 0 {
			return p.errf(v.Line, "advance moves the clock forward; %s is negative", v.Value)
		}
		if st.Kind == KindWait && (d < 0 || d > time.Minute) {
			return p.errf(v.Line, "wait takes real time: at most 1m (use advance to move the clock)")
		}
		st.Duration = d
	case KindSave:
		if err := p.decodeKnown(v, &st.Save); err != nil {
			return err
		}
		switch {
		case st.Save.From != "" && st.Save.Token != "":
			return p.errf(v.Line, "save takes token: or from:, not both")
		case st.Save.From != "" && st.Save.As != "":
		case !slices.Contains([]string{"access", "refresh", "code"}, st.Save.Token) || st.Save.As == "":
			return p.errf(v.Line, "save needs token: access, refresh or code (or from: a captured variable), and as: a name")
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
		if err := p.tamperV3(&st.Tamper, v); err != nil {
			return err
		}
		if !slices.Contains(tamperings, st.Tamper.How) && st.Tamper.How != howResign {
			return p.errf(v.Line, "tamper how must be one of %s, not %q", strings.Join(tamperings, ", "), st.Tamper.How)
		}
		if st.Tamper.Token == "" {
			st.Tamper.Token = "access"
		}
	case KindRepeat:
		return p.repeat(st, v)
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
	if r.Auth != "" && r.Auth != "none" {
		return p.errf(v.Line, "auth: the only value is none (send no token), not %q", r.Auth)
	}
	if r.Auth == "none" && r.Token != "" {
		return p.errf(v.Line, "auth: none sends no token, so it cannot go with token: %s", r.Token)
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

// steps reads a list of steps, unrolling repeats.
func (p parser) steps(list *yaml.Node) ([]Step, error) {
	var out []Step
	for _, n := range list.Content {
		st, err := p.step(n)
		if err != nil {
			return nil, err
		}
		grows := 1
		if st.Kind == KindRepeat {
			grows = st.times * len(st.repeated)
		}
		// Checked before unrolling: nested repeats must not build a
		// million steps to find out there are too many.
		if len(out)+grows > maxSteps {
			return nil, p.errf(n.Line, "the scenario has more than %d steps once its repeats are unrolled", maxSteps)
		}
		if st.Kind != KindRepeat {
			out = append(out, st)
		} else {
			for range st.times {
				out = append(out, st.repeated...)
			}
		}
	}
	return out, nil
}

// repeat reads {times: N, steps: [...]}.
func (p parser) repeat(st *Step, v *yaml.Node) error {
	if v.Kind != yaml.MappingNode {
		return p.errf(v.Line, "repeat needs times and steps, such as {times: 5, steps: [{refresh: }]}")
	}
	var list *yaml.Node
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, a := v.Content[i], v.Content[i+1]
		switch k.Value {
		case "times":
			if err := a.Decode(&st.times); err != nil {
				return p.errf(a.Line, "repeat times is a whole number from 1 to 1000")
			}
		case "steps":
			list = a
		default:
			return p.errf(k.Line, "unknown key %q in repeat (want times, steps)", k.Value)
		}
	}
	if st.times < 1 || st.times > 1000 {
		return p.errf(v.Line, "repeat times is a whole number from 1 to 1000")
	}
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return p.errf(v.Line, "repeat needs steps: a list of steps to run again")
	}
	if st.Expect != nil || st.Capture != nil || st.Timeout > 0 {
		return p.errf(v.Line, "repeat takes no expect, capture or timeout of its own; put them on its steps")
	}
	var err error
	st.repeated, err = p.steps(list)
	return err
}

// checkLifetimes refuses server lifetimes that no server can have.
func (p parser) checkLifetimes(v *yaml.Node) error {
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, a := v.Content[i], v.Content[i+1]
		d, err := mockserver.ParseDuration(a.Value)
		if err != nil {
			continue // not a duration: decoding said so already
		}
		switch k.Value {
		case "access_ttl", "refresh_ttl", "session_max":
			if d <= 0 {
				return p.errf(a.Line, "%s must be longer than 0, not %s", k.Value, a.Value)
			}
		case "reuse_grace":
			if d < 0 {
				return p.errf(a.Line, "reuse_grace must not be negative")
			}
		}
	}
	return nil
}

// Which checks apply to which steps. A check left out of a step's list
// is a load error there: it could only fail with "got nothing".
var (
	answerChecks = []string{"status", "error", "headers", "cookies"}
	bodyChecks   = []string{"body_contains"}
	// Steps that get an HTTP answer of their own.
	answered = []string{KindLogin, KindRequest, KindRefresh, KindReplay, KindTamper, KindLogout, KindConcurrent, KindBrowse, KindHTTP}
	// Steps whose answer has a body the runner keeps.
	withBody = []string{KindRequest, KindTamper, KindBrowse, KindHTTP}
)

// setChecks lists the checks an Expect sets, by their YAML names.
func (e *Expect) setChecks() []string {
	var set []string
	add := func(name string, on bool) {
		if on {
			set = append(set, name)
		}
	}
	add("status", e.Status != nil)
	add("error", e.Error != nil)
	add("headers", e.Headers != nil)
	add("cookies", e.Cookies != nil)
	add("body_contains", e.BodyContains != nil)
	add("refreshes", e.Refreshes != nil)
	add("rotations", e.Rotations != nil)
	add("token_changed", e.TokenChanged != nil)
	add("refresh_changed", e.RefreshChanged != nil)
	return set
}

// applies says why a check cannot apply to a step, or "".
func applies(check string, st Step) string {
	lost := st.Kind == KindRefresh && st.Refresh.LoseResponse
	switch {
	case st.Kind == KindSave && check != "claims":
		return "save keeps a token and checks nothing: put " + check + " on the step that got the token"
	case slices.Contains(answerChecks, check) && (!slices.Contains(answered, st.Kind) || lost):
		if lost {
			return "a refresh with lose_response never sees its answer, so " + check + " has nothing to check"
		}
		return st.Kind + " gets no answer of its own, so " + check + " has nothing to check"
	case (check == "headers" || check == "cookies") && st.Kind == KindConcurrent:
		return "concurrent keeps only the statuses of its answers, so " + check + " has nothing to check"
	case slices.Contains(bodyChecks, check) && !slices.Contains(withBody, st.Kind):
		return st.Kind + " does not keep the answer's body, so body_contains has nothing to check (use it on request or tamper)"
	}
	return ""
}

// check validates across steps: saved names and variables exist before
// use, checks fit their steps, and it derives the requirements.
func (p parser) check(sc *Scenario) error {
	saved := map[string]bool{}
	savedKind := map[string]string{} // access, refresh or code
	flowOf := map[string]string{}    // each client's last login flow
	vars := map[string]bool{VarRunID: true, VarScenario: true, VarAccessToken: true, VarRefreshToken: true, VarIDToken: true}
	loggedIn := map[string]bool{} // clients with a login step so far
	require := func(r string) {
		if !slices.Contains(sc.Requires, r) {
			sc.Requires = append(sc.Requires, r)
		}
	}
	if !sc.Server.empty() && sc.Settings != SettingsWherePossible {
		require(RequiresAdmin)
	}
	var prev Step
	for i, st := range sc.Steps {
		use := func(name string) error {
			if !saved[name] {
				return p.errf(st.Line, "unknown saved name %q: save it first with save: {token: …, as: %s}", name, name)
			}
			return nil
		}
		useVars := func(texts ...string) error {
			for _, t := range texts {
				for _, name := range varsIn(t) {
					if !vars[name] {
						return p.errf(st.Line, "unknown variable ${%s}: capture it on an earlier step (capture: {%s: body.…}), or use ${run_id} or ${scenario}", name, name)
					}
				}
			}
			return nil
		}
		requestVars := func(r RequestArgs) error {
			texts := []string{r.Path, r.Body}
			for _, v := range r.Headers {
				texts = append(texts, v)
			}
			return useVars(texts...)
		}
		var err error
		switch st.Kind {
		case KindAdvance:
			require(RequiresClock)
			sc.needs = append(sc.needs, need2(i, st, RequiresClock))
		case KindFault, KindRotateKeys, KindRevoke:
			require(RequiresAdmin)
			sc.needs = append(sc.needs, need2(i, st, RequiresAdmin))
		case KindRestart:
			require(RequiresRestart)
			sc.needs = append(sc.needs, need{step: i + 1, kind: st.Kind, restart: true})
		case KindLogin:
			pass := ""
			if st.Login.Password != nil {
				pass = *st.Login.Password
			}
			err = useVars(st.Login.Username, pass, st.Login.ClientSecret)
			flowOf[st.Client] = st.Login.flow()
			sc.needs = append(sc.needs, loginNeeds(i, st)...)
			for _, n := range sc.needs {
				if n.step == i+1 && n.requires != "" {
					require(n.requires)
				}
			}
		case KindSave:
			if st.Save.Token == "code" && flowOf[st.Client] != client.FlowPKCE && flowOf[st.Client] != client.FlowDevice {
				return p.errf(st.Line, "save: {token: code} keeps the code of a pkce or device login, and client %s has not logged in with one yet", st.Client)
			}
			saved[st.Save.As] = true
			savedKind[st.Save.As] = st.Save.Token
			if st.Save.From != "" {
				savedKind[st.Save.As] = "captured"
			}
		case KindReplay:
			if replayVar(st.Replay) != "" {
				err = useVars(st.Replay)
			} else {
				err = use(st.Replay)
			}
		case KindRequest:
			if st.Request.Token != "" {
				err = use(st.Request.Token)
				if err == nil && savedKind[st.Request.Token] == "code" {
					err = p.errf(st.Line, "%s is a saved code, not an access token: replay it with replay: %s", st.Request.Token, st.Request.Token)
				}
			}
			if err == nil {
				err = requestVars(st.Request)
			}
		case KindConcurrent:
			if st.Concurrent.Request.Token != "" {
				err = use(st.Concurrent.Request.Token)
				if err == nil && savedKind[st.Concurrent.Request.Token] == "code" {
					err = p.errf(st.Line, "%s is a saved code, not an access token", st.Concurrent.Request.Token)
				}
			}
			if err == nil {
				err = requestVars(st.Concurrent.Request)
			}
		case KindTamper:
			if st.Tamper.Token != "access" {
				err = use(st.Tamper.Token)
				if err == nil && savedKind[st.Tamper.Token] == "code" {
					err = p.errf(st.Line, "%s is a saved code, not a token: tamper works on tokens", st.Tamper.Token)
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
		if err == nil {
			err = p.checkSession(st, loggedIn)
		}
		if err == nil {
			err = p.checkHeaders(st)
		}
		if err == nil && st.Expect != nil {
			err = useVars(st.Expect.texts()...)
		}
		if err == nil && st.Expect != nil {
			err = p.checkEventKinds(st)
		}
		if err != nil {
			return err
		}
		target := st
		if st.Kind == KindExpect {
			target = prev
		}
		if err := p.checkV3(sc, i, st, target, vars); err != nil {
			return err
		}
		if st.Expect != nil {
			for _, c := range st.Expect.setChecks() {
				if why := applies(c, target); why != "" {
					return p.errf(st.Line, "%s", why)
				}
			}
		}
		if st.Capture != nil {
			if !slices.Contains(answered, st.Kind) || st.Kind == KindConcurrent || (st.Kind == KindRefresh && st.Refresh.LoseResponse) {
				return p.errf(st.Line, "capture needs a step that gets an answer (login, request, refresh, replay, tamper, logout), not %s", st.Kind)
			}
			for name := range st.Capture {
				vars[name] = true
			}
		}
		if st.Kind != KindExpect {
			prev = st
		}
	}
	return nil
}

func need2(i int, st Step, r string) need { return need{step: i + 1, kind: st.Kind, requires: r} }
