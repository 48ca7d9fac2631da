package probe

import (
	"math"
	"time"
)

// Preset is one provider's expected traits, for closest_preset.
//
// THE SERVER'S PRESETS MUST MATCH THIS TABLE: `tokenlab serve --preset
// NAME` (issue 16, points 1–2) is to imitate each provider so that
// `tokenlab probe` of the preset gives these values. When a preset's rule
// changes there, change it here too (TestPresetsComplete checks only that
// every preset has every trait). The values come from the text
// and, where it is silent, the vendor's default settings; docs/probe.md
// lists which is which.
type Preset struct {
	Name                    string
	Rotates                 bool
	GraceS                  float64 // seconds the spent token stays good; Forever for always
	ReuseOutsideGrace       string
	ReuseRevokesAccess      *bool
	ReuseError              *ReuseError // nil when a reuse is accepted
	Concurrent              string
	Revocation              string
	RevocationRevokesAccess *bool // nil: no revocation endpoint
	PKCE                    string
	Iss                     bool
	IDToken                 bool
}

// Forever is a grace window that never ends (the old token stays good).
var Forever = math.Inf(1)

var (
	yes = ptr(true)
	no  = ptr(false)
)

func refusal(status int, code string) *ReuseError { return &ReuseError{Status: status, Error: code} }

// Presets are the providers closest_preset compares with, in the order
// of `tokenlab serve --preset list`.
var Presets = []Preset{
	// Auth0: rotation with breach detection (the family dies), 403 for a
	// reuse; the overlap period (leeway) is 0 by default.
	{Name: "auth0", Rotates: true, GraceS: 0, ReuseOutsideGrace: ReuseRevokesFamily, ReuseRevokesAccess: no,
		ReuseError: refusal(403, "invalid_grant"), Concurrent: ConcurrentFamily, Revocation: RevocationFamily,
		RevocationRevokesAccess: no, PKCE: PKCEOptional, Iss: false, IDToken: true},
	// Okta: the old token stays good for a grace period (30 s by default,
	// up to 60 s); a reuse after it revokes the family.
	{Name: "okta", Rotates: true, GraceS: 30, ReuseOutsideGrace: ReuseRevokesFamily, ReuseRevokesAccess: no,
		ReuseError: refusal(400, "invalid_grant"), Concurrent: ConcurrentAllWin, Revocation: RevocationFamily,
		RevocationRevokesAccess: yes, PKCE: PKCERequiredS256, Iss: false, IDToken: true},
	// Cognito (with rotation on): a grace period of up to 60 s; a spent
	// token is refused after it, nothing else is revoked.
	{Name: "cognito", Rotates: true, GraceS: 60, ReuseOutsideGrace: ReuseRefusesToken, ReuseRevokesAccess: no,
		ReuseError: refusal(400, "invalid_grant"), Concurrent: ConcurrentAllWin, Revocation: RevocationToken,
		RevocationRevokesAccess: yes, PKCE: PKCEOptional, Iss: false, IDToken: true},
	// Keycloak (Revoke Refresh Token off, its default): a new refresh
	// token every time, and the old ones keep working.
	{Name: "keycloak", Rotates: true, GraceS: Forever, ReuseOutsideGrace: ReuseAccepted, ReuseRevokesAccess: no,
		Concurrent: ConcurrentAllWin, Revocation: RevocationFamily, RevocationRevokesAccess: yes,
		PKCE: PKCEOptional, Iss: true, IDToken: true},
	// Entra ID: a new refresh token, but the old one keeps working; no
	// RFC 7009 revocation endpoint.
	{Name: "entra", Rotates: true, GraceS: Forever, ReuseOutsideGrace: ReuseAccepted, ReuseRevokesAccess: no,
		Concurrent: ConcurrentAllWin, Revocation: RevocationNone, RevocationRevokesAccess: nil,
		PKCE: PKCEOptional, Iss: false, IDToken: true},
	// Ory Hydra: a reuse revokes the whole chain, access tokens included;
	// the grace period is optional (0 by default). Revocation as Hydra
	// v2.3.0 measures (cmd/tokenlab's TestProbeHydra): revoking the spent
	// token is ignored, revoking the current one revokes it (and the chain:
	// with a grace period, where the spent token is live, that shows as
	// family).
	{Name: "hydra", Rotates: true, GraceS: 0, ReuseOutsideGrace: ReuseRevokesFamily, ReuseRevokesAccess: yes,
		ReuseError: refusal(400, "invalid_grant"), Concurrent: ConcurrentFamily, Revocation: RevocationToken,
		RevocationRevokesAccess: yes, PKCE: PKCEOptional, Iss: false, IDToken: true},
	// Dex: reuse allowed within reuseInterval (3 s by default), refused
	// after it with invalid_request, nothing else revoked; no revocation
	// endpoint.
	{Name: "dex", Rotates: true, GraceS: 3, ReuseOutsideGrace: ReuseRefusesToken, ReuseRevokesAccess: no,
		ReuseError: refusal(400, "invalid_request"), Concurrent: ConcurrentAllWin, Revocation: RevocationNone,
		RevocationRevokesAccess: nil, PKCE: PKCEOptional, Iss: false, IDToken: true},
	// node-oidc-provider: a reuse revokes the whole grant; PKCE S256 only,
	// required; iss in authorization responses (RFC 9207).
	{Name: "oidc-provider", Rotates: true, GraceS: 0, ReuseOutsideGrace: ReuseRevokesFamily, ReuseRevokesAccess: yes,
		ReuseError: refusal(400, "invalid_grant"), Concurrent: ConcurrentFamily, Revocation: RevocationFamily,
		RevocationRevokesAccess: yes, PKCE: PKCERequiredS256, Iss: true, IDToken: true},
	// zitadel: the spent token is refused and nothing else is revoked;
	// revocation and PKCE as the zitadel/oidc example OP measures
	// (cmd/tokenlab's TestProbeZitadelOP): revoking a refresh token deletes
	// its access token, and a plain challenge is accepted.
	{Name: "zitadel", Rotates: true, GraceS: 0, ReuseOutsideGrace: ReuseRefusesToken, ReuseRevokesAccess: no,
		ReuseError: refusal(400, "invalid_grant"), Concurrent: ConcurrentOneWins, Revocation: RevocationToken,
		RevocationRevokesAccess: yes, PKCE: PKCES256OrPlain, Iss: false, IDToken: true},
	// permissive: accepts any refresh token, like the popular mocks; PKCE
	// as oauth2-mock-server measures (cmd/tokenlab's
	// TestProbeOAuth2MockServer): a wrong verifier is refused, a login
	// without a challenge accepted.
	{Name: "permissive", Rotates: true, GraceS: Forever, ReuseOutsideGrace: ReuseAccepted, ReuseRevokesAccess: no,
		Concurrent: ConcurrentAllWin, Revocation: RevocationNone, RevocationRevokesAccess: no,
		PKCE: PKCEOptional, Iss: false, IDToken: true},
}

