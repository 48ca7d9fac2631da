package main

// The probe as a built-in scenario family: `tokenlab run --server URL
// probe` runs tokenlab probe's measurements and reports each trait as a
// scenario (probe/rotates_refresh_token, …), with its evidence as steps,
// in every report format. With --probe-expect the traits are pinned (a
// file written by `tokenlab probe --json`, or a preset's expected values)
// and a trait that changed fails, so CI hears when a provider's rules
// change.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/spf13/pflag"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/probe"
	"github.com/tokenlab/tokenlab/scenarios"
)

// probeFamily is the name that selects the family in `tokenlab run`.
const probeFamily = "probe"

// runProbeOptions are run's flags for the probe family.
type runProbeOptions struct {
	expect      string
	maxWait     time.Duration
	protected   string
	allowRemote bool
}

func (o *runProbeOptions) addFlags(f *pflag.FlagSet) {
	o.maxWait = probe.DefaultMaxWait
	f.StringVar(&o.expect, "probe-expect", "", "the probe family's pinned traits: a file from tokenlab probe --json, or a preset name")
	f.DurationVar(&o.maxWait, "probe-max-wait", o.maxWait, "the probe family's longest wait for one trait")
	f.StringVar(&o.protected, "probe-protected", "", "the probe family's URL that answers 2xx to a good access token")
	f.BoolVar(&o.allowRemote, "allow-remote", false, "let the probe family measure a server outside loopback")
}

// splitProbeFamily takes the family's name out of run's arguments.
func splitProbeFamily(args []string) (rest []string, family bool) {
	for _, a := range args {
		if a == probeFamily {
			family = true
		} else {
			rest = append(rest, a)
		}
	}
	return rest, family
}

// traitSummaries say what each trait scenario measures.
var traitSummaries = map[string]string{
	"rotates_refresh_token":            "Does a refresh return a new refresh token?",
	"old_refresh_after_rotation":       "Is the spent refresh token still accepted after the rotation?",
	"grace_window_s":                   "How long does the spent refresh token stay good?",
	"reuse_outside_grace":              "What does a reuse after the grace window revoke?",
	"reuse_revokes_access_tokens":      "Does that reuse revoke the family's access tokens?",
	"reuse_error":                      "How is that reuse refused?",
	"concurrent_refresh":               "What do five refreshes of one token at once do?",
	"revocation":                       "What does revoking a refresh token (RFC 7009) revoke?",
	"revocation_revokes_access_tokens": "Does revocation revoke access tokens?",
	"pkce":                             "How does the provider treat PKCE?",
	"iss_in_authorization_response":    "Does the authorization response carry iss (RFC 9207)?",
	"id_token":                         "Does a login return an ID token?",
}

// runProbeFamily measures the server at --server and turns each trait into
// a scenario result.
func runProbeFamily(ctx context.Context, std streams, opts runOptions) ([]scenarios.Result, error) {
	cfg, expected, err := probeFamilyConfig(opts)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(std.err, "warning: the probe family logs in to %s as %s several times, replays spent refresh tokens and revokes them\n", cfg.Issuer, cfg.Username)
	start := time.Now()
	rep, err := probe.Run(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("the probe family: %w", err)
	}
	return probeResults(rep, expected, time.Since(start)), nil
}

// probeFamilyConfig is the probe's configuration from run's flags: the
// password flow as run's --username, the oauth2 dialect at --server.
func probeFamilyConfig(opts runOptions) (probe.Config, *probe.Traits, error) {
	if opts.server == "" {
		return probe.Config{}, nil, usagef("the probe family measures a server: give --server URL")
	}
	for _, u := range []string{opts.server, opts.probe.protected} {
		if err := checkProbeTarget(u, opts.probe.allowRemote); err != nil {
			return probe.Config{}, nil, err
		}
	}
	if opts.probe.maxWait <= 0 {
		return probe.Config{}, nil, usagef("--probe-max-wait must be positive, not %s", opts.probe.maxWait)
	}
	p, _, err := resolveProfile(opts.profile)
	if err != nil {
		return probe.Config{}, nil, err
	}
	if p.Dialect != client.DialectOAuth2 {
		p = client.BuiltinProfiles()["oauth2"] // tokenlab serve speaks both; the probe speaks OAuth
	}
	cfg := probe.Config{Issuer: opts.server, ClientID: p.OAuth.ClientID, ClientSecret: p.OAuth.ClientSecret,
		ClientAuth: p.OAuth.ClientAuth, Resources: p.OAuth.Resources, Scope: p.OAuth.Scope,
		Flow: probe.FlowPassword, Username: opts.username, Password: opts.password,
		Protected: opts.probe.protected, MaxWait: opts.probe.maxWait}
	if opts.clientID != "" {
		cfg.ClientID, cfg.ClientSecret = opts.clientID, opts.clientSecret
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "tokenlab"
	}
	if err := cfg.Validate(); err != nil {
		return probe.Config{}, nil, usageError{err}
	}
	expected, err := probeExpectation(opts.probe.expect, opts.probe.maxWait)
	return cfg, expected, err
}

