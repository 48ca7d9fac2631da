package scenarios

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/internal/interoptest"

	"github.com/tokenlab/tokenlab/internal/testskip"
)

var update = flag.Bool("update", false, "rewrite the portability table in docs/scenarios.md")

// The table lives between these lines of docs/scenarios.md.
const (
	tableStart = "<!-- portability table: written by `go test ./scenarios -run TestPortabilityTable -update`; do not edit -->"
	tableEnd   = "<!-- end of the portability table -->"
)

// seedExpressDir is the seed-style Express API of testdata/seed-express.
var seedExpressDir = filepath.Join("..", "testdata", "seed-express")

var npmOnce sync.Once
var npmErr error

// startSeedExpress starts testdata/seed-express on a free loopback port
// (npm ci into its folder the first time) and returns its URL. Without
// node or npm it skips, except under CI=true, where it fails.
func startSeedExpress(tb testing.TB) string {
	tb.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			testskip.Real(tb, tool, "not installed, so the seed-style Express server cannot run (see testdata/seed-express/README.md)")
		}
	}
	npmOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(seedExpressDir, "node_modules", "express")); err == nil {
			return
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = seedExpressDir
		if out, err := cmd.CombinedOutput(); err != nil {
			npmErr = fmt.Errorf("npm ci in %s: %v\n%s", seedExpressDir, err, out)
		}
	})
	if npmErr != nil {
		tb.Fatal(npmErr)
	}
	cmd := exec.Command("node", "server.js", "0")
	cmd.Dir = seedExpressDir
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line := <-lines:
		_, url, ok := strings.Cut(line, " listening on ")
		if !ok {
			tb.Fatalf("seed-express printed %q, want its URL", line)
		}
		return url
	case <-time.After(30 * time.Second):
		tb.Fatal("seed-express did not start in 30s")
	}
	return ""
}

// column is one kind of server in the table.
type column struct {
	title string
	run   func(t *testing.T, sc *Scenario) []Result // one result per way of running it
}

func profiled(name string) client.Profile {
	p, err := client.ResolveProfile(name)
	if err != nil {
		panic(err)
	}
	return p
}