// reuseReplayAfter is how long after the window the reuse chain replays.
const reuseReplayAfter = 1.5

// Expected is what a probe bounded by maxWait should measure of the
// preset: a window longer than the wait shows as ">wait", and a replay
// still inside the window is accepted.
func (ps Preset) Expected(maxWait time.Duration) Traits {
	wait := maxWait.Seconds()
	t := Traits{
		RotatesRefreshToken:           ptr(ps.Rotates),
		ReuseOutsideGrace:             ptr(ps.ReuseOutsideGrace),
		ReuseRevokesAccessTokens:      ps.ReuseRevokesAccess,
		ReuseError:                    ps.ReuseError,
		ConcurrentRefresh:             ptr(ps.Concurrent),
		Revocation:                    ptr(ps.Revocation),
		RevocationRevokesAccessTokens: ps.RevocationRevokesAccess,
		PKCE:                          ptr(ps.PKCE),
		IssInAuthorizationResponse:    ptr(ps.Iss),
		IDToken:                       ptr(ps.IDToken),
	}
	switch {
	case ps.GraceS > wait:
		t.OldRefreshAfterRotation = ptr(OldAccepted)
		t.GraceWindowS = &Grace{Seconds: wait, Beyond: true}
		// The reuse chain replays at wait+1.5 s: still inside the window.
		if ps.GraceS > wait+reuseReplayAfter {
			t.ReuseOutsideGrace, t.ReuseError, t.ReuseRevokesAccessTokens = ptr(ReuseAccepted), nil, no
		}
	case ps.GraceS > 0:
		t.OldRefreshAfterRotation = ptr(OldAcceptedWithin)
		t.GraceWindowS = &Grace{Seconds: ps.GraceS}
	default:
		t.OldRefreshAfterRotation = ptr(OldRefused)
		t.GraceWindowS = &Grace{}
	}
	return t
}

