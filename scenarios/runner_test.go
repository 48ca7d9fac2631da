package scenarios

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tokenlab/tokenlab/mockserver"
	"golang.org/x/crypto/bcrypt"
)

// wrongAfterRevocation expects a refresh to work after reuse detection
// revoked the family; the step after it must never run.
const wrongAfterRevocation = `name: wrong-after-revocation
description: Expects the impossible.
steps:
  - login: {}
  - save: {token: refresh, as: stolen}
  - refresh:
  - replay: stolen
    expect: {status: 401, error: token_reused}
  - refresh:
    say: Alice refreshes as if nothing happened.
    expect: {status: 200}
  - request: /protected
`

func mustParse(tb testing.TB, file, src string) *Scenario {
	tb.Helper()
	sc, err := Parse(file, []byte(src))
	if err != nil {
		tb.Fatal(err)
	}
	return sc
}

func builtins(tb testing.TB) []*Scenario {
	tb.Helper()
	scs, err := Builtins()
	if err != nil {
		tb.Fatal(err)
	}
	return scs
}

func TestRunFailureSaysWhereAndWhat(t *testing.T) {
	sc := mustParse(t, "wrong.yaml", wrongAfterRevocation)
	r := NewRunner()
	var seen []int
	var done []Result
	r.OnStep = func(s *Scenario, sr StepResult) {
		if s != sc {
			t.Errorf("OnStep got scenario %q", s.Name)
		}
		seen = append(seen, sr.N)
	}
	r.OnScenario = func(_ *Scenario, res Result) { done = append(done, res) }

	res := r.Run(t.Context(), sc)
	if res.Name != "wrong-after-revocation" || res.File != "wrong.yaml" || res.Status != Failed {
		t.Fatalf("result = %s %s %s, want wrong-after-revocation in wrong.yaml failed", res.Name, res.File, res.Status)
	}
	for _, want := range []string{"step 5", "refresh", "wrong.yaml:9", "expected status 200", "got 401 token_revoked"} {
		if !strings.Contains(res.Reason, want) {
			t.Errorf("reason %q does not say %q", res.Reason, want)
		}
	}
	if len(res.Steps) != 5 {
		t.Fatalf("%d steps ran, want 5: the one after the failure must not run", len(res.Steps))
	}
	last := res.Steps[4]
	if last.N != 5 || last.Line != 9 || last.Kind != KindRefresh || last.Status != Failed || last.Say == "" {
		t.Errorf("failed step = %+v, want step 5, line 9, refresh, failed, with its narration", last)
	}
	if len(last.Failures) != 1 || last.Failures[0] != "expected status 200, got 401 token_revoked (login required)" {
		t.Errorf("failures = %q", last.Failures)
	}
	if last.Got.Status != 401 || last.Got.Error != "token_revoked" || !last.Got.LoginRequired {
		t.Errorf("got = %+v, want 401 token_revoked and login required", last.Got)
	}
	for _, st := range res.Steps[:4] {
		if st.Status != Passed {
			t.Errorf("step %d %s: %v", st.N, st.Status, st.Failures)
		}
	}
	if !slices.Equal(seen, []int{1, 2, 3, 4, 5}) {
		t.Errorf("OnStep saw steps %v, want 1 to 5", seen)
	}
	if len(done) != 1 || done[0].Status != Failed {
		t.Errorf("OnScenario saw %d results, want the one failure", len(done))
	}
	if res.Duration <= 0 || res.DurationMS <= 0 {
		t.Errorf("duration = %v (%vms), want it measured", res.Duration, res.DurationMS)
	}
}

// external starts an in-process tokenlab server with a frozen clock, as
// `tokenlab serve --clock frozen` would run, for the runner to share.
// The confidential client of the client-credentials built-in, as an
// external server is started with it (tokenlab serve --client-file) and
// the secret given to the runner in the environment.
const (
	scenarioClient       = "nightly-report"
	scenarioClientSecret = "scenario-secret-nightly-report-1234"
	scenarioClientEnv    = "TOKENLAB_SCENARIO_CLIENT_SECRET"
)

