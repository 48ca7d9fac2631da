package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/internal/interoptest"
	"github.com/tokenlab/tokenlab/probe"
)

// oauth2MockWait bounds each trait of both probes: the mock's old tokens
// never stop working, so each of the first two chains waits this long.
const oauth2MockWait = 3 * time.Second

// TestProbeOAuth2MockServer: `tokenlab probe` of oauth2-mock-server
// (testdata/oauth2-mock-server, the npm mock the permissive preset
// imitates) and of `tokenlab serve --preset permissive` give the same value
// for every trait, and both are the permissive preset's expected values.
// Both log in with the password grant and measure PKCE and iss through a
// login helper (the mock's authorization endpoint redirects at once).
func TestProbeOAuth2MockServer(t *testing.T) {
	t.Parallel()
	interoptest.RequireTool(t, "curl", "the login helper scripts follow the authorization redirects")
	issuer := interoptest.StartOAuth2MockServer(t)
	helpers := filepath.Join(interoptest.RepoRoot(t), "cmd", "tokenlab", "testdata")
	code, out, errOut := runProbe(t, issuer, "--flow", "password", "--username", "alice",
		"--password-file", demoPasswordFile(t), "--yes", "--json", "--max-wait", oauth2MockWait.String(),
		"--login-helper", filepath.Join(helpers, "redirect-login.sh"))
	if code != 0 {
		t.Fatalf("probe of oauth2-mock-server: exit %d\n%s\n%s", code, out, errOut)
	}
	var real probe.Report
	if err := json.Unmarshal([]byte(out), &real); err != nil {
		t.Fatalf("probe --json: %v\n%s", err, out)
	}
	preset := probeServe(t, []string{"--preset", "permissive"}, "--flow", "password",
		"--max-wait", oauth2MockWait.String(), "--login-helper", filepath.Join(helpers, "probe-login.sh"))

	var permissive probe.Preset
	for _, ps := range probe.Presets {
		if ps.Name == "permissive" {
			permissive = ps
		}
	}
	if m := probe.Compare(real.Traits, permissive.Expected(oauth2MockWait)); len(m.Differs)+len(m.Unmeasured) > 0 {
		t.Errorf("oauth2-mock-server differs from the permissive preset's expected traits in %v, unmeasured %v", m.Differs, m.Unmeasured)
	}
	for _, k := range probe.TraitKeys {
		got, want := probe.Value(preset.Traits, k), probe.Value(real.Traits, k)
		if got != want {
			t.Errorf("%s: serve --preset permissive %s, oauth2-mock-server %s; evidence of the mock:\n%s",
				k, got, want, evidenceText(real.Evidence[k]))
		}
	}
	if real.ClosestPreset.Name != "permissive" {
		t.Errorf("oauth2-mock-server's closest preset is %+v, want permissive", real.ClosestPreset)
	}
	if real.AccessCheck != "introspection" {
		t.Errorf("the mock's access tokens were checked by %q, want introspection (it answers active to any token)", real.AccessCheck)
	}
}

// evidenceText is a trait's evidence, one step a line.
func evidenceText(steps []probe.Step) string {
	var s string
	for _, st := range steps {
		s += fmt.Sprintf("  %.1f s %s → %d %s: %s\n", st.AtS, st.Request, st.Status, st.Error, st.Outcome)
	}
	return s
}
