package scenarios

// The runner's side of version 3 (format_v3.go): token variables and
// captures, saving and replaying captured tokens, the client's skewed
// clock, step timeouts, re-signed tampering, xfail and tags.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/client"
)

// worldV3 is what version 3 keeps of a running scenario.
type worldV3 struct {
	idTokens map[string]string // per actor: the id_token of its last token answer that had one
	// settingsAssumed: settings: where_possible, and the server cannot
	// take the scenario's server: settings; notes say so in the report.
	settingsAssumed bool
	notes           []string
}

// assumeSettings decides, for settings: where_possible, to run without
// applying server: because the server's admin API is out of reach (adminErr,
// or no admin token); a refused admin token stays an error.
func (w *world) assumeSettings(adminErr error) bool {
	if w.sc.Settings != SettingsWherePossible || w.admin != nil && adminErr == nil || errors.Is(adminErr, ErrAdminTokenRefused) {
		return false
	}
	why := "no --admin-token was given"
	if adminErr != nil {
		why = "the admin API " + adminErr.Error()
	}
	patch, _ := json.Marshal(w.sc.Server.patch())
	w.v3.settingsAssumed = true
	w.v3.notes = append(w.v3.notes, fmt.Sprintf("server: settings not applied (%s): assumed the server is configured with %s", why, patch))
	return true
}

// appliesSettings reports whether the runner puts the scenario's server:
// settings on the external server.
func (w *world) appliesSettings() bool { return !w.sc.Server.empty() && !w.v3.settingsAssumed }

// skewedClock is the clients' clock with skew: the scenario's clock (the
// server's) moved by a fixed offset, so advance still moves both.
type skewedClock struct {
	w    *world
	skew time.Duration
}

func (c skewedClock) Now() time.Time { return c.w.clock.Now().Add(c.skew) }

// clientClock is the clock the scenario's clients read.
func (w *world) clientClock() client.Clock {
	if w.sc.Skew == nil || w.sc.Skew.Client == 0 {
		return w.clock
	}
	return skewedClock{w: w, skew: w.sc.Skew.Client}
}

// stepContext bounds a step with its timeout: when it passes, the step
// observes error: timeout, as with the client's own timeout.
func stepContext(ctx context.Context, st Step) (context.Context, context.CancelFunc) {
	if st.Timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, st.Timeout)
}

// setTokenVars makes ${access_token}, ${refresh_token} and ${id_token} the
// actor's current tokens; a token it does not hold is not a variable, so
// a step that uses it fails (see missingTokenVars).
func (w *world) setTokenVars(ctx context.Context, a *actor) {
	at, rt := w.tokens(ctx, a)
	for name, v := range map[string]string{VarAccessToken: at, VarRefreshToken: rt, VarIDToken: w.v3.idTokens[a.name]} {
		if v == "" {
			delete(w.vars, name)
		} else {
			w.vars[name] = v
		}
	}
}

// missingTokenVars says which token variable a step uses that its client
// does not hold, or "".
func (w *world) missingTokenVars(st Step, a *actor) error {
	for _, t := range stepTexts(st) {
		for _, name := range varsIn(t) {
			if _, ok := w.vars[name]; !ok && (name == VarAccessToken || name == VarRefreshToken || name == VarIDToken) {
				return fmt.Errorf("${%s}: client %s holds no %s now (log in first, or the server sent none)", name, a.name, strings.ReplaceAll(name, "_", " "))
			}
		}
	}
	return nil
}

// noteIDToken keeps the id_token of the step's token answer, if it had one.
func (w *world) noteIDToken(a *actor) {
	ans := w.rec.answer()
	if ans == nil || a.client == nil {
		return
	}
	if _, _, id := answerTokens(a.client.Profile(), ans); id != "" {
		if w.v3.idTokens == nil {
			w.v3.idTokens = map[string]string{}
		}
		w.v3.idTokens[a.name] = id
	}
}

// answerTokens reads the tokens an answer carried where the profile says
// they travel: the dialect's body fields, else its cookies.
func answerTokens(p client.Profile, ans *recorded) (access, refresh, id string) {
	accessF, refreshF := p.Fields.AccessToken, p.Fields.RefreshToken
	if p.Dialect == client.DialectOAuth2 || accessF == "" {
		accessF, refreshF = "access_token", "refresh_token"
	}
	var body map[string]any
	if json.Unmarshal(ans.body, &body) == nil {
		access, _ = body[accessF].(string)
		refresh, _ = body[refreshF].(string)
		id, _ = body["id_token"].(string)
	}
	for _, c := range ans.cookies {
		switch {
		case access == "" && c.Name == p.Cookies.Access && p.Cookies.Access != "" && c.MaxAge >= 0:
			access = c.Value
		case refresh == "" && c.Name == p.Cookies.Refresh && p.Cookies.Refresh != "" && c.MaxAge >= 0:
			refresh = c.Value
		}
	}
	return access, refresh, id
}