// withClientSecret gives the runner the secret as the environment would.
func withClientSecret(r *Runner) *Runner {
	r.LookupEnv = func(name string) (string, bool) {
		if name == scenarioClientEnv {
			return scenarioClientSecret, true
		}
		return "", false
	}
	return r
}

func external(tb testing.TB) *mockserver.Embedded {
	tb.Helper()
	e, err := mockserver.StartEmbedded(tb.Context(), mockserver.EmbeddedOptions{ClockMode: mockserver.ClockFrozen,
		Clients:   []mockserver.ClientConfig{{ID: scenarioClient, Secret: scenarioClientSecret}},
		Configure: func(c *mockserver.Config) { c.BcryptCost = bcrypt.MinCost }})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	return e
}

func TestRunExternalServer(t *testing.T) {
	t.Run("with the admin token every built-in passes", func(t *testing.T) {
		e := external(t)
		r := withClientSecret(NewRunner())
		r.Server, r.AdminToken = e.URL, e.AdminToken
		for _, res := range r.RunAll(t.Context(), builtins(t), 4) {
			sc, _ := Builtin(res.Name)
			if slices.Contains(sc.Requires, RequiresRestart) {
				// Only the embedded server can restart; the skip names the step.
				if res.Status != Skipped || !strings.Contains(res.Reason, "step 2 (restart)") {
					t.Errorf("%s %s: %q, want skipped naming step 2 (restart)", res.Name, res.Status, res.Reason)
				}
				continue
			}
			if res.Status != Passed {
				t.Errorf("%s %s: %s", res.Name, res.Status, res.Reason)
			}
		}
	})
	t.Run("without it, what needs the clock or the admin API is skipped", func(t *testing.T) {
		e := external(t)
		// The secret is there: a skip must be about the admin API. (Without
		// it, client-credentials names its step 1, which comes first.)
		r := withClientSecret(NewRunner())
		r.Server = e.URL
		for _, res := range r.RunAll(t.Context(), builtins(t), 4) {
			sc, _ := Builtin(res.Name)
			switch {
			case len(sc.Requires) == 0:
				if res.Status != Passed {
					t.Errorf("%s %s: %s; it needs nothing of the server, so it must pass", res.Name, res.Status, res.Reason)
				}
			case res.Status != Skipped:
				t.Errorf("%s %s, want skipped: it requires %v", res.Name, res.Status, sc.Requires)
			case slices.Contains(sc.Requires, RequiresRestart):
				if !strings.Contains(res.Reason, "(restart) restarts the server") {
					t.Errorf("%s skipped because %q; the reason should name the restart step", res.Name, res.Reason)
				}
			case !strings.Contains(res.Reason, "--admin-token"):
				t.Errorf("%s skipped because %q; the reason should name --admin-token", res.Name, res.Reason)
			case slices.Contains(sc.Requires, RequiresClock) && !strings.Contains(res.Reason, "clock"):
				t.Errorf("%s skipped because %q; the reason should say it moves the clock", res.Name, res.Reason)
			}
		}
	})
	t.Run("the no-requirement built-ins", func(t *testing.T) {
		var free []string
		for _, sc := range builtins(t) {
			if len(sc.Requires) == 0 {
				free = append(free, sc.Name)
			}
		}
		// reuse-detection's event checks degrade to skipped checks.
		want := []string{"basic-login", "reuse-detection", "tampered-token", "lost-refresh-response", "two-devices", "pkce-login"}
		if !slices.Equal(free, want) {
			t.Errorf("built-ins without requirements: %v", free)
		}
	})
	t.Run("a clock on real time cannot be moved", func(t *testing.T) {
		e, err := mockserver.StartEmbedded(t.Context(), mockserver.EmbeddedOptions{ClockMode: mockserver.ClockReal})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		r := NewRunner()
		r.Server, r.AdminToken = e.URL, e.AdminToken
		sc, _ := Builtin("access-expiry")
		if res := r.Run(t.Context(), sc); res.Status != Skipped || !strings.Contains(res.Reason, "--clock frozen") {
			t.Errorf("access-expiry %s: %q, want skipped with a hint to start the server with --clock frozen", res.Status, res.Reason)
		}
	})
}

