package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/internal/interoptest"
	"github.com/tokenlab/tokenlab/probe"
)

// TestProbeZitadelOP: `tokenlab probe` of the zitadel/oidc example OP
// (testdata/zitadel-op, built from its Go module) and of `tokenlab serve
// --preset zitadel` give the same value for every trait, and both are the
// zitadel preset's expected values.
func TestProbeZitadelOP(t *testing.T) {
	t.Parallel()
	interoptest.RequireTool(t, "curl", "the login helper scripts fill in the login pages")
	issuer := interoptest.StartZitadelOP(t)
	root := interoptest.RepoRoot(t)
	pw := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pw, []byte("verysecure"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runProbe(t, strings.TrimSuffix(issuer, "/"), "--client-id", "native", "--flow", "pkce",
		"--username", "test-user@127.0.0.1", "--password-file", pw, "--yes", "--json", "--max-wait", "3s",
		"--login-helper", filepath.Join(root, "cmd", "tokenlab", "testdata", "zitadel-login.sh"))
	if code != 0 {
		t.Fatalf("probe of the example OP: exit %d\n%s\n%s", code, out, errOut)
	}
	var real probe.Report
	if err := json.Unmarshal([]byte(out), &real); err != nil {
		t.Fatalf("probe --json: %v\n%s", err, out)
	}
	preset := probeServe(t, []string{"--preset", "zitadel"}, "--flow", "password", "--max-wait", "3s",
		"--login-helper", filepath.Join(root, "cmd", "tokenlab", "testdata", "probe-login.sh"))

	var zitadel probe.Preset
	for _, ps := range probe.Presets {
		if ps.Name == "zitadel" {
			zitadel = ps
		}
	}
	if m := probe.Compare(real.Traits, zitadel.Expected(3*time.Second)); len(m.Differs)+len(m.Unmeasured) > 0 {
		t.Errorf("the example OP differs from the zitadel preset's expected traits in %v, unmeasured %v", m.Differs, m.Unmeasured)
	}
	for _, k := range probe.TraitKeys {
		got, want := probe.Value(preset.Traits, k), probe.Value(real.Traits, k)
		if got != want {
			t.Errorf("%s: serve --preset zitadel %s, the example OP %s", k, got, want)
		}
	}
	if real.AccessCheck != "userinfo" {
		t.Logf("the example OP's access tokens were checked by %q", real.AccessCheck)
	}
}