// probeExpectation reads --probe-expect: a preset's name, or a JSON file
// with "traits" (what tokenlab probe --json writes). nil when not given.
func probeExpectation(expect string, maxWait time.Duration) (*probe.Traits, error) {
	if expect == "" {
		return nil, nil
	}
	for _, ps := range probe.Presets {
		if ps.Name == expect {
			t := ps.Expected(maxWait)
			return &t, nil
		}
	}
	data, err := os.ReadFile(expect)
	if err != nil {
		return nil, usagef("--probe-expect %s is neither a preset nor a readable file: %v", expect, err)
	}
	var pinned struct {
		Traits *probe.Traits `json:"traits"`
	}
	if err := json.Unmarshal(data, &pinned); err != nil || pinned.Traits == nil {
		return nil, usagef("--probe-expect %s: not a report of tokenlab probe --json (a JSON object with \"traits\"): %v", expect, err)
	}
	return pinned.Traits, nil
}

// probeResults makes one scenario result per trait, and one for the
// closest preset. A trait passes when measured (and, when pinned, equal
// to the pin), fails when it differs from the pin, and is skipped when it
// could not be measured.
func probeResults(rep probe.Report, expected *probe.Traits, elapsed time.Duration) []scenarios.Result {
	var m probe.Match
	if expected != nil {
		m = probe.Compare(rep.Traits, *expected)
	}
	var out []scenarios.Result
	for _, k := range probe.TraitKeys {
		measured := probe.Value(rep.Traits, k)
		res := scenarios.Result{Name: probeFamily + "/" + k, File: rep.Target, Description: traitSummaries[k],
			Tags: []string{probeFamily}, Steps: evidenceSteps(rep.Evidence[k]), Status: scenarios.Passed,
			Notes: []string{"measured: " + measured}}
		switch {
		case expected != nil && slices.Contains(m.Differs, k):
			res.Status = scenarios.Failed
			res.Reason = fmt.Sprintf("expected %s, measured %s", probe.Value(*expected, k), measured)
		case expected != nil && slices.Contains(m.Unmeasured, k), expected == nil && measured == "null" && !nullMeasured(rep, k):
			res.Status = scenarios.Skipped
			res.Reason = "not measured here; see the evidence"
		}
		out = append(out, res)
	}
	closest := rep.ClosestPreset
	out = append(out, scenarios.Result{Name: probeFamily + "/closest_preset", File: rep.Target,
		Description: "Which of tokenlab's presets behaves most like this server?", Tags: []string{probeFamily},
		Status: scenarios.Passed, Steps: []scenarios.StepResult{},
		Notes: []string{fmt.Sprintf("%s: %d of %d traits agree (differ: %v); %d logins in %.1f s", closest.Name,
			len(closest.Matches), len(probe.TraitKeys), closest.Differs, rep.Logins, elapsed.Seconds())}})
	return out
}

// nullMeasured: a null that is itself the answer (no reuse error because
// the reuse was accepted; no revocation to revoke access tokens).
func nullMeasured(rep probe.Report, key string) bool {
	m := probe.Compare(rep.Traits, rep.Traits)
	return slices.Contains(m.Matches, key)
}

// evidenceSteps turns a trait's evidence into scenario steps.
func evidenceSteps(ev []probe.Step) []scenarios.StepResult {
	steps := make([]scenarios.StepResult, 0, len(ev))
	for i, s := range ev {
		summary := s.Request
		if s.Outcome != "" {
			summary += ": " + s.Outcome
		}
		steps = append(steps, scenarios.StepResult{N: i + 1, Kind: probeFamily, Summary: summary, Status: scenarios.Passed,
			Got: scenarios.Observed{Status: s.Status, Error: s.Error}})
	}
	return steps
}
