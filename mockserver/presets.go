package mockserver

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// Vendor presets (issue 16): each is a Policy that imitates one
// provider's refresh-token rules and the words of its refusals, so that an
// app can be tested against "Auth0's rules" or "Dex's" without an account
// there. The traits `tokenlab probe` measures of `tokenlab serve --preset
// NAME` must be probe/presets.go's expected values for NAME (the end-to-end
// test in cmd/tokenlab checks every preset); docs/presets.md cites, trait by
// trait, the vendor documentation each value comes from.

// Preset is one provider's rules.
type Preset struct {
	Name   string
	Vendor string // who it imitates, for the list
	Policy Policy
	// Refusals words the OAuth token endpoint's refusals (by tokenlab's own
	// code: token_reused, token_revoked, …) as the vendor does; the entry
	// "" is for every refused grant without its own entry.
	Refusals map[string]Refusal
}

// Refusal is one refusal as a vendor answers it.
type Refusal struct {
	Status      int
	Error       string
	Description string
}

const (
	day     = 24 * time.Hour
	forever = maxLifetime // "unlimited" at the vendor: as long as any lifetime may be
)

// base is tokenlab's own policy with the given lifetimes.
func base(access, refreshIdle, refreshAbsolute time.Duration) Policy {
	p := DefaultConfig().Policy
	p.AccessTTL, p.RefreshTTL, p.SessionMax = access, refreshIdle, refreshAbsolute
	return p
}

// invalidGrant is a 400 invalid_grant with the description.
func invalidGrant(desc string) Refusal {
	return Refusal{Status: http.StatusBadRequest, Error: "invalid_grant", Description: desc}
}

