package probe

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// The presets the issue names, in its order.
var issuePresets = []string{"auth0", "okta", "cognito", "keycloak", "entra", "hydra", "dex", "oidc-provider", "zitadel", "permissive"}

// TestPresetsComplete: every preset the issue names is in the table, once,
// with a value for every trait (null only where null is itself the answer),
// and each one is the closest preset to its own expected traits, so that
// closest_preset can tell them apart.
func TestPresetsComplete(t *testing.T) {
	var names []string
	for _, ps := range Presets {
		names = append(names, ps.Name)
	}
	if !slices.Equal(names, issuePresets) {
		t.Fatalf("presets %v, want %v", names, issuePresets)
	}
	valid := map[string][]string{
		"reuse_outside_grace": {ReuseRevokesFamily, ReuseRefusesToken, ReuseAccepted},
		"concurrent_refresh":  {ConcurrentOneWins, ConcurrentAllWin, ConcurrentFamily},
		"revocation":          {RevocationNone, RevocationToken, RevocationFamily},
		"pkce":                {PKCERequiredS256, PKCES256OrPlain, PKCEOptional, PKCEUnsupported},
	}
	for _, wait := range []time.Duration{2 * time.Second, DefaultMaxWait, 90 * time.Second} {
		for _, ps := range Presets {
			t.Run(ps.Name+"/"+wait.String(), func(t *testing.T) {
				want := ps.Expected(wait)
				vals := want.values()
				for _, k := range TraitKeys {
					v, ok := vals[k]
					if !ok {
						t.Fatalf("trait %s missing from the comparison", k)
					}
					if v == nil && !nullIsAnswer(k, vals) {
						t.Errorf("%s: %s is null", ps.Name, k)
					}
					if allowed, ok := valid[k]; ok && v != nil && !slices.Contains(allowed, v.(string)) {
						t.Errorf("%s: %s = %v, not one of %v", ps.Name, k, v, allowed)
					}
				}
				if (ps.ReuseError == nil) != (ps.ReuseOutsideGrace == ReuseAccepted) {
					t.Errorf("%s: a reuse error must be given exactly when a reuse is refused", ps.Name)
				}
				m := Closest(want, wait)
				if m.Name != ps.Name || len(m.Matches) != len(TraitKeys) {
					t.Errorf("closest to %s's own traits: %s with %d matches (differs %v)", ps.Name, m.Name, len(m.Matches), m.Differs)
				}
			})
		}
	}
}

// TestExpectedBoundedByWait: a grace window longer than the probe's wait
// is measured as ">wait" and accepted, and a reuse replayed inside it is
// accepted too.
func TestExpectedBoundedByWait(t *testing.T) {
	okta := presetNamed(t, "okta")
	short := okta.Expected(15 * time.Second)
	if *short.OldRefreshAfterRotation != OldAccepted || *short.GraceWindowS != (Grace{Seconds: 15, Beyond: true}) ||
		*short.ReuseOutsideGrace != ReuseAccepted || short.ReuseError != nil {
		t.Errorf("okta with a 15 s wait: %s %v %s %v", *short.OldRefreshAfterRotation, *short.GraceWindowS, *short.ReuseOutsideGrace, short.ReuseError)
	}
	long := okta.Expected(45 * time.Second)
	if *long.OldRefreshAfterRotation != OldAcceptedWithin || *long.GraceWindowS != (Grace{Seconds: 30}) ||
		*long.ReuseOutsideGrace != ReuseRevokesFamily || *long.ReuseError != (ReuseError{400, "invalid_grant"}) {
		t.Errorf("okta with a 45 s wait: %s %v %s %v", *long.OldRefreshAfterRotation, *long.GraceWindowS, *long.ReuseOutsideGrace, long.ReuseError)
	}
}

func presetNamed(t *testing.T, name string) Preset {
	t.Helper()
	for _, ps := range Presets {
		if ps.Name == name {
			return ps
		}
	}
	t.Fatalf("no preset %s", name)
	return Preset{}
}

