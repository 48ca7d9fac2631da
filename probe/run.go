package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// prober is one probe run.
type prober struct {
	cfg    Config
	meta   metadata
	http   *http.Client
	start  time.Time
	report *Report

	mu     sync.Mutex        // guards labels (five refreshes run at once)
	labels map[string]string // token → R1, A1 …: evidence never holds a token
	counts map[byte]int

	check      *accessCheck // how access tokens are checked, once chosen
	checkTried bool
	window     Grace // the grace window, for the reuse chain
}

// Run probes the provider and reports its traits. It returns an error when
// the probe could not go on (discovery failed, a login failed, a fresh
// token's first refresh was refused); a trait that cannot be measured is
// null in the report instead.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	if cfg.MaxWait == 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.Scope == "" {
		cfg.Scope = DefaultScope
	}
	if cfg.LoginTimeout <= 0 {
		cfg.LoginTimeout = 5 * time.Minute
	}
	p := &prober{cfg: cfg, http: cfg.HTTP, start: time.Now(), labels: map[string]string{}, counts: map[byte]int{}}
	if p.http == nil {
		p.http = &http.Client{Timeout: 10 * time.Second}
	}
	// Never follow redirects: an authorize redirect must reach the probe,
	// and a token endpoint that redirects is refusing.
	hc := *p.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p.http = &hc
	p.report = &Report{Target: cfg.Issuer, Flow: cfg.Flow, MaxWaitS: cfg.MaxWait.Seconds(), Evidence: map[string][]Step{}}

	meta, err := p.discover(ctx)
	if err != nil {
		return Report{}, err
	}
	p.meta = meta
	for _, measure := range []func(context.Context) error{p.measureGrace, p.measureReuse, p.measureConcurrent, p.measureRevocation, p.measurePKCE} {
		if err := measure(ctx); err != nil {
			return Report{}, err
		}
	}
	r := *p.report
	r.ElapsedS = round1(time.Since(p.start).Seconds())
	r.ClosestPreset = Closest(r.Traits, cfg.MaxWait)
	for _, k := range TraitKeys {
		if _, ok := r.Evidence[k]; !ok {
			r.Evidence[k] = []Step{}
		}
	}
	return r, nil
}

func (p *prober) progress(format string, args ...any) {
	if p.cfg.Progress != nil {
		p.cfg.Progress(fmt.Sprintf(format, args...))
	}
}

func (p *prober) since() float64 { return round1(time.Since(p.start).Seconds()) }