func TestRunAllKeepsOrderAndResults(t *testing.T) {
	scs := append(builtins(t), mustParse(t, "wrong.yaml", wrongAfterRevocation))
	scs = append(scs, builtins(t)...)
	r := NewRunner()
	var mu sync.Mutex
	finished := map[string]int{}
	r.OnScenario = func(sc *Scenario, _ Result) {
		mu.Lock()
		finished[sc.Name]++
		mu.Unlock()
	}
	results := r.RunAll(t.Context(), scs, 4)
	if len(results) != len(scs) {
		t.Fatalf("%d results for %d scenarios", len(results), len(scs))
	}
	for i, res := range results {
		sc := scs[i]
		want := Passed
		if sc.Name == "wrong-after-revocation" {
			want = Failed
		}
		if res.Name != sc.Name || res.File != sc.File {
			t.Errorf("result %d is %s (%s), want %s (%s)", i, res.Name, res.File, sc.Name, sc.File)
		}
		if res.Status != want {
			t.Errorf("result %d %s: %s %s, want %s", i, res.Name, res.Status, res.Reason, want)
		}
		if want == Passed && len(res.Steps) != len(sc.Steps) {
			t.Errorf("%s: %d step results for %d steps", res.Name, len(res.Steps), len(sc.Steps))
		}
		for j, st := range res.Steps {
			if st.N != j+1 || st.Line != sc.Steps[j].Line {
				t.Errorf("%s: step result %d is step %d at line %d, want step %d at line %d", res.Name, j, st.N, st.Line, j+1, sc.Steps[j].Line)
			}
		}
	}
	for _, name := range BuiltinNames {
		if finished[name] != 2 {
			t.Errorf("OnScenario saw %s %d times, want 2", name, finished[name])
		}
	}

	// One at a time, they run in the order given: live output follows it.
	var order []string
	r.OnScenario = func(sc *Scenario, _ Result) { order = append(order, sc.Name) }
	r.RunAll(t.Context(), scs, 1)
	for i, sc := range scs {
		if i >= len(order) || order[i] != sc.Name {
			t.Fatalf("with parallel 1 they finished in the order %v", order)
		}
	}
}

// A lost-response refresh that never reaches the server proves nothing:
// the step fails and says why, instead of passing.
func TestLostResponseRefreshNeedsTheServer(t *testing.T) {
	e, err := mockserver.StartEmbedded(t.Context(), mockserver.EmbeddedOptions{ClockMode: mockserver.ClockFrozen,
		Configure: func(c *mockserver.Config) { c.BcryptCost = bcrypt.MinCost }})
	if err != nil {
		t.Fatal(err)
	}
	var stop sync.Once
	down := func() { stop.Do(func() { e.Close() }) }
	t.Cleanup(down)
	r := NewRunner()
	r.Server = e.URL
	r.OnStep = func(_ *Scenario, sr StepResult) {
		if sr.N == 1 {
			down() // the server goes away after the login
		}
	}
	res := r.Run(t.Context(), mustParse(t, "down.yaml", `name: server-down
steps:
  - login: {}
  - refresh: {lose_response: true}
`))
	st, ok := failedStep(res)
	if res.Status != Failed || !ok || st.N != 2 {
		t.Fatalf("%s: %q; want step 2 to fail: the refresh never reached the server", res.Status, res.Reason)
	}
	if why := strings.Join(st.Failures, "; "); !strings.Contains(why, "never reached the server") || !strings.Contains(why, "cannot reach "+e.URL) {
		t.Errorf("failure %q does not say the refresh could not reach the server", why)
	}
}
