package scenarios

import (
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/mockserver"
)

// presetScenarios show, one scenario per preset, the rule that sets it
// apart, played with the oauth2 profile (a preset's refusals are in its
// vendor's words on the OAuth routes) against the embedded server on its
// frozen clock.
var presetScenarios = map[string]string{
	// Auth0's overlap period lets only the immediately previous token back
	// in: the previous-but-one is a breach even inside it. (Its leeway is 0
	// by default; 10 s here.)
	"auth0": `name: auth0-previous-but-one
description: Inside the overlap period only the previous token is accepted.
server: {preset: auth0, reuse_grace: 10s}
steps:
  - login: {}
  - save: {token: refresh, as: r1}
  - refresh:
  - save: {token: refresh, as: r2}
  - refresh:
    expect: {status: 200, rotations: 1}
  - save: {token: access, as: last-access}
  - replay: r2
    say: The previous token, inside the overlap period, is accepted.
    expect: {status: 200, no_events: [reuse_detected]}
  - replay: r1
    say: The previous-but-one, still inside the overlap period, is a breach.
    expect: {status: 403, error: invalid_grant, events: [reuse_detected, family_revoked]}
  - request: {path: /protected, token: last-access}
    say: Auth0's access tokens outlive the breach.
    expect: {status: 200}
`,
	// Okta keeps the spent token for 30 s; a reuse after that revokes the
	// family.
	"okta": `name: okta-grace
description: Okta's 30 s grace period.
server: {preset: okta}
steps:
  - login: {}
  - save: {token: refresh, as: spent}
  - refresh:
  - advance: 29s
  - replay: spent
    expect: {status: 200}
  - advance: 2s
  - replay: spent
    expect: {status: 400, error: invalid_grant, events: [reuse_detected, family_revoked]}
`,
	// Cognito keeps the spent token 60 s, then refuses it and revokes
	// nothing else.
	"cognito": `name: cognito-grace-then-token-only
description: Cognito's retry grace period, after which only the spent token is refused.
server: {preset: cognito}
steps:
  - login: {}
  - save: {token: refresh, as: spent}
  - refresh:
  - advance: 59s
  - replay: spent
    expect: {status: 200}
  - advance: 2s
  - replay: spent
    expect: {status: 400, error: invalid_grant, no_events: [family_revoked]}
  - refresh:
    say: The session goes on.
    expect: {status: 200}
`,
	// Keycloak with Revoke Refresh Token on and Refresh Token Max Reuse 2:
	// the spent token may come back twice, the third time is refused; by
	// default (Revoke Refresh Token off) it is never refused.
	"keycloak": `name: keycloak-reuse-count
description: Keycloak's Refresh Token Max Reuse.
server: {preset: keycloak, grace_previous: true, grace_replays: 2, reuse_detection: false}
steps:
  - login: {}
  - save: {token: refresh, as: spent}
  - refresh:
  - replay: spent
    expect: {status: 200}
  - replay: spent
    expect: {status: 200}
  - replay: spent
    say: The third reuse is one more than Refresh Token Max Reuse allows.
    expect: {status: 400, error: invalid_grant, no_events: [family_revoked]}
`,
	// Entra ID hands out a new refresh token, and the old one keeps
	// working.
	"entra": `name: entra-old-token-works
description: Entra ID's old refresh tokens stay good.
server: {preset: entra}
steps:
  - login: {}
  - save: {token: refresh, as: old}
  - refresh:
    expect: {rotations: 1}
  - advance: 1d
  - replay: old
    say: A day after it was replaced, the old refresh token still works.
    expect: {status: 200, no_events: [reuse_detected]}
`,
	// Hydra revokes the whole chain on a reuse, access tokens included.
	"hydra": `name: hydra-reuse-kills-access
description: Hydra's reuse revokes the chain and its access tokens.
server: {preset: hydra}
steps:
  - login: {}
  - save: {token: refresh, as: spent}
  - refresh:
  - save: {token: access, as: last-access}
  - request: /protected
    expect: {status: 200}
  - replay: spent
    expect: {status: 400, error: invalid_grant, events: [reuse_detected, family_revoked]}
  - request: {path: /protected, token: last-access}
    say: The access token of the revoked chain is refused too.
    expect: {status: 401, error: token_revoked}
`,
	// Dex refuses a refresh token after its reuse interval with
	// invalid_request, not invalid_grant.
	"dex": `name: dex-invalid-request
description: Dex's reuse interval and its invalid_request.
server: {preset: dex}
steps:
  - login: {}
  - save: {token: refresh, as: spent}
  - refresh:
  - advance: 2s
  - replay: spent
    expect: {status: 200}
  - advance: 2s
  - replay: spent
    expect: {status: 400, error: invalid_request, no_events: [family_revoked]}
  - refresh:
    expect: {status: 200}
`,
	// node-oidc-provider's rotated refresh tokens keep the grant's 14-day
	// deadline: refreshing does not extend it.
	"oidc-provider": `name: oidc-provider-absolute-lifetime
description: node-oidc-provider's refresh lifetime is absolute.
server: {preset: oidc-provider}
steps:
  - login: {}
  - advance: 10d
  - refresh:
    expect: {status: 200, rotations: 1}
  - advance: 5d
  - refresh:
    say: Refreshed five days ago, but the grant is fifteen days old.
    expect: {status: 400, error: invalid_grant}
`,
	// zitadel refuses the spent token at once and revokes nothing else.
	"zitadel": `name: zitadel-token-only
description: zitadel refuses a spent token and nothing more.
server: {preset: zitadel}
steps:
  - login: {}
  - save: {token: refresh, as: spent}
  - refresh:
  - replay: spent
    expect: {status: 400, error: invalid_grant, no_events: [reuse_detected, family_revoked]}
  - refresh:
    expect: {status: 200}
  - request: /protected
    expect: {status: 200}
`,
	// permissive accepts every refresh token it issued, even after a
	// logout: what such a mock cannot catch.
	"permissive": `name: permissive-accepts-everything
description: A permissive mock accepts a revoked, spent token.
server: {preset: permissive}
steps:
  - login: {}
  - save: {token: refresh, as: old}
  - refresh:
  - logout:
  - replay: old
    say: Spent and revoked, it is still accepted.
    expect: {status: 200}
`,
}

func TestPresetScenarios(t *testing.T) {
	if len(presetScenarios) != len(mockserver.PresetNames()) {
		t.Errorf("%d preset scenarios for %d presets", len(presetScenarios), len(mockserver.PresetNames()))
	}
	for _, name := range mockserver.PresetNames() {
		t.Run(name, func(t *testing.T) {
			src, ok := presetScenarios[name]
			if !ok {
				t.Fatal("no scenario for this preset")
			}
			r := NewRunner()
			r.Profile = profiled("oauth2")
			res := r.Run(t.Context(), mustParse(t, name+".yaml", src))
			if res.Status != Passed {
				t.Errorf("%s: %s", res.Status, res.Reason)
			}
		})
	}
}

// A preset name is checked when the file is read.
func TestPresetUnknownIsLoadError(t *testing.T) {
	_, err := Parse("bad.yaml", []byte("name: x\ndescription: y\nserver: {preset: auth1}\nsteps:\n  - login: {}\n"))
	if err == nil {
		t.Fatal("an unknown preset loaded")
	}
	for _, want := range []string{"bad.yaml:3", "auth1", "auth0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