// Match is closest_preset: the preset that agrees on the most measured
// traits, and which traits agree.
type Match struct {
	Name       string   `json:"name"`
	Matches    []string `json:"matches"`
	Differs    []string `json:"differs"`
	Unmeasured []string `json:"unmeasured,omitempty"`
}

// Closest compares measured traits with every preset; ties go to the
// earlier preset in the table. When no measured trait agrees with any
// preset the name is empty: nothing is close.
func Closest(measured Traits, maxWait time.Duration) Match {
	var best Match
	for i, ps := range Presets {
		m := Compare(measured, ps.Expected(maxWait))
		m.Name = ps.Name
		if i == 0 || len(m.Matches) > len(best.Matches) {
			best = m
		}
	}
	if len(best.Matches) == 0 {
		best.Name = ""
	}
	return best
}

// Compare says, trait by trait, whether measured agrees with expected. A
// trait measured as null is unmeasured; grace windows agree within 1 s.
func Compare(measured, expected Traits) Match {
	m := Match{Matches: []string{}, Differs: []string{}}
	got, want := measured.values(), expected.values()
	for _, k := range TraitKeys {
		switch g, w := got[k], want[k]; {
		case g == nil && w == nil && nullIsAnswer(k, got):
			m.Matches = append(m.Matches, k)
		case g == nil:
			m.Unmeasured = append(m.Unmeasured, k)
		case equalTrait(k, g, w):
			m.Matches = append(m.Matches, k)
		default:
			m.Differs = append(m.Differs, k)
		}
	}
	return m
}

// nullIsAnswer: reuse_error is null because a reuse was accepted, and
// revocation_revokes_access_tokens because there is no revocation; both
// are then answers, not gaps.
func nullIsAnswer(key string, got map[string]any) bool {
	switch key {
	case "reuse_error":
		return got["reuse_outside_grace"] == ReuseAccepted
	case "revocation_revokes_access_tokens":
		return got["revocation"] == RevocationNone
	}
	return false
}

func equalTrait(key string, got, want any) bool {
	if want == nil {
		return false
	}
	if key == "grace_window_s" {
		g, w := got.(Grace), want.(Grace)
		return g.Beyond == w.Beyond && math.Abs(g.Seconds-w.Seconds) <= 1
	}
	return got == want
}

// values maps each trait key to its value (nil for null), dereferenced so
// that values compare with ==.
func (t Traits) values() map[string]any {
	v := map[string]any{}
	put := func(k string, ok bool, val any) {
		if ok {
			v[k] = val
		} else {
			v[k] = nil
		}
	}
	put("rotates_refresh_token", t.RotatesRefreshToken != nil, deref(t.RotatesRefreshToken))
	put("old_refresh_after_rotation", t.OldRefreshAfterRotation != nil, deref(t.OldRefreshAfterRotation))
	put("grace_window_s", t.GraceWindowS != nil, deref(t.GraceWindowS))
	put("reuse_outside_grace", t.ReuseOutsideGrace != nil, deref(t.ReuseOutsideGrace))
	put("reuse_revokes_access_tokens", t.ReuseRevokesAccessTokens != nil, deref(t.ReuseRevokesAccessTokens))
	put("reuse_error", t.ReuseError != nil, deref(t.ReuseError))
	put("concurrent_refresh", t.ConcurrentRefresh != nil, deref(t.ConcurrentRefresh))
	put("revocation", t.Revocation != nil, deref(t.Revocation))
	put("revocation_revokes_access_tokens", t.RevocationRevokesAccessTokens != nil, deref(t.RevocationRevokesAccessTokens))
	put("pkce", t.PKCE != nil, deref(t.PKCE))
	put("iss_in_authorization_response", t.IssInAuthorizationResponse != nil, deref(t.IssInAuthorizationResponse))
	put("id_token", t.IDToken != nil, deref(t.IDToken))
	return v
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
