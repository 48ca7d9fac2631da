package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/mockserver"
)

// TestServePresetOverrides: --preset sets every rule of the preset, and a
// flag given beside it (or its environment variable) overrides its part
// only, whatever the order on the command line.
func TestServePresetOverrides(t *testing.T) {
	t.Parallel()
	p := startServe(t, "--reuse-grace", "1s", "--preset", "dex", "--access-denylist")
	got := adminSettings(t, p)
	want := map[string]any{"preset": "dex", "reuseGrace": "1s", "accessDenylist": true, // the flags
		"reuseDetection": false, "revocation": "absent", "pkce": "optional", "omitIss": true, "errors": "dex", "accessTtl": "1d"} // the preset's
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if p.banner.Preset != "dex" {
		t.Errorf("banner preset %q", p.banner.Preset)
	}
	resp, err := http.Get(p.banner.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc["revocation_endpoint"]; ok || doc["authorization_response_iss_parameter_supported"] != false {
		t.Errorf("dex's discovery names a revocation endpoint or iss: %v", doc)
	}
}

func TestServePresetFromEnvironment(t *testing.T) {
	t.Parallel()
	p := startServeWith(t, serveSpec{env: map[string]string{"TOKENLAB_PRESET": "auth0"}})
	if got := adminSettings(t, p); got["preset"] != "auth0" || got["gracePrevious"] != true {
		t.Errorf("settings %v, want auth0's", got)
	}
}

// TestServePresetList: --preset list prints every preset with its rules
// and exits; an unknown preset is a usage error naming the presets.
func TestServePresetList(t *testing.T) {
	t.Parallel()
	code, out, errOut := runBinary(t, "serve", "--preset", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, name := range mockserver.PresetNames() {
		if !strings.Contains(out, "│ "+name+" ") {
			t.Errorf("the list has no row for %s:\n%s", name, out)
		}
	}
	for _, want := range []string{"403 invalid_grant", "400 invalid_request", "previous token only", "forever", "no endpoint"} {
		if !strings.Contains(out, want) {
			t.Errorf("the list does not say %q", want)
		}
	}
	code, _, errOut = runBinary(t, "serve", "--preset", "auth1")
	if code == 0 || !strings.Contains(errOut, `unknown preset "auth1"`) || !strings.Contains(errOut, "oidc-provider") {
		t.Errorf("unknown preset: exit %d, %s", code, errOut)
	}
}

// adminSettings is GET /admin/settings of a test serve.
func adminSettings(t *testing.T, p *proc) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.banner.URL+"/admin/settings", nil)
	req.Header.Set("Authorization", "Bearer "+e2eAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("settings %d %s: %v", resp.StatusCode, body, err)
	}
	return got
}

// TestTUIPresetMisuse: tui --preset names a preset of the embedded server;
// a wrong name, or a preset beside --server, is a usage error before any
// screen.
func TestTUIPresetMisuse(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"tui", "--preset", "auth1"}, {"tui", "--preset", "auth0", "--server", "http://127.0.0.1:9"}} {
		code, _, errOut := runBinary(t, args...)
		if code != exitUsage || !strings.Contains(errOut, "preset") {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
}