// TestPortabilityTable runs every built-in against each kind of server and
// checks that the table in docs/scenarios.md says what happened (-update
// rewrites it).
func TestPortabilityTable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node")
	}
	shared := external(t)
	seed := startSeedExpress(t)
	oidc := interoptest.StartOIDCProvider(t, interoptest.OIDCProviderOptions{})
	columns := []column{
		{"tokenlab, embedded (tokenlab, seed-cookie and oauth2 profiles)", func(t *testing.T, sc *Scenario) []Result {
			var out []Result
			for _, p := range []string{"tokenlab", "seed-cookie", "oauth2"} {
				r := NewRunner()
				r.Profile = profiled(p)
				out = append(out, r.Run(t.Context(), sc))
			}
			return out
		}},
		{"tokenlab server via `--server --admin-token`", func(t *testing.T, sc *Scenario) []Result {
			r := withClientSecret(NewRunner())
			r.Server, r.AdminToken = shared.URL, shared.AdminToken
			return []Result{r.Run(t.Context(), sc)}
		}},
		{"seed-style JSON (Express, `seed-json`)", func(t *testing.T, sc *Scenario) []Result {
			r := NewRunner()
			r.Server, r.Profile = seed, profiled("seed-json")
			return []Result{r.Run(t.Context(), sc)}
		}},
		{"seed-style cookies (Express, `seed-cookie`)", func(t *testing.T, sc *Scenario) []Result {
			r := NewRunner()
			r.Server, r.Profile = seed, profiled("seed-cookie")
			return []Result{r.Run(t.Context(), sc)}
		}},
		{"independent OAuth server (oidc-provider, `oauth2`)", func(t *testing.T, sc *Scenario) []Result {
			// As a user would run it: --server ISSUER --profile oauth2, no
			// admin token (it has no admin API), and the confidential
			// client's secret in the environment for client_secret_env.
			r := NewRunner()
			r.Server, r.Profile = oidc.Issuer, profiled("oauth2")
			r.LookupEnv = func(name string) (string, bool) {
				if name == scenarioClientEnv {
					return oidc.MachineSecret(), true
				}
				return "", false
			}
			return []Result{r.Run(t.Context(), sc)}
		}},
	}
	var b strings.Builder
	b.WriteString("| built-in |")
	for _, c := range columns {
		b.WriteString(" " + c.title + " |")
	}
	b.WriteString("\n| --- |")
	for range columns {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, name := range BuiltinNames {
		sc, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("| `" + name + "` |")
		for _, c := range columns {
			b.WriteString(" " + cell(c.run(t, sc)) + " |")
		}
		b.WriteString("\n")
	}
	table := b.String()

	doc := filepath.Join("..", "docs", "scenarios.md")
	data, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(data), tableStart+"\n")
	_, after, ok2 := strings.Cut(rest, tableEnd)
	if !ok1 || !ok2 {
		t.Fatalf("%s lacks the table's marker lines:\n%s\n%s", doc, tableStart, tableEnd)
	}
	if *update {
		if err := os.WriteFile(doc, []byte(before+tableStart+"\n"+table+tableEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got, _, _ := strings.Cut(rest, tableEnd); got != table {
		t.Errorf("the portability table in %s is stale; run go test ./scenarios -run TestPortabilityTable -update. Measured:\n%s", doc, table)
	}
}

// cell says in a few words how the runs of one scenario went.
func cell(results []Result) string {
	for _, r := range results {
		switch r.Status {
		case Failed:
			return "✗ " + shortReason(r.Reason)
		case Skipped:
			return "skipped: " + shortReason(r.Reason)
		}
	}
	note := ""
	if n := results[0].SkippedChecks; n > 0 {
		note = " (" + plural(n, "check") + " skipped)"
	}
	return "✓" + note
}

// shortReason keeps what a table cell needs: the step and the problem.
func shortReason(s string) string {
	if rest, ok := strings.CutPrefix(s, "its server: settings need the admin API"); ok && rest != "" {
		return "`server:` needs the admin API"
	}
	for _, cut := range []string{" of a tokenlab server", ", which only", " (an external", " as the person at the browser", ", builtin/", ": it offers", " (profile "} {
		if i := strings.Index(s, cut); i > 0 {
			if cut == ", builtin/" { // "step 4 (replay, builtin/x.yaml:17): expected …"
				if j := strings.Index(s[i:], "): "); j > 0 {
					return s[:i] + ")" + strings.ReplaceAll(s[i+j+1:], "|", "\\|")
				}
			}
			s = s[:i]
		}
	}
	return strings.ReplaceAll(s, "|", "\\|")
}

// The runner against the independent OAuth server, beyond the table: a
// client-credentials login for its confidential client, with the secret
// from client_secret_env, and a wrong secret refused as invalid_client.
// (The built-in client-credentials cannot run there: it moves the clock.)
// It also shows what the table's legend says of its routes: no
// /protected, and a userinfo endpoint that refuses a client's token.
func TestClientCredentialsAgainstOIDCProvider(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node")
	}
	oidc := interoptest.StartOIDCProvider(t, interoptest.OIDCProviderOptions{})
	r := NewRunner()
	r.Server, r.Profile = oidc.Issuer, profiled("oauth2")
	r.LookupEnv = func(name string) (string, bool) {
		if name == "MACHINE_SECRET" {
			return oidc.MachineSecret(), true
		}
		return "", false
	}
	sc := mustParse(t, "machine.yaml", `name: machine
steps:
  - login: {flow: client-credentials, client_id: `+interoptest.MachineClientID+`, client_secret_env: MACHINE_SECRET, resource: `+interoptest.APIResource+`}
    expect: {status: 200, has_refresh_token: false, claims: {client_id: `+interoptest.MachineClientID+`, aud: `+interoptest.APIResource+`}}
  - request: /protected
    say: It has no protected API of its own.
    expect: {status: 404}
  - request: /me
    say: Its userinfo endpoint does not take a client's token.
    expect: {status: 401, error: invalid_token}
  - login: {flow: client-credentials, client_id: `+interoptest.MachineClientID+`, client_secret: not-the-secret}
    expect: {status: 401, error: invalid_client}
`)
	if res := r.Run(t.Context(), sc); res.Status != Passed {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
}