// presets is the table, in the order of `tokenlab serve --preset list`
// and of probe.Presets. Each policy starts from tokenlab's own rules; a
// refresh lifetime that is the same as the absolute one is absolute (a
// rotated token keeps its family's deadline), a shorter one is an idle
// lifetime (each new token lives that long from its issue).
func presets() []Preset {
	auth0 := base(24*time.Hour, 30*day, 365*day)
	auth0.GracePrevious, auth0.PKCE, auth0.OmitIss = true, PKCEOptional, true // leeway 0 by default; when set, only the previous token

	okta := base(time.Hour, 7*day, forever)
	okta.ReuseGrace, okta.GracePrevious, okta.RevocationRevokesAccess, okta.PKCE = 30*time.Second, true, true, PKCERequired
	okta.OmitIss = true

	cognito := base(time.Hour, 30*day, 30*day)
	cognito.ReuseGrace, cognito.ReuseDetection, cognito.RevocationRevokesAccess = 60*time.Second, false, true
	cognito.Revocation, cognito.PKCE, cognito.OmitIss = RevokeToken, PKCEOptional, true

	// Keycloak with Revoke Refresh Token off (its default): every old
	// token stays good. Turn it on with grace_previous and grace_replays
	// (Refresh Token Max Reuse), and reuse_detection off.
	keycloak := base(5*time.Minute, 30*time.Minute, 10*time.Hour)
	keycloak.GraceForever, keycloak.RevocationRevokesAccess, keycloak.PKCE = true, true, PKCEOptional

	entra := base(time.Hour, 90*day, forever)
	entra.GraceForever, entra.Revocation, entra.PKCE, entra.OmitIss = true, RevokeAbsent, PKCEOptional, true

	hydra := base(time.Hour, 30*day, forever)
	hydra.ReuseRevokesAccess, hydra.RevocationRevokesAccess, hydra.PKCE, hydra.OmitIss = true, true, PKCEOptional, true
	// As Hydra v2.3.0 measures (TestProbeHydra): revoking a spent token is
	// ignored; revoking the current one, or a spent one inside the grace
	// period, revokes the chain and its access tokens.
	hydra.Revocation = RevokeLiveFamily

	dex := base(24*time.Hour, 90*day, 165*day)
	// Dex keeps one obsolete token beside the current one: the grace is for
	// the previous token only.
	dex.ReuseGrace, dex.GracePrevious, dex.ReuseDetection, dex.Revocation = 3*time.Second, true, false, RevokeAbsent
	dex.PKCE, dex.OmitIss = PKCEOptional, true

	oidcProvider := base(time.Hour, 14*day, 14*day)
	oidcProvider.ReuseRevokesAccess, oidcProvider.RevocationRevokesAccess = true, true

	zitadel := base(12*time.Hour, 30*day, 90*day)
	// As the zitadel/oidc example OP measures (TestProbeZitadelOP): plain
	// PKCE is accepted, and revoking a refresh token deletes its access token.
	zitadel.ReuseDetection, zitadel.Revocation, zitadel.OmitIss = false, RevokeToken, true
	zitadel.PKCE, zitadel.RevocationRevokesAccess = PKCEPlain, true

	// permissive: like the popular mocks, every refresh token it issued
	// stays good and revocation does nothing. PKCE is optional, as
	// oauth2-mock-server measures (TestProbeOAuth2MockServer): a challenge
	// is checked when one was sent, and a login without one is accepted.
	permissive := base(time.Hour, forever, forever)
	permissive.GraceForever, permissive.Revocation, permissive.PKCE, permissive.OmitIss = true, RevokeNothing, PKCEOptional, true

	list := []Preset{
		{Name: "auth0", Vendor: "Auth0 (Okta CIC)", Policy: auth0, Refusals: map[string]Refusal{
			"": {Status: http.StatusForbidden, Error: "invalid_grant", Description: "Unknown or invalid refresh token."}}},
		{Name: "okta", Vendor: "Okta", Policy: okta, Refusals: map[string]Refusal{
			"": invalidGrant("The refresh token is invalid or expired.")}},
		{Name: "cognito", Vendor: "Amazon Cognito (rotation)", Policy: cognito, Refusals: map[string]Refusal{
			"":                 invalidGrant("Invalid Refresh Token"),
			codeTokenRevoked:   invalidGrant("Refresh Token has been revoked"),
			codeTokenExpired:   invalidGrant("Refresh Token has expired"),
			codeSessionExpired: invalidGrant("Refresh Token has expired")}},
		{Name: "keycloak", Vendor: "Keycloak", Policy: keycloak, Refusals: map[string]Refusal{
			"":                 invalidGrant("Invalid refresh token"),
			codeTokenReused:    invalidGrant("Maximum allowed refresh token reuse exceeded"),
			codeTokenRevoked:   invalidGrant("Session not active"),
			codeTokenExpired:   invalidGrant("Token is not active"),
			codeSessionExpired: invalidGrant("Session not active")}},
		{Name: "entra", Vendor: "Microsoft Entra ID", Policy: entra, Refusals: map[string]Refusal{
			"":                 invalidGrant("AADSTS9002313: Invalid request. Request is malformed or invalid."),
			codeTokenRevoked:   invalidGrant("AADSTS50173: The provided grant has expired due to it being revoked."),
			codeTokenExpired:   invalidGrant("AADSTS700082: The refresh token has expired due to inactivity."),
			codeSessionExpired: invalidGrant("AADSTS700082: The refresh token has expired due to inactivity.")}},
		{Name: "hydra", Vendor: "Ory Hydra", Policy: hydra, Refusals: map[string]Refusal{
			"": invalidGrant("The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")}},
		{Name: "dex", Vendor: "Dex", Policy: dex, Refusals: map[string]Refusal{
			"": {Status: http.StatusBadRequest, Error: "invalid_request", Description: "Refresh token is invalid or has already been claimed by another client."}}},
		{Name: "oidc-provider", Vendor: "node-oidc-provider", Policy: oidcProvider, Refusals: map[string]Refusal{
			"": invalidGrant("grant request is invalid")}},
		{Name: "zitadel", Vendor: "ZITADEL", Policy: zitadel, Refusals: map[string]Refusal{
			"": invalidGrant("Errors.User.RefreshToken.Invalid")}},
		{Name: "permissive", Vendor: "mocks like oauth2-mock-server", Policy: permissive, Refusals: map[string]Refusal{}},
	}
	for i := range list {
		list[i].Policy.Preset = list[i].Name
		if list[i].Policy.Errors == "" && len(list[i].Refusals) > 0 {
			list[i].Policy.Errors = list[i].Name
		}
	}
	return list
}

// Presets returns the presets, in the order of `tokenlab serve --preset
// list`.
func Presets() []Preset { return presets() }

// PresetNames lists the presets' names.
func PresetNames() []string {
	var names []string
	for _, p := range presets() {
		names = append(names, p.Name)
	}
	return names
}

