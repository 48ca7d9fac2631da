package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/mockserver"
	"github.com/tokenlab/tokenlab/scenarios"
)

// runScenarioCmd runs tokenlab in-process with buffers for its streams.
func runScenarioCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeScenario(t *testing.T, name, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// lastLine is the closing line of a text report.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

var countLine = regexp.MustCompile(`^([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped in [0-9]+\.[0-9]{2}s$`)

func wantCounts(t *testing.T, out, counts string) {
	t.Helper()
	last := lastLine(out)
	if !countLine.MatchString(last) || !strings.HasPrefix(last, counts+" in ") {
		t.Errorf("last line %q, want %q in Xs; output:\n%s", last, counts, out)
	}
}

const failingScenario = `name: expects-too-much
description: Expects a refresh to work after the family was revoked.
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

// allPassed is the closing count of a run of every built-in that passed.
func allPassed() string {
	return fmt.Sprintf("%d passed, 0 failed, 0 skipped", len(scenarios.BuiltinNames))
}

func TestRunCmdBuiltins(t *testing.T) {
	code, stdout, stderr := runScenarioCmd(t, "run")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q, want 0 and nothing", code, stderr)
	}
	wantCounts(t, stdout, allPassed())
	if strings.Contains(stdout, "\x1b") {
		t.Error("ANSI escapes in output that is not a terminal")
	}
	// Each built-in, in teaching order, with its narration.
	at := 0
	for _, name := range scenarios.BuiltinNames {
		i := strings.Index(stdout[at:], "✓ "+name+" passed")
		if i < 0 {
			t.Fatalf("%s did not pass, or not in order:\n%s", name, stdout)
		}
		at += i
	}
	if !strings.Contains(stdout, "An attacker copies her refresh token.") {
		t.Error("no narration in the text report")
	}
}

func TestRunCmdReportFormats(t *testing.T) {
	t.Run("junit to a file, progress to stdout", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "report.xml")
		code, stdout, stderr := runScenarioCmd(t, "run", "--format", "junit", "--out", out, "-j", "4")
		if code != exitOK || stderr != "" {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		wantCounts(t, stdout, allPassed())
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Suite struct {
				Name  string `xml:"name,attr"`
				Tests int    `xml:"tests,attr"`
				Cases []struct {
					Name string `xml:"name,attr"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s does not parse: %v\n%s", out, err, data)
		}
		if doc.Suite.Name != "tokenlab scenarios" || doc.Suite.Tests != len(scenarios.BuiltinNames) || len(doc.Suite.Cases) != len(scenarios.BuiltinNames) {
			t.Errorf("suite %q with %d tests and %d cases", doc.Suite.Name, doc.Suite.Tests, len(doc.Suite.Cases))
		}
		for i, c := range doc.Suite.Cases {
			if c.Name != scenarios.BuiltinNames[i] {
				t.Errorf("case %d is %q, want %q", i, c.Name, scenarios.BuiltinNames[i])
			}
		}
	})
	t.Run("json to stdout is only JSON", func(t *testing.T) {
		code, stdout, _ := runScenarioCmd(t, "run", "--format", "json", "basic-login", "logout")
		var rep struct {
			Passed    int
			Scenarios []struct{ Name string }
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitOK {
			t.Fatalf("exit %d; stdout is not one JSON document (%v):\n%s", code, err, stdout)
		}
		if rep.Passed != 2 || len(rep.Scenarios) != 2 || rep.Scenarios[1].Name != "logout" {
			t.Errorf("report = %+v", rep)
		}
	})
	t.Run("tap to stdout", func(t *testing.T) {
		code, stdout, _ := runScenarioCmd(t, "run", "--format", "tap", "tampered-token")
		tap := regexp.MustCompile(`^TAP version 14\n1\.\.1\nok 1 - tampered-token\n  ---\n  duration_ms: [0-9.]+\n  \.\.\.\n$`)
		if code != exitOK || !tap.MatchString(stdout) {
			t.Errorf("exit %d, stdout:\n%s", code, stdout)
		}
	})
	t.Run("text to a file is plain", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "report.txt")
		code, stdout, _ := runScenarioCmd(t, "run", "--out", out, "basic-login")
		data, err := os.ReadFile(out)
		if err != nil || code != exitOK {
			t.Fatalf("exit %d, %v", code, err)
		}
		if strings.Contains(string(data), "\x1b") || lastLine(string(data)) != lastLine(stdout) {
			t.Errorf("file:\n%s\nstdout:\n%s", data, stdout)
		}
	})
}

