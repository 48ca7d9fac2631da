package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/internal/interoptest"
	"github.com/tokenlab/tokenlab/probe"
)

// hydraWait bounds each trait of the Hydra probes; the 2 s grace period
// fits in it.
const hydraWait = 3 * time.Second

// hydraTimed is a trait whose value at Hydra depends on timing: five
// refreshes of one token at once. Those whose database transactions
// overlap the winner's get 500 server_error ("Unable to serialize access
// due to a concurrent update in another session") and revoke nothing;
// one that comes after the winner's commit is a replay like any other
// (a reuse without a grace period, accepted within one). The preset's
// value must be its own, and Hydra's one of the values listed: the
// preset's (no overlap) or one_wins (overlap).
type hydraTimed struct {
	preset string
	hydra  []string
}

// TestProbeHydra: `tokenlab probe` of Ory Hydra v2.3.0 (testdata/hydra,
// built from its Go module, in-memory database), without and with a
// refresh-token rotation grace period, and of `tokenlab serve --preset
// hydra` (with --reuse-grace for the grace period): every trait agrees,
// concurrent_refresh as far as Hydra's timing allows (hydraTimed).
func TestProbeHydra(t *testing.T) {
	t.Parallel()
	interoptest.RequireTool(t, "curl", "the login helper accepts Hydra's login and consent requests")
	cases := []struct {
		name  string
		grace time.Duration
		timed hydraTimed // concurrent_refresh
	}{
		{name: "no grace", timed: hydraTimed{preset: probe.ConcurrentFamily,
			hydra: []string{probe.ConcurrentOneWins, probe.ConcurrentFamily}}},
		{name: "grace 2s", grace: 2 * time.Second, timed: hydraTimed{preset: probe.ConcurrentAllWin,
			hydra: []string{probe.ConcurrentOneWins, probe.ConcurrentAllWin}}},
	}
	helpers := filepath.Join(interoptest.RepoRoot(t), "cmd", "tokenlab", "testdata")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := interoptest.StartHydra(t, tc.grace)
			code, out, errOut := runProbe(t, h.Issuer, "--client-id", interoptest.HydraClientID, "--flow", "pkce",
				"--username", "alice", "--password-file", demoPasswordFile(t), "--yes", "--json",
				"--max-wait", hydraWait.String(), "--login-helper", filepath.Join(helpers, "hydra-login.sh")+" "+h.Admin)
			if code != 0 {
				t.Fatalf("probe of Hydra: exit %d\n%s\n%s", code, out, errOut)
			}
			var real probe.Report
			if err := json.Unmarshal([]byte(out), &real); err != nil {
				t.Fatalf("probe --json: %v\n%s", err, out)
			}
			serveFlags := []string{"--preset", "hydra"}
			if tc.grace > 0 {
				serveFlags = append(serveFlags, "--reuse-grace", tc.grace.String())
			}
			preset := probeServe(t, serveFlags, "--flow", "password", "--max-wait", hydraWait.String(),
				"--login-helper", filepath.Join(helpers, "probe-login.sh"))
			for _, k := range probe.TraitKeys {
				got, want := probe.Value(preset.Traits, k), probe.Value(real.Traits, k)
				switch {
				case k == "concurrent_refresh" && (got != tc.timed.preset || !slices.Contains(tc.timed.hydra, want)):
					t.Errorf("%s: serve --preset hydra %s (want %s), Hydra %s (want one of %v); evidence of Hydra:\n%s",
						k, got, tc.timed.preset, want, tc.timed.hydra, evidenceText(real.Evidence[k]))
				case k == "concurrent_refresh":
					t.Logf("%s: serve --preset hydra %s, Hydra %s (depends on timing at Hydra)", k, got, want)
				case got != want:
					t.Errorf("%s: serve --preset hydra %s, Hydra %s; evidence of Hydra:\n%s", k, got, want, evidenceText(real.Evidence[k]))
				}
			}
			if real.AccessCheck != "userinfo" {
				t.Errorf("Hydra's access tokens were checked by %q, want userinfo (its introspection is on the admin port)", real.AccessCheck)
			}
		})
	}
}