// TestCompare: grace windows agree within 1 s, a null is unmeasured, and a
// difference is named.
func TestCompare(t *testing.T) {
	want := presetNamed(t, "dex").Expected(DefaultMaxWait)
	got := want
	got.GraceWindowS = &Grace{Seconds: 3.8}
	got.PKCE = nil
	got.ReuseError = &ReuseError{400, "invalid_grant"}
	m := Compare(got, want)
	if !slices.Contains(m.Matches, "grace_window_s") || !slices.Equal(m.Unmeasured, []string{"pkce"}) || !slices.Equal(m.Differs, []string{"reuse_error"}) {
		t.Errorf("compare: %+v", m)
	}
	got.GraceWindowS = &Grace{Seconds: 4.5}
	if m := Compare(got, want); !slices.Contains(m.Differs, "grace_window_s") {
		t.Errorf("a window 1.5 s off agrees: %+v", m)
	}
	// A client-credentials probe measures only id_token, and it agrees with no preset.
	if m := Closest(Traits{IDToken: ptr(false)}, DefaultMaxWait); m.Name != "" || len(m.Differs) != 1 {
		t.Errorf("closest to nothing: %+v", m)
	}
}

// TestTraitsJSON: the report's traits have exactly the issue's keys, with
// grace_window_s as a number or ">N" and unmeasured traits as null.
func TestTraitsJSON(t *testing.T) {
	tr := presetNamed(t, "keycloak").Expected(DefaultMaxWait)
	tr.ReuseRevokesAccessTokens = nil
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // as tokenlab probe --json writes it: ">15", not "\u003e15"
	if err := enc.Encode(Report{Traits: tr}); err != nil {
		t.Fatal(err)
	}
	b := []byte(buf.String())
	var back struct {
		Traits map[string]json.RawMessage `json:"traits"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range back.Traits {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := slices.Clone(TraitKeys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("trait keys %v, want %v", keys, want)
	}
	for k, v := range map[string]string{"grace_window_s": `">15"`, "reuse_revokes_access_tokens": "null", "reuse_error": "null", "pkce": `"optional"`} {
		if got := string(back.Traits[k]); got != v {
			t.Errorf("%s = %s, want %s", k, got, v)
		}
	}
	for _, raw := range []string{`2.5`, `">15"`, `0`} {
		var g Grace
		if err := json.Unmarshal([]byte(raw), &g); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if out, _ := g.MarshalJSON(); string(out) != raw {
			t.Errorf("%s round-trips as %s", raw, out)
		}
	}
	if err := json.Unmarshal([]byte(`"15"`), new(Grace)); err == nil {
		t.Error(`"15" read as a grace window`)
	}
}

// TestRenderings: the table and the Markdown show every trait beside the
// closest preset and never a token.
func TestRenderings(t *testing.T) {
	tr := presetNamed(t, "hydra").Expected(DefaultMaxWait)
	r := Report{Target: "http://127.0.0.1:4444", Flow: FlowPKCE, MaxWaitS: 15, Traits: tr, Logins: 7,
		ClosestPreset: Closest(tr, DefaultMaxWait), AccessCheck: "introspection",
		Evidence: map[string][]Step{"pkce": {{AtS: 1.5, Request: "log in with PKCE plain", Status: 400, Error: "invalid_request", Outcome: "refused"}}}}
	for name, out := range map[string]string{"table": Table(r), "markdown": Markdown(r)} {
		for _, k := range TraitKeys {
			if !strings.Contains(out, k) {
				t.Errorf("%s lacks %s", name, k)
			}
		}
		if !strings.Contains(out, "closest preset hydra, 12 of 12") || !strings.Contains(out, "introspection") {
			t.Errorf("%s:\n%s", name, out)
		}
	}
	if md := Markdown(r); !strings.Contains(md, "- 1.5 s: log in with PKCE plain → 400 invalid_request: refused") {
		t.Errorf("markdown evidence:\n%s", md)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Issuer: "http://127.0.0.1:1", ClientID: "c", Flow: FlowPassword, Username: "u", Password: "p"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*Config){
		"no issuer":      func(c *Config) { c.Issuer = "" },
		"no password":    func(c *Config) { c.Password = "" },
		"unknown flow":   func(c *Config) { c.Flow = "implicit" },
		"pkce, no login": func(c *Config) { c.Flow = FlowPKCE },
		"no client id":   func(c *Config) { c.ClientID = "" },
		"negative wait":  func(c *Config) { c.MaxWait = -time.Second },
	} {
		c := ok
		change(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