func TestRunCmdBrokenFiles(t *testing.T) {
	good := writeScenario(t, "good.yaml", "name: good\nsteps:\n  - login: {}\n")
	badKind := writeScenario(t, "kind.yaml", "name: kind\nsteps:\n  - login: {}\n  - fly: away\n")
	badWait := writeScenario(t, "wait.yaml", "name: wait\ndescription: too long\nsteps:\n  - login: {}\n  - wait: 5m\n")
	code, stdout, stderr := runScenarioCmd(t, "run", good, badKind, badWait, "no-such-scenario")
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	if stdout != "" {
		t.Errorf("something ran:\n%s", stdout)
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	want := []string{badKind + `:4: unknown step kind "fly"`, badWait + ":5: wait takes real time: at most 1m", `no built-in scenario "no-such-scenario"`}
	if len(lines) != len(want) {
		t.Fatalf("stderr has %d lines, want one per broken file:\n%s", len(lines), stderr)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("stderr line %d = %q, want it to start %q", i+1, lines[i], w)
		}
	}
}

func TestRunCmdFailingScenario(t *testing.T) {
	file := writeScenario(t, "failing.yaml", failingScenario)
	for _, format := range []string{"text", "tap", "junit"} {
		t.Run(format, func(t *testing.T) {
			code, stdout, stderr := runScenarioCmd(t, "run", "--format", format, file, "basic-login")
			if code != exitFailed {
				t.Errorf("exit %d, want %d", code, exitFailed)
			}
			if stderr != "" {
				t.Errorf("stderr = %q; the report already says it", stderr)
			}
			for _, w := range []string{"expects-too-much", "5", file + ":9", "expected status 200", "401 token_revoked"} {
				if !strings.Contains(stdout, w) {
					t.Errorf("the report does not say %q:\n%s", w, stdout)
				}
			}
			if format == "text" {
				wantCounts(t, stdout, "1 passed, 1 failed, 0 skipped")
				if !strings.Contains(stdout, "✗ 5 refresh now") || strings.Contains(stdout, "✓ 6") {
					t.Errorf("want step 5 failed and no step 6:\n%s", stdout)
				}
			}
		})
	}
}

func TestRunCmdUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown format", []string{"run", "--format", "xml"}, "--format"},
		{"no jobs", []string{"run", "-j", "0"}, "-j"},
		{"admin token without a server", []string{"run", "--admin-token", "x"}, "--server"},
		{"server that is not a URL", []string{"run", "--server", "localhost:8080"}, "http(s) URL"},
		{"unknown profile", []string{"run", "--profile", "soap"}, "profile"},
		{"out in a missing folder", []string{"run", "--out", "/nonexistent/dir/r.xml", "basic-login"}, "--out"},
		{"scenarios takes no arguments", []string{"scenarios", "extra"}, "unknown command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runScenarioCmd(t, tc.args...)
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line naming %s", code, stdout, stderr, tc.want)
			}
		})
	}
}

func TestRunCmdHelp(t *testing.T) {
	for _, cmd := range []string{"run", "scenarios"} {
		code, stdout, _ := runScenarioCmd(t, cmd, "--help")
		if code != exitOK || !strings.Contains(stdout, "Examples:\n  tokenlab "+cmd) {
			t.Errorf("%s --help: exit %d\n%s", cmd, code, stdout)
		}
	}
}

func TestScenariosCmd(t *testing.T) {
	code, stdout, _ := runScenarioCmd(t, "scenarios", "--json")
	var list []struct {
		Name, Summary, Description string
		Requires, Tags             []string
		Steps                      int
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v:\n%s", code, err, stdout)
	}
	if len(list) != len(scenarios.BuiltinNames) {
		t.Fatalf("%d scenarios listed, want %d", len(list), len(scenarios.BuiltinNames))
	}
	for i, sc := range list {
		if sc.Name != scenarios.BuiltinNames[i] || sc.Steps == 0 || sc.Requires == nil || sc.Tags == nil ||
			!strings.HasSuffix(sc.Summary, ".") || !strings.HasPrefix(strings.Join(strings.Fields(sc.Description), " "), sc.Summary) {
			t.Errorf("entry %d = %+v", i, sc)
		}
	}
	if list[0].Summary != "Logging in trades a password for two tokens." {
		t.Errorf("basic-login's summary is %q", list[0].Summary)
	}

	code, stdout, _ = runScenarioCmd(t, "scenarios")
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if code != exitOK || len(lines) != len(list) {
		t.Fatalf("exit %d, %d lines:\n%s", code, len(lines), stdout)
	}
	column := len("lost-refresh-response-grace  ") // the longest name and two spaces
	for i, line := range lines {
		if line[:column] != list[i].Name+strings.Repeat(" ", column-len(list[i].Name)) || line[column:] != list[i].Summary {
			t.Errorf("line %q, want %s then its summary from column %d", line, list[i].Name, column)
		}
	}
}

