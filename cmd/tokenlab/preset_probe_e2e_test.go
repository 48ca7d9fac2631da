package main

// `tokenlab probe` of `tokenlab serve --preset NAME`, through the real
// binary, for every preset: the probe must measure probe/presets.go's
// expected traits of NAME (its comment: "serve --preset must match it").

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/internal/interoptest"
	"github.com/tokenlab/tokenlab/probe"
)

// presetProbeWait bounds each trait of these probes. Dex's 3 s window fits
// in it; Okta's 30 s and Cognito's 60 s do not, so those two run with
// --reuse-grace 2s and are expected with a 2 s window (every other trait
// as the preset has it): the flag overriding one part of a preset is
// what they show as well.
const presetProbeWait = 4 * time.Second

var presetGraceOverride = map[string]float64{"okta": 2, "cognito": 2}

func TestProbeE2EPresets(t *testing.T) {
	t.Parallel()
	interoptest.RequireTool(t, "curl", "the login helper script fills in serve's login page (pkce and iss)")
	helper := filepath.Join(interoptest.RepoRoot(t), "cmd", "tokenlab", "testdata", "probe-login.sh")
	for _, ps := range probe.Presets {
		t.Run(ps.Name, func(t *testing.T) {
			t.Parallel()
			serveFlags := []string{"--preset", ps.Name}
			if g, ok := presetGraceOverride[ps.Name]; ok {
				serveFlags = append(serveFlags, "--reuse-grace", (time.Duration(g) * time.Second).String())
				ps.GraceS = g
			}
			r := probeServe(t, serveFlags, "--flow", "password", "--login-helper", helper,
				"--max-wait", presetProbeWait.String())
			want := ps.Expected(presetProbeWait)
			m := probe.Compare(r.Traits, want)
			for _, k := range append(m.Differs, m.Unmeasured...) {
				var ev strings.Builder
				for _, s := range r.Evidence[k] {
					ev.WriteString("  " + s.Request + " → " + s.Error + ": " + s.Outcome + "\n")
				}
				t.Errorf("%s: measured %s, preset %s expects %s; evidence:\n%s", k, probe.Value(r.Traits, k), ps.Name, probe.Value(want, k), ev.String())
			}
			if r.ClosestPreset.Name != ps.Name && len(m.Differs) == 0 {
				t.Logf("closest preset %s (matches %v)", r.ClosestPreset.Name, r.ClosestPreset.Matches)
			}
		})
	}
}