// captureToken is a token.access, token.refresh or token.id capture.
func (w *world) captureToken(st Step, which string, ans *recorded) (string, bool) {
	a := w.actors[st.Client]
	p := w.profile
	if a != nil && a.client != nil {
		p = a.client.Profile() // a flow login's client speaks oauth2
	}
	access, refresh, id := answerTokens(p, ans)
	v := map[string]string{"access": access, "refresh": refresh, "id": id}[which]
	return v, v != ""
}

// savedToken is the token a save: {from: VAR} keeps.
func (w *world) saveCaptured(st Step, a *actor) (Observed, string, error) {
	v := w.vars[st.Save.From]
	if v == "" {
		return Observed{}, "save", fmt.Errorf("save from: ${%s} is empty", st.Save.From)
	}
	w.saved[st.Save.As] = v
	return Observed{}, a.who() + "save ${" + st.Save.From + "} as " + st.Save.As, nil
}

// replayToken is the refresh token a replay sends: a saved name's, or a
// variable's for replay: ${name}.
func (w *world) replayToken(name string) (string, error) {
	if v := replayVar(name); v != "" {
		tok, ok := w.vars[v]
		if !ok || tok == "" {
			return "", fmt.Errorf("replay: ${%s} holds no token", v)
		}
		return tok, nil
	}
	return w.saved[name], nil
}

// resignTampered applies the claims and signs again with the chosen key.
func resignTampered(tok string, claims map[string]any, r *ResignArgs) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", errors.New("the token is not a JWT (three dot-separated parts)")
	}
	payload, err := editJSON(parts[1], claims)
	if err != nil {
		return "", err
	}
	return resignToken(parts[0], payload, r)
}

// serverNow is the server's time, which a tamper's nbf, iat and exp are
// relative to: the embedded server's clock; --server's through its admin
// API; else the real time (a server on the real clock). The runner's own
// clock for an external server is frozen when the scenario starts, which
// a server frozen earlier, or moved by others, does not share.
func (w *world) serverNow(ctx context.Context) time.Time {
	if w.embedded != nil {
		return w.clock.Now()
	}
	if w.admin != nil {
		var c struct{ Now time.Time }
		if err := w.admin.do(ctx, http.MethodGet, "/admin/clock", nil, &c); err == nil && !c.Now.IsZero() {
			return c.Now
		}
	}
	if w.r.Wall != nil {
		return w.r.Wall()
	}
	return time.Now()
}

// tamperClaims are a tamper's claims with its nbf, iat and exp edits.
func (w *world) tamperClaims(ctx context.Context, a TamperArgs) map[string]any {
	if a.NBF == nil && a.IAT == nil && a.EXP == nil {
		return a.Claims
	}
	times := a.timeClaims(w.serverNow(ctx))
	if len(times) == 0 {
		return a.Claims
	}
	claims := map[string]any{}
	for k, v := range a.Claims {
		claims[k] = v
	}
	for k, v := range times {
		claims[k] = v
	}
	return claims
}

// finishV3 gives a finished scenario's result what version 3 adds: its
// tags, and its outcome turned by an xfail that matches this run — an
// expected failure is XFailed; a pass where a failure was expected fails
// the run.
func (r *Runner) finishV3(sc *Scenario, res Result) Result {
	res.Tags = sc.Tags
	x, ok := sc.xfailFor(r)
	if !ok {
		return res
	}
	res.XFail = x.Reason
	switch res.Status {
	case Failed:
		// Only a step's failure is the expected one: a setup that failed
		// (a dead server, a refused admin token) stays a failure.
		if _, ok := failedStep(res); ok {
			res.Status = XFailed
		}
	case Passed:
		res.Status = Failed
		res.XPassed = true
		res.Reason = fmt.Sprintf("expected to fail %s (xfail at %s:%d: %s), but it passed: remove the xfail if the server is fixed",
			x.target(), sc.File, x.Line, x.Reason)
	}
	return res
}

// target says which run an xfail names.
func (x XFail) target() string {
	var parts []string
	if x.Profile != "" {
		parts = append(parts, "with the profile "+x.Profile)
	}
	if x.Dialect != "" {
		parts = append(parts, "in the "+x.Dialect+" dialect")
	}
	if x.Server != "" {
		parts = append(parts, "against the "+x.Server+" server")
	}
	return strings.Join(parts, " ")
}

// propertiesV3 are the JUnit properties of version 3: the tags, the
// xfail's reason, and what the run assumed.
func propertiesV3(r Result) []junitProperty {
	var p []junitProperty
	if len(r.Tags) > 0 {
		p = append(p, junitProperty{"tags", strings.Join(r.Tags, ",")})
	}
	if r.XFail != "" {
		p = append(p, junitProperty{"xfail", r.XFail})
	}
	if r.XPassed {
		p = append(p, junitProperty{"xpassed", "true"})
	}
	for _, n := range r.Notes {
		p = append(p, junitProperty{"note", n})
	}
	return p
}