// label names a token in evidence: R1, R2 … for refresh tokens, A1 … for
// access tokens, in the order the probe first saw them.
func (p *prober) label(kind byte, token string) string {
	if token == "" {
		return "(none)"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if l, ok := p.labels[token]; ok {
		return l
	}
	p.counts[kind]++
	l := string(kind) + strconv.Itoa(p.counts[kind])
	p.labels[token] = l
	return l
}

// evidence records steps under one or more traits.
type evidence struct {
	p      *prober
	traits []string
}

func (p *prober) evidence(traits ...string) evidence { return evidence{p, traits} }

func (e evidence) add(request string, a answer, outcome string) {
	s := Step{AtS: e.p.since(), Request: request, Status: a.Status, Error: a.Error, Outcome: outcome}
	e.p.mu.Lock()
	defer e.p.mu.Unlock()
	for _, t := range e.traits {
		e.p.report.Evidence[t] = append(e.p.report.Evidence[t], s)
	}
}

func (e evidence) note(text string) { e.add(text, answer{}, "") }

// chain is one login followed by refreshes up to the rotation: spent is
// the token the rotation used, newest what it handed back.
type chain struct {
	spent, newest tokens
	rotated       bool
	rotatedAt     time.Time
}

// errNoRefreshToken ends the refresh measurements: the login gave none.
var errNoRefreshToken = errors.New("the login answered without a refresh token")

// newChain logs in and refreshes until the answer carries another refresh
// token (once a second: some providers hand the same one back within
// their reuse interval), or the wait ends (then rotated is false).
func (p *prober) newChain(ctx context.Context, ev evidence, why string) (chain, error) {
	t, err := p.login(ctx, ev, why)
	if err != nil {
		return chain{}, err
	}
	if t.Refresh == "" {
		return chain{}, errNoRefreshToken
	}
	return p.rotate(ctx, ev, t)
}

func (p *prober) rotate(ctx context.Context, ev evidence, t tokens) (chain, error) {
	deadline := time.Now().Add(p.cfg.MaxWait)
	cur := t
	for {
		a, next, err := p.refresh(ctx, cur.Refresh)
		if err != nil {
			return chain{}, err
		}
		req := "refresh " + p.label('R', cur.Refresh)
		if a.Status/100 != 2 {
			ev.add(req, a, "refused")
			return chain{}, fmt.Errorf("the provider refused the refresh of a fresh refresh token (%d %s), so no refresh rule can be measured", a.Status, a.Error)
		}
		if next.Refresh == "" {
			next.Refresh = cur.Refresh // RFC 6749 §6: no new one means keep the old
		}
		if next.Refresh != cur.Refresh {
			ev.add(req, a, "rotated: new refresh token "+p.label('R', next.Refresh)+" (access token "+p.label('A', next.Access)+")")
			return chain{spent: cur, newest: next, rotated: true, rotatedAt: time.Now()}, nil
		}
		ev.add(req, a, "the same refresh token came back")
		if time.Now().Add(time.Second).After(deadline) {
			return chain{spent: cur, newest: next, rotatedAt: time.Now()}, nil
		}
		if err := sleep(ctx, time.Second); err != nil {
			return chain{}, err
		}
		cur.Access = next.Access
	}
}

// skipRefreshTraits marks the refresh traits unmeasurable.
func (p *prober) skipRefreshTraits(ev evidence, why string) {
	ev.note("not measured: " + why)
}

// measureGrace: replay the spent token at 0, 0.5, 1 … s after the
// rotation until refused or the wait ends; the window is the midpoint
// between the last accepted and the first refused replay.
func (p *prober) measureGrace(ctx context.Context) error {
	ev := p.evidence("rotates_refresh_token", "old_refresh_after_rotation", "grace_window_s")
	p.progress("chain 1: log in and rotate")
	c, err := p.newChain(ctx, ev, "chain 1 (grace window)")
	if errors.Is(err, errNoRefreshToken) {
		p.skipRefreshTraits(p.evidence(TraitKeys[:9]...), "the login gave no refresh token (ask for offline_access, or allow the refresh_token grant for this client)")
		return nil
	} else if err != nil {
		return err
	}
	p.report.Traits.RotatesRefreshToken = ptr(c.rotated)
	lastAccepted, firstRefused := -1.0, -1.0
	for i := 0; ; i++ {
		at := time.Duration(i) * 500 * time.Millisecond
		if at > p.cfg.MaxWait {
			break
		}
		if err := sleep(ctx, time.Until(c.rotatedAt.Add(at))); err != nil {
			return err
		}
		p.progress("grace window: replay %s %.1f s after the rotation", p.label('R', c.spent.Refresh), at.Seconds())
		a, _, err := p.refresh(ctx, c.spent.Refresh)
		if err != nil {
			return err
		}
		actual := time.Since(c.rotatedAt).Seconds()
		req := fmt.Sprintf("replay the spent %s %.2f s after the rotation", p.label('R', c.spent.Refresh), actual)
		if a.Status/100 == 2 {
			ev.add(req, a, "accepted")
			lastAccepted = actual
			continue
		}
		ev.add(req, a, "refused")
		firstRefused = actual
		break
	}
	switch {
	case firstRefused < 0:
		p.window = Grace{Seconds: p.cfg.MaxWait.Seconds(), Beyond: true}
		p.report.Traits.OldRefreshAfterRotation = ptr(OldAccepted)
	case lastAccepted < 0:
		p.window = Grace{}
		p.report.Traits.OldRefreshAfterRotation = ptr(OldRefused)
	default:
		p.window = Grace{Seconds: round1((lastAccepted + firstRefused) / 2)}
		p.report.Traits.OldRefreshAfterRotation = ptr(OldAcceptedWithin)
	}
	p.report.Traits.GraceWindowS = ptr(p.window)
	return nil
}

// measureReuse: on a new chain, wait 1.5 s past the window, replay the
// spent token, check the newest access token, then refresh the newest
// refresh token.
func (p *prober) measureReuse(ctx context.Context) error {
	if p.report.Traits.GraceWindowS == nil {
		return nil
	}
	ev := p.evidence("reuse_outside_grace", "reuse_error", "reuse_revokes_access_tokens")
	p.progress("chain 2: log in and rotate")
	c, err := p.newChain(ctx, ev, "chain 2 (reuse outside the grace window)")
	if err != nil {
		return err
	}
	wait := time.Duration((p.window.Seconds + 1.5) * float64(time.Second))
	p.progress("reuse: wait %.1f s past the rotation", wait.Seconds())
	if err := sleep(ctx, time.Until(c.rotatedAt.Add(wait))); err != nil {
		return err
	}
	check := p.accessCheck(ctx, ev, c.newest.Access)
	a, _, err := p.refresh(ctx, c.spent.Refresh)
	if err != nil {
		return err
	}
	req := fmt.Sprintf("replay the spent %s %.1f s after the rotation", p.label('R', c.spent.Refresh), time.Since(c.rotatedAt).Seconds())
	if a.Status/100 == 2 {
		ev.add(req, a, "accepted")
		p.report.Traits.ReuseOutsideGrace = ptr(ReuseAccepted)
	} else {
		ev.add(req, a, "refused")
		p.report.Traits.ReuseError = &ReuseError{Status: a.Status, Error: a.Error}
	}
	p.report.Traits.ReuseRevokesAccessTokens = p.accessRevoked(ctx, ev, check, c.newest.Access)
	if a.Status/100 == 2 {
		return nil
	}
	b, _, err := p.refresh(ctx, c.newest.Refresh)
	if err != nil {
		return err
	}
	if b.Status/100 == 2 {
		ev.add("refresh the newest "+p.label('R', c.newest.Refresh), b, "accepted: only the spent token was refused")
		p.report.Traits.ReuseOutsideGrace = ptr(ReuseRefusesToken)
	} else {
		ev.add("refresh the newest "+p.label('R', c.newest.Refresh), b, "refused: the reuse revoked the family")
		p.report.Traits.ReuseOutsideGrace = ptr(ReuseRevokesFamily)
	}
	return nil
}

// accessCheck picks, once, the first way to check access tokens that
// calls a fresh one good; nil when none does.
func (p *prober) accessCheck(ctx context.Context, ev evidence, fresh string) *accessCheck {
	if p.checkTried {
		return p.check
	}
	p.checkTried = true
	for _, c := range p.accessChecks() {
		active, a, err := c.ask(ctx, fresh)
		switch {
		case err != nil:
			ev.add("check "+p.label('A', fresh)+" by "+c.Name, a, "unusable: "+err.Error())
		case !active:
			ev.add("check the fresh "+p.label('A', fresh)+" by "+c.Name, a, "unusable: it does not call a fresh access token good")
		default:
			ev.add("check the fresh "+p.label('A', fresh)+" by "+c.Name, a, "good: access tokens are checked this way")
			p.check = &c
			p.report.AccessCheck = c.Name
			return p.check
		}
	}
	ev.note("no way to check an access token (no introspection or userinfo the client may use, no --protected URL): access-token traits are null")
	return nil
}

// accessRevoked asks whether an access token died: nil without a check.
func (p *prober) accessRevoked(ctx context.Context, ev evidence, check *accessCheck, token string) *bool {
	if check == nil {
		return nil
	}
	active, a, err := check.ask(ctx, token)
	if err != nil {
		ev.add("check "+p.label('A', token)+" by "+check.Name, a, "failed: "+err.Error())
		return nil
	}
	if active {
		ev.add("check "+p.label('A', token)+" by "+check.Name, a, "still good")
	} else {
		ev.add("check "+p.label('A', token)+" by "+check.Name, a, "revoked")
	}
	return ptr(!active)
}

// measureConcurrent: five refreshes of one fresh token released together;
// five 200 → all_win, else refresh each winner's new token 0.5 s later.
func (p *prober) measureConcurrent(ctx context.Context) error {
	if p.report.Traits.GraceWindowS == nil {
		return nil
	}
	ev := p.evidence("concurrent_refresh")
	p.progress("chain 3: five refreshes at once")
	t, err := p.login(ctx, ev, "chain 3 (concurrent refresh)")
	if err != nil {
		return err
	}
	const n = 5
	var (
		wg      sync.WaitGroup
		release = make(chan struct{})
		answers [n]answer
		got     [n]tokens
		errs    [n]error
	)
	for i := range n {
		wg.Go(func() {
			<-release
			answers[i], got[i], errs[i] = p.refresh(ctx, t.Refresh)
		})
	}
	close(release)
	wg.Wait()
	var winners []tokens
	for i := range n {
		if errs[i] != nil {
			return errs[i]
		}
		outcome := "refused"
		if answers[i].Status/100 == 2 {
			outcome = "accepted: " + p.label('R', got[i].Refresh)
			if got[i].Refresh == "" {
				got[i].Refresh = t.Refresh
			}
			winners = append(winners, got[i])
		}
		ev.add(fmt.Sprintf("refresh %s (%d of %d at once)", p.label('R', t.Refresh), i+1, n), answers[i], outcome)
	}
	if len(winners) == n {
		p.report.Traits.ConcurrentRefresh = ptr(ConcurrentAllWin)
		return nil
	}
	if err := sleep(ctx, 500*time.Millisecond); err != nil {
		return err
	}
	verdict := ConcurrentFamily
	for _, w := range winners {
		a, _, err := p.refresh(ctx, w.Refresh)
		if err != nil {
			return err
		}
		outcome := "refused"
		if a.Status/100 == 2 {
			outcome, verdict = "accepted", ConcurrentOneWins
		}
		ev.add("refresh the winner's "+p.label('R', w.Refresh)+" 0.5 s later", a, outcome)
	}
	p.report.Traits.ConcurrentRefresh = ptr(verdict)
	return nil
}

// measureRevocation (RFC 7009): revoke the spent token right after a
// rotation, then refresh the newest (refused → family); otherwise revoke
// the current refresh token and refresh it (refused → token, accepted →
// none). No revocation endpoint → none.
func (p *prober) measureRevocation(ctx context.Context) error {
	if p.report.Traits.GraceWindowS == nil {
		return nil
	}
	ev := p.evidence("revocation", "revocation_revokes_access_tokens")
	if p.meta.Revocation == "" {
		ev.note("the discovery document names no revocation_endpoint")
		p.report.Traits.Revocation = ptr(RevocationNone)
		return nil
	}
	p.progress("chain 4: revocation")
	c, err := p.newChain(ctx, ev, "chain 4 (revocation)")
	if err != nil {
		return err
	}
	check := p.accessCheck(ctx, ev, c.newest.Access)
	cur := c.newest
	if c.rotated {
		a, err := p.revoke(ctx, c.spent.Refresh)
		if err != nil {
			return err
		}
		ev.add("revoke the spent "+p.label('R', c.spent.Refresh), a, "")
		revoked := p.accessRevoked(ctx, ev, check, c.newest.Access)
		b, next, err := p.refresh(ctx, c.newest.Refresh)
		if err != nil {
			return err
		}
		if b.Status/100 != 2 {
			ev.add("refresh the newest "+p.label('R', c.newest.Refresh), b, "refused: revoking one token revoked the family")
			p.report.Traits.Revocation = ptr(RevocationFamily)
			p.report.Traits.RevocationRevokesAccessTokens = revoked
			return nil
		}
		ev.add("refresh the newest "+p.label('R', c.newest.Refresh), b, "accepted")
		if next.Refresh == "" {
			next.Refresh = cur.Refresh
		}
		cur = next
	}
	a, err := p.revoke(ctx, cur.Refresh)
	if err != nil {
		return err
	}
	ev.add("revoke the current "+p.label('R', cur.Refresh), a, "")
	p.report.Traits.RevocationRevokesAccessTokens = p.accessRevoked(ctx, ev, check, cur.Access)
	b, _, err := p.refresh(ctx, cur.Refresh)
	if err != nil {
		return err
	}
	if b.Status/100 == 2 {
		ev.add("refresh the revoked "+p.label('R', cur.Refresh), b, "accepted: revocation revoked nothing")
		p.report.Traits.Revocation = ptr(RevocationNone)
	} else {
		ev.add("refresh the revoked "+p.label('R', cur.Refresh), b, "refused: revocation revokes the token")
		p.report.Traits.Revocation = ptr(RevocationToken)
	}
	return nil
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