// runBinary runs the real tokenlab binary to completion.
func runBinary(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runBinaryEnv(t, nil, args...)
}

// runBinaryEnv runs it with these environment variables besides the
// test's (without tokenlab's settings).
func runBinaryEnv(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tokenlabBinary(t), args...)
	cmd.Env = serveSpec{env: env}.environ()
	cmd.Dir = t.TempDir()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// TestRunE2EExternalServer runs the built-ins with the real binary against
// a separate `tokenlab serve --clock frozen` process.
func TestRunE2EExternalServer(t *testing.T) {
	t.Parallel()
	clockOrAdmin := map[string]bool{}
	for _, name := range scenarios.BuiltinNames {
		sc, _ := scenarios.Builtin(name)
		clockOrAdmin[name] = len(sc.Requires) > 0
	}

	t.Run("with the admin token every built-in passes but the restart", func(t *testing.T) {
		t.Parallel()
		// The client-credentials built-in's confidential client, as its
		// file says to supply it: serve --client-file, and the secret in
		// TOKENLAB_SCENARIO_CLIENT_SECRET for the runner.
		const secret = "e2e-secret-of-the-nightly-report-job"
		dir := t.TempDir()
		clients := filepath.Join(dir, "clients.yaml")
		if err := os.WriteFile(filepath.Join(dir, "nightly.secret"), []byte(secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(clients, []byte("- {id: nightly-report, secret_file: nightly.secret}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		p := startServe(t, "--client-file", clients)
		code, stdout, stderr := runBinaryEnv(t, map[string]string{"TOKENLAB_SCENARIO_CLIENT_SECRET": secret},
			"run", "--server", p.banner.URL, "--admin-token", e2eAdminToken, "-j", "4")
		if code != exitOK {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
		for _, name := range []string{"pkce-login", "device-login", "client-credentials"} {
			if !strings.Contains(stdout, "✓ "+name+" passed") {
				t.Errorf("%s did not pass against tokenlab serve:\n%s", name, stdout)
			}
		}
		// server-restart cannot restart another process: skipped, naming the step.
		wantCounts(t, stdout, fmt.Sprintf("%d passed, 0 failed, 1 skipped", len(scenarios.BuiltinNames)-1))
		if !strings.Contains(stdout, "○ server-restart skipped: step 2 (restart) restarts the server, which only the embedded server can do") {
			t.Errorf("the restart skip does not name its step:\n%s", stdout)
		}
	})
	t.Run("without it what needs the admin API is skipped, naming the step", func(t *testing.T) {
		t.Parallel()
		p := startServe(t, "--admin-token", "tla_another_admin_token_9876543210")
		code, stdout, stderr := runBinary(t, "run", "--server", p.banner.URL)
		if code != exitOK {
			t.Errorf("exit %d (skips are not failures), stderr %q", code, stderr)
		}
		free := 0
		for name, needs := range clockOrAdmin {
			if needs && !strings.Contains(stdout, "○ "+name+" skipped: step ") && !strings.Contains(stdout, "○ "+name+" skipped: its server: settings need") {
				t.Errorf("%s is not skipped with a reason naming its step", name)
			}
			if !needs {
				free++
				if !strings.Contains(stdout, "✓ "+name+" passed") {
					t.Errorf("%s did not pass", name)
				}
			}
		}
		wantCounts(t, stdout, fmt.Sprintf("%d passed, 0 failed, %d skipped", free, len(clockOrAdmin)-free))
		if !strings.Contains(stdout, "○ access-expiry skipped: step 4 (advance) needs the admin clock of a tokenlab server: give its --admin-token") {
			t.Errorf("the reason does not say what is needed:\n%s", stdout)
		}
		// reuse-detection reads server events: without the admin API that
		// check is skipped, and the rest of the scenario runs.
		if !strings.Contains(stdout, "✓ reuse-detection passed") || !strings.Contains(stdout, "1 check skipped") ||
			!strings.Contains(stdout, "○ check skipped: events: step 4 (replay) checks server events") {
			t.Errorf("reuse-detection does not report its skipped check:\n%s", stdout)
		}
	})
	t.Run("a wrong admin token is a configuration error", func(t *testing.T) {
		t.Parallel()
		p := startServe(t)
		code, stdout, stderr := runBinaryEnv(t, map[string]string{"TOKENLAB_ADMIN_TOKEN": "tla_wrong"}, "run", "--server", p.banner.URL, "--format", "tap")
		if code != exitUsage || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "refused the admin token") {
			t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one sentence", code, stdout, stderr)
		}
	})
}

func TestRunCmdColour(t *testing.T) {
	t.Setenv("CLICOLOR_FORCE", "1") // colour as if stdout were a terminal
	t.Setenv("TERM", "xterm-256color")
	t.Setenv("NO_COLOR", "")
	_, stdout, _ := runScenarioCmd(t, "run", "basic-login")
	if !strings.Contains(stdout, "\x1b[") {
		t.Errorf("no colour on a terminal:\n%q", stdout)
	}
	if last := lastLine(stdout); !countLine.MatchString(last) {
		t.Errorf("the closing line %q is not plain", last)
	}
	t.Setenv("NO_COLOR", "yes")
	_, stdout, _ = runScenarioCmd(t, "run", "basic-login")
	if strings.Contains(stdout, "\x1b") {
		t.Errorf("ANSI escapes with NO_COLOR set:\n%q", stdout)
	}
}

// TestRunCmdAdminTokenFromEnv: the admin token may come from
// TOKENLAB_ADMIN_TOKEN, so it needs no place on the command line.
func TestRunCmdAdminTokenFromEnv(t *testing.T) {
	e, err := mockserver.StartEmbedded(t.Context(), mockserver.EmbeddedOptions{Configure: func(c *mockserver.Config) { c.BcryptCost = 4 }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	code, out, errOut := runScenarioCmd(t, "run", "--server", e.URL, "--allow-all-skipped", "access-expiry")
	if code != 0 || !strings.Contains(out, "skipped") {
		t.Fatalf("without the admin token access-expiry is skipped: exit %d\n%s%s", code, out, errOut)
	}
	wantCounts(t, out, "0 passed, 0 failed, 1 skipped")
	t.Setenv("TOKENLAB_ADMIN_TOKEN", e.AdminToken)
	code, out, errOut = runScenarioCmd(t, "run", "--server", e.URL, "access-expiry")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	wantCounts(t, out, "1 passed, 0 failed, 0 skipped")
}

func TestRunCmdCheckAndTags(t *testing.T) {
	good := writeScenario(t, "good.yaml", "name: good\ntags: [smoke]\nsteps:\n  - login: {}\n")
	other := writeScenario(t, "other.yaml", "name: other\ntags: [slow]\nsteps:\n  - login: {}\n  - wait: 1m\n")
	code, stdout, stderr := runScenarioCmd(t, "run", "--check", good, other)
	if code != exitOK || stdout != "2 scenarios are valid; nothing was run\n" || stderr != "" {
		t.Errorf("--check: exit %d, %q, %q", code, stdout, stderr)
	}
	broken := writeScenario(t, "broken.yaml", "name: b\nsteps:\n  - advance: -1m\n")
	code, _, stderr = runScenarioCmd(t, "run", "--check", good, broken)
	if code != exitUsage || !strings.Contains(stderr, "broken.yaml:3: advance moves the clock forward") {
		t.Errorf("--check of a broken file: exit %d, %q", code, stderr)
	}
	// --tag runs only the tagged scenario (other would wait a minute).
	code, stdout, _ = runScenarioCmd(t, "run", "--tag", "smoke", good, other)
	if code != exitOK || !strings.Contains(stdout, "✓ good passed (1 step,") || strings.Contains(stdout, "other") {
		t.Errorf("--tag smoke: exit %d\n%s", code, stdout)
	}
	wantCounts(t, stdout, "1 passed, 0 failed, 0 skipped")
	code, _, stderr = runScenarioCmd(t, "run", "--tag", "nightly", good)
	if code != exitUsage || !strings.Contains(stderr, "no scenario has the tag nightly") {
		t.Errorf("--tag nightly: exit %d, %q", code, stderr)
	}
	code, stdout, _ = runScenarioCmd(t, "run", "--tag", "faults", "--check")
	if code != exitOK || !strings.Contains(stdout, "3 scenarios are valid") {
		t.Errorf("--tag faults on the built-ins: exit %d, %q", code, stdout)
	}
}

// The password needs no place on the command line.
func TestRunCmdPasswordWithoutTheCommandLine(t *testing.T) {
	sc := writeScenario(t, "pw.yaml", "name: pw\nsteps:\n  - login: {}\n")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("password123\n"), 0o600)
	wrongFile := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrongFile, []byte("not-the-password\n"), 0o600)
	if code, out, errOut := runScenarioCmd(t, "run", "--password-file", pwFile, sc); code != exitOK {
		t.Errorf("--password-file: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, _ := runScenarioCmd(t, "run", "--password-file", wrongFile, sc); code != exitFailed {
		t.Errorf("--password-file with a wrong password: exit %d, want 1 (the file was read)", code)
	}
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"run", "--password-stdin", sc}, strings.NewReader("password123\n"), &out, &errOut); code != exitOK {
		t.Errorf("--password-stdin: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run(t.Context(), []string{"run", "--password-stdin", sc}, strings.NewReader("wrong-one\n"), &out, &errOut); code != exitFailed {
		t.Errorf("--password-stdin with a wrong password: exit %d", code)
	}
	if code, _, stderr := runScenarioCmd(t, "run", "--password-file", "/nonexistent/pw", sc); code != exitUsage || !strings.Contains(stderr, "--password-file") {
		t.Errorf("missing file: exit %d, %q", code, stderr)
	}
}

// Ctrl-C: "interrupted", exit 130, and the report of what ran is written.
func TestRunCmdInterrupted(t *testing.T) {
	slow := writeScenario(t, "slow.yaml", "name: slow\nsteps:\n  - login: {}\n  - wait: 1m\n")
	report := filepath.Join(t.TempDir(), "r.xml")
	ctx, cancel := context.WithCancel(t.Context())
	// Ctrl-C once the slow scenario has logged in and waits its minute.
	out := &watchedBuffer{watch: "✓ 1 log in", seen: cancel}
	var errOut bytes.Buffer
	code := run(ctx, []string{"run", "--format", "junit", "--out", report, "basic-login", slow, "tampered-token"}, strings.NewReader(""), out, &errOut)
	cancel()
	if code != exitInterrupted || strings.TrimSpace(errOut.String()) != "tokenlab: interrupted; the report covers what ran." {
		t.Fatalf("exit %d, stderr %q; want 130 and interrupted", code, errOut.String())
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suite struct {
			Tests  int `xml:"tests,attr"`
			Errors int `xml:"errors,attr"`
			Cases  []struct {
				Name    string    `xml:"name,attr"`
				Skipped *struct{} `xml:"skipped"`
				Error   *struct {
					Type string `xml:"type,attr"`
				} `xml:"error"`
				Properties []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("the report does not parse: %v\n%s", err, data)
	}
	c := doc.Suite.Cases
	// The cut scenario is an error, not a skip: a CI must not read the run as green.
	if doc.Suite.Tests != 2 || doc.Suite.Errors != 1 || len(c) != 2 || c[0].Name != "basic-login" || c[1].Name != "slow" || c[1].Skipped != nil ||
		c[1].Error == nil || c[1].Error.Type != "interrupted" ||
		len(c[1].Properties) != 1 || c[1].Properties[0].Name != "interrupted" {
		t.Errorf("report of what ran: %+v\n%s", doc.Suite, data)
	}
}

// watchedBuffer calls seen once its text holds watch after "slow".
type watchedBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	watch string
	seen  func()
	done  bool
}

func (w *watchedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if _, after, ok := strings.Cut(w.buf.String(), "slow"); ok && !w.done && strings.Contains(after, w.watch) {
		w.done = true
		w.seen()
	}
	return n, err
}

// TestDocExamples: every scenario example in docs/scenarios.md (a yaml
// block that starts with name:) passes tokenlab run --check, and runs
// green against the embedded server.
func TestDocExamples(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "scenarios.md"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for i, block := range strings.Split(string(data), "```yaml\n")[1:] {
		src, _, _ := strings.Cut(block, "```")
		if !strings.HasPrefix(src, "name:") {
			continue // a CI configuration, not a scenario
		}
		files = append(files, writeScenario(t, fmt.Sprintf("example-%d.yaml", i+1), src))
	}
	if len(files) < 8 {
		t.Fatalf("%d scenario examples in the docs; the new keys each have one", len(files))
	}
	code, stdout, stderr := runScenarioCmd(t, append([]string{"run", "--check"}, files...)...)
	if code != exitOK || stderr != "" {
		t.Fatalf("--check: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runScenarioCmd(t, append([]string{"run"}, files...)...)
	if code != exitOK {
		t.Errorf("the examples do not pass: exit %d\n%s%s", code, stdout, stderr)
	}
	wantCounts(t, stdout, fmt.Sprintf("%d passed, 0 failed, 0 skipped", len(files)))
}