// PresetByName finds a preset.
func PresetByName(name string) (Preset, bool) {
	for _, p := range presets() {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

// PresetPolicy is the policy of the named preset; "" is tokenlab's own.
func PresetPolicy(name string) (Policy, error) {
	if name == "" {
		return DefaultConfig().Policy, nil
	}
	p, ok := PresetByName(name)
	if !ok {
		return Policy{}, unknownPreset(name)
	}
	return p.Policy, nil
}

func isPreset(name string) bool {
	_, ok := PresetByName(name)
	return ok
}

func unknownPreset(name string) error {
	return fmt.Errorf("unknown preset %q; the presets are %s (tokenlab serve --preset list)", name, strings.Join(PresetNames(), ", "))
}

// vendorRefusal is how the policy's vendor words a refused grant; false
// when the policy speaks tokenlab's own dialect.
func (p Policy) vendorRefusal(e *Error) (Refusal, bool) {
	if p.Errors == "" || !e.Grant {
		return Refusal{}, false
	}
	pre, ok := PresetByName(p.Errors)
	if !ok {
		return Refusal{}, false
	}
	if r, ok := pre.Refusals[e.Code]; ok {
		return r, true
	}
	r, ok := pre.Refusals[""]
	return r, ok
}

// accessRevoked says whether an access token of fam issued at iat is
// refused because of a revocation the policy lets reach access tokens: a
// reuse (ReuseRevokesAccess), a revocation or logout
// (RevocationRevokesAccess), or any (AccessDenylist). A token-only
// revocation reaches the access tokens issued up to it (JWT times are
// whole seconds, so one issued in that same second counts as before it).
func (p Policy) accessRevoked(fam auth.Family, iat time.Time) bool {
	byReuse := p.AccessDenylist || p.ReuseRevokesAccess
	byRevocation := p.AccessDenylist || p.RevocationRevokesAccess
	switch {
	case fam.Revoked() && fam.RevokeReason == "reuse_detected":
		return byReuse
	case fam.Revoked():
		return byRevocation
	case !fam.AccessRevokedAt.IsZero():
		return byRevocation && iat.Unix() <= fam.AccessRevokedAt.Unix()
	}
	return false
}

// errNoRevocation answers the revocation route of a preset without one
// (Entra ID and Dex have no RFC 7009 endpoint).
var errNoRevocation = &Error{Status: http.StatusNotFound, Code: "not_found",
	Message: "no such route: /oauth/revoke (this server's preset has no revocation endpoint)"}

// checksAccess says whether any revocation can reach access tokens, so
// that a request need not read the family otherwise.
func (p Policy) checksAccess() bool {
	return p.AccessDenylist || p.ReuseRevokesAccess || p.RevocationRevokesAccess
}

// revokeReason says why an access token's session was revoked.
func revokeReason(fam auth.Family) string {
	if fam.Revoked() {
		return fam.RevokeReason
	}
	return "its refresh token was revoked"
}

// issuedAt is an access token's iat; zero when a token signed elsewhere
// with the configured secret has none (then every revocation reaches it).
func issuedAt(c *AccessClaims) time.Time {
	if c == nil || c.IssuedAt == nil {
		return time.Time{}
	}
	return c.IssuedAt.Time
}

// writeVendorRefusal answers a refused grant on an OAuth route in the
// words of the policy's vendor, and reports whether it did. tokenlab's
// own code stays visible to a person only in the server's event log.
func (s *Server) writeVendorRefusal(w http.ResponseWriter, e *Error) bool {
	v, ok := s.Policy().vendorRefusal(e)
	if ok {
		writeJSON(w, v.Status, oauthErrorBody{Error: v.Error, Description: v.Description})
	}
	return ok
}

// ReuseRefusal is how the preset answers a reuse its rules refuse: its
// vendor's words, else the OAuth dialect's 400 invalid_grant.
func (p Preset) ReuseRefusal() Refusal {
	if r, ok := p.Policy.vendorRefusal(&Error{Code: codeTokenReused, Grant: true}); ok {
		return r
	}
	return invalidGrant("")
}

// liveRefresh says whether a refresh token could still be redeemed: it is
// unused, or spent but inside the grace (ReuseGrace, GraceForever).
func (p Policy) liveRefresh(t auth.RefreshToken, now time.Time) bool {
	return t.UsedAt.IsZero() || p.GraceForever || (p.ReuseGrace > 0 && now.Sub(t.UsedAt) <= p.ReuseGrace)
}
