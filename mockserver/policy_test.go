package mockserver

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestPolicyPatchApply(t *testing.T) {
	base := DefaultConfig().Policy
	grace, off := Duration(2500*time.Millisecond), false
	got, err := PolicyPatch{ReuseGrace: &grace, Rotation: &off}.Apply(base)
	if err != nil {
		t.Fatal(err)
	}
	want := base
	want.ReuseGrace, want.Rotation = 2500*time.Millisecond, false
	if got != want {
		t.Fatalf("Apply = %+v, want %+v", got, want)
	}
	if same, err := (PolicyPatch{}).Apply(base); err != nil || same != base {
		t.Fatalf("an empty patch changed the policy: %+v %v", same, err)
	}
	zero := Duration(0)
	if _, err := (PolicyPatch{AccessTTL: &zero}).Apply(base); err == nil {
		t.Fatal("a zero access TTL was accepted")
	}
	// Patch sets every setting: applied to any policy it gives p back.
	odd := Policy{AccessTTL: 500 * time.Microsecond, RefreshTTL: time.Nanosecond + time.Hour, SessionMax: 30 * 24 * time.Hour,
		ReuseGrace: 2500 * time.Millisecond, ReuseDetection: true}
	if back, err := odd.Patch().Apply(base); err != nil || back != odd {
		t.Fatalf("Patch().Apply = %+v %v, want %+v", back, err, odd)
	}
}

// The settings as GET /admin/settings writes them read back to the same
// policy to the nanosecond, so a runner that saves and restores them
// restores exactly; the JSON names are those of version 1.
func TestPolicyPatchJSON(t *testing.T) {
	p := Policy{AccessTTL: 500 * time.Microsecond, RefreshTTL: 7 * 24 * time.Hour, SessionMax: 30 * 24 * time.Hour,
		ReuseGrace: 2500 * time.Millisecond, Rotation: true}
	data, err := json.Marshal(p.Patch())
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"accessTtl":"500us","refreshTtl":"7d","sessionMax":"30d","reuseGrace":"2s500ms","rotation":true,"reuseDetection":false,"accessDenylist":false,` +
		`"preset":"","graceForever":false,"gracePrevious":false,"graceReplays":0,"reuseRevokesAccess":false,` +
		`"revocationRevokesAccess":false,"revocation":"","pkce":"","omitIss":false,"errors":""}`
	if string(data) != want {
		t.Fatalf("GET body %s, want %s", data, want)
	}
	var back PolicyPatch
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if got, err := back.Apply(DefaultConfig().Policy); err != nil || got != p {
		t.Fatalf("round trip %+v %v, want %+v", got, err, p)
	}
}

func TestSettingsErrorsNameTheProblem(t *testing.T) {
	ts := newTestServer(t)
	for _, tc := range []struct {
		body any
		want string
	}{
		{map[string]any{"reuseGrace": "soon"}, `invalid duration "soon"`},
		{map[string]any{"accessTtl": 5}, `field "accessTtl" must be a string, not number`},
		{map[string]any{"sessionMax": "0s"}, "must be positive"},
		{map[string]any{"rotation": "yes"}, `field "rotation" must be a bool`},
	} {
		r := ts.admin(t, "PUT", "/admin/settings", tc.body)
		if r.Status != 400 || !strings.Contains(r.str("message"), tc.want) {
			t.Errorf("PUT %v: %d %s, want 400 with %q", tc.body, r.Status, r.Raw, tc.want)
		}
	}
}
