package probe

// The probe against an independent provider: panva's node-oidc-provider
// (testdata/oidc-provider), its login pages completed by the form-filling
// browser of internal/interoptest, as a login helper would.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/internal/interoptest"
)

// startOIDCProvider skips without node_modules locally (npm ci installs
// them; CI's .ci/run does), and fails under CI=true.
func startOIDCProvider(t *testing.T) *interoptest.OIDCProvider {
	t.Helper()
	if testing.Short() {
		t.Skip("starts node-oidc-provider")
	}
	return interoptest.StartOIDCProvider(t, interoptest.OIDCProviderOptions{})
}

// TestProbeOIDCProvider measures node-oidc-provider as testdata configures
// it (rotation, a reuse revokes the grant, PKCE S256 required, iss in
// authorization responses) and finds it closest to the oidc-provider
// preset on every trait.
func TestProbeOIDCProvider(t *testing.T) {
	t.Parallel()
	op := startOIDCProvider(t)
	browser := interoptest.NewFormBrowser(t)
	cfg := Config{
		Issuer: op.Issuer, ClientID: interoptest.PublicClientID, Flow: FlowPKCE, MaxWait: 2 * time.Second,
		LoginTimeout: 30 * time.Second,
		Authorize: func(ctx context.Context, authorizeURL string) error {
			page, err := op.SignIn(ctx, browser, authorizeURL, interoptest.Username, interoptest.Password, true)
			if err != nil {
				t.Logf("sign in stopped at %s: %.300s", page.URL, page.Body)
			}
			return err
		},
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	r, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"rotates_refresh_token": "true", "old_refresh_after_rotation": "refused", "grace_window_s": "0",
		"reuse_outside_grace": "revokes_family", "reuse_revokes_access_tokens": "true", "reuse_error": "400 invalid_grant",
		"concurrent_refresh": "family_revoked", "revocation": "family", "revocation_revokes_access_tokens": "true",
		"pkce": "required_s256", "iss_in_authorization_response": "true", "id_token": "true",
	}
	for _, k := range TraitKeys {
		if got := Value(r.Traits, k); got != want[k] {
			t.Errorf("%s = %s, want %s; evidence:\n%s", k, got, want[k], stepsText(r.Evidence[k]))
		}
	}
	if r.ClosestPreset.Name != "oidc-provider" || len(r.ClosestPreset.Differs) != 0 {
		t.Errorf("closest preset %+v", r.ClosestPreset)
	}
	if r.AccessCheck != "introspection" {
		t.Errorf("access tokens checked by %q, want introspection", r.AccessCheck)
	}
}

func stepsText(steps []Step) string {
	var s string
	for _, st := range steps {
		s += fmt.Sprintf("  %.1f s %s → %d %s: %s\n", st.AtS, st.Request, st.Status, st.Error, st.Outcome)
	}
	return s
}
