package main

// Apps under test through the real binary: testdata/goapp (x/oauth2) and
// testdata/nodeapp (openid-client) pass every built-in app scenario, and
// each APP_BUG fails its own scenario and exactly the cells the table
// says; the reports carry the app's output and name the bug.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/internal/interoptest"
	"github.com/tokenlab/tokenlab/scenarios"
)

// appBugs is the table: for each APP_BUG, its own scenario, the scenarios
// it fails (its own and those that need what it breaks; every other cell
// must pass) and a part of the sentence that names the bug.
var appBugs = []struct {
	bug, own string
	fails    []string
	says     string
}{
	{bug: "", fails: nil},
	{"no-refresh", "app-refresh-on-expiry",
		[]string{"app-refresh-on-expiry", "app-single-refresh", "app-rotation-persisted", "app-lost-refresh-response-grace"},
		"the app never refreshed"},
	{"refresh-per-request", "app-single-refresh",
		[]string{"app-single-refresh", "app-lost-refresh-response", "app-lost-refresh-response-grace"},
		"for 20 concurrent requests; the server saw the same refresh token"},
	{"memory-rotation", "app-rotation-persisted", []string{"app-rotation-persisted"}, "kept the rotated refresh token in memory only"},
	{"no-retry", "app-lost-refresh-response-grace", []string{"app-lost-refresh-response", "app-lost-refresh-response-grace"},
		"instead of retrying the refresh once"},
	{"error-loop", "app-reuse-relogin", []string{"app-lost-refresh-response", "app-reuse-relogin"}, "it kept the dead session"},
	{"logout-no-revoke", "app-logout", []string{"app-logout"}, "the app's logout did not revoke the session at the server"},
}

var goApp struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// goAppBinary builds testdata/goapp (its own module, with x/oauth2) once.
func goAppBinary(t *testing.T) string {
	t.Helper()
	tokenlabBinary(t) // skips under -short, and e2eBinary.dir is removed after the tests
	goApp.once.Do(func() {
		goApp.path = filepath.Join(e2eBinary.dir, "goapp")
		cmd := exec.Command("go", "build", "-o", goApp.path, ".")
		cmd.Dir = filepath.Join(interoptest.RepoRoot(t), "testdata", "goapp")
		goApp.out, goApp.err = cmd.CombinedOutput()
	})
	if goApp.err != nil {
		t.Fatalf("build testdata/goapp: %v\n%s", goApp.err, goApp.out)
	}
	return goApp.path
}

type appRunReport struct {
	Passed, Failed, Skipped int
	Scenarios               []struct {
		Name, Status, Reason, AppOutput string
	}
}

// runApp runs the built-in app scenarios (or those named) against the
// app command with APP_BUG set.
func runApp(t *testing.T, command, bug string, args ...string) appRunReport {
	t.Helper()
	env := map[string]string{"APP_BUG": bug, "APP_STATE_DIR": t.TempDir(), "TMPDIR": t.TempDir()}
	code, out, errOut := runBinaryEnv(t, env, append([]string{"run", "--app", command, "--format", "json"}, args...)...)
	var rep appRunReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exit %d, not a JSON report (%v):\n%s\n%s", code, err, out, errOut)
	}
	if want := map[bool]int{true: 1, false: 0}[rep.Failed > 0]; code != want {
		t.Errorf("exit %d with %d failed", code, rep.Failed)
	}
	return rep
}

// checkAppTable runs every row of the table against one app.
func checkAppTable(t *testing.T, command string) {
	for _, row := range appBugs {
		name := row.bug
		if name == "" {
			name = "correct"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rep := runApp(t, command, row.bug)
			if len(rep.Scenarios) != len(scenarios.AppBuiltinNames) || rep.Skipped > 0 {
				t.Fatalf("ran %d scenarios (%d skipped), want every one of %v", len(rep.Scenarios), rep.Skipped, scenarios.AppBuiltinNames)
			}
			var failed []string
			for _, sc := range rep.Scenarios {
				if sc.Status == scenarios.Failed {
					failed = append(failed, sc.Name)
				}
				if sc.Name == row.own && !strings.Contains(sc.Reason, row.says) {
					t.Errorf("%s failed without naming the bug (%q): %s", sc.Name, row.says, sc.Reason)
				}
				if slices.Contains(row.fails, sc.Name) != (sc.Status == scenarios.Failed) {
					t.Errorf("%s: %s, the table expects it to %s: %s\napp output:\n%s", sc.Name, sc.Status,
						map[bool]string{true: "fail", false: "pass"}[slices.Contains(row.fails, sc.Name)], sc.Reason, sc.AppOutput)
				}
			}
			if row.own != "" && !slices.Contains(failed, row.own) {
				t.Errorf("APP_BUG=%s did not fail its own scenario %s", row.bug, row.own)
			}
		})
	}
}

func TestRunAppE2EGoApp(t *testing.T) {
	t.Parallel()
	checkAppTable(t, goAppBinary(t))
}

// nodeApp is testdata/nodeapp's command: node and its npm packages.
func nodeApp(t *testing.T) string {
	t.Helper()
	tokenlabBinary(t)
	node := interoptest.RequireTool(t, "node", "testdata/nodeapp runs on node")
	dir := filepath.Join(interoptest.RepoRoot(t), "testdata", "nodeapp")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openid-client")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s has no node_modules: .ci/run runs npm ci there", dir)
		}
		t.Skipf("%s has no node_modules (run npm ci there; CI does)", dir)
	}
	return "exec " + appShellQuote(node) + " " + appShellQuote(filepath.Join(dir, "server.js"))
}

func appShellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func TestRunAppE2ENodeApp(t *testing.T) {
	t.Parallel()
	checkAppTable(t, nodeApp(t))
}

// The app's output reaches every report format, and the failure names the bug.
func TestRunAppE2EReportsCarryTheAppOutput(t *testing.T) {
	t.Parallel()
	app := goAppBinary(t)
	env := map[string]string{"APP_BUG": "logout-no-revoke", "APP_STATE_DIR": t.TempDir()}
	for format, want := range map[string][]string{
		"text":  {"✗ app-logout failed", "the app's output (stdout and stderr):", "│ goapp: listening on 127.0.0.1:", "the app's logout did not revoke"},
		"json":  {`"appOutput": "goapp: listening on 127.0.0.1:`, "the app's logout did not revoke"},
		"junit": {"<system-err>goapp: listening on 127.0.0.1:", "the app&#39;s logout did not revoke"},
		"tap":   {"app_output: |", "goapp: listening on 127.0.0.1:", "logout did not revoke"},
	} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runBinaryEnv(t, env, "run", "--app", app, "--format", format, "app-logout")
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s\n%s", code, out, errOut)
			}
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("the %s report lacks %q:\n%s", format, w, out)
				}
			}
		})
	}
}

// An app that exits early or never gets ready fails the scenario with a
// sentence that says which, and its output is in the report.
func TestRunAppE2EAppThatNeverGetsReady(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	never := filepath.Join(dir, "never.yaml")
	if err := os.WriteFile(never, []byte("name: never-ready\napp: {ready_timeout: 1s}\nsteps:\n  - http: data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, command, file, reason, output string
	}{
		{"exits early", "echo 'cannot read my config' >&2; exit 3", "app-login", "the app exited before it was ready (exit status 3)", "cannot read my config"},
		{"never ready", "echo 'starting, slowly'; exec sleep 60", never, "the app was not ready within 1s: GET http://127.0.0.1:", "starting, slowly"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := runApp(t, tc.command, "", tc.file)
			if len(rep.Scenarios) != 1 {
				t.Fatalf("%+v", rep)
			}
			sc := rep.Scenarios[0]
			if sc.Status != scenarios.Failed || !strings.Contains(sc.Reason, tc.reason) || !strings.Contains(sc.AppOutput, tc.output) {
				t.Errorf("status %s, reason %q, output %q; want failed, %q, %q", sc.Status, sc.Reason, sc.AppOutput, tc.reason, tc.output)
			}
		})
	}
}

// Against `tokenlab serve` the runner registers the app's client through
// POST /admin/clients, and scenarios that share the server (-j) count
// only their own app's events.
func TestRunAppE2EExternalServer(t *testing.T) {
	t.Parallel()
	app := goAppBinary(t)
	p := startServe(t)
	env := map[string]string{"APP_STATE_DIR": t.TempDir(), "TOKENLAB_ADMIN_TOKEN": e2eAdminToken}
	code, out, errOut := runBinaryEnv(t, env, "run", "--server", p.banner.URL, "--app", app, "--format", "json", "-j", "4")
	var rep appRunReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exit %d: %v\n%s\n%s", code, err, out, errOut)
	}
	if code != 0 || rep.Passed != len(scenarios.AppBuiltinNames) {
		t.Errorf("exit %d, %d passed of %d:\n%s", code, rep.Passed, len(scenarios.AppBuiltinNames), out)
	}

	code, out, _ = runBinary(t, "run", "--server", p.banner.URL, "--app", app, "app-login")
	if code != 2 || !strings.Contains(out, "○ app-login skipped: it puts an app under test, whose client is registered through the server's admin API: give its --admin-token") {
		t.Errorf("without the admin token: exit %d\n%s", code, out)
	}
}

// The short app of docs/app-under-test.md is under a hundred lines and
// passes every built-in app scenario; the page's scenarios load.
func TestRunAppE2EDocApp(t *testing.T) {
	t.Parallel()
	tokenlabBinary(t)
	root := interoptest.RepoRoot(t)
	page, err := os.ReadFile(filepath.Join(root, "docs", "app-under-test.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := func(lang string) []string {
		var out []string
		for _, part := range strings.Split(string(page), "```"+lang+"\n")[1:] {
			out = append(out, part[:strings.Index(part, "```")])
		}
		return out
	}
	for i, src := range blocks("yaml") {
		if _, err := scenarios.Parse("app-under-test.md", []byte(src)); err != nil {
			t.Errorf("yaml block %d: %v", i+1, err)
		}
	}
	apps := blocks("go")
	if len(apps) != 1 {
		t.Fatalf("%d go blocks, want the one app", len(apps))
	}
	if n := strings.Count(apps[0], "\n"); n >= 100 {
		t.Errorf("the short app has %d lines, want under 100", n)
	}
	dir := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum"} { // x/oauth2, as testdata/goapp requires it
		data, err := os.ReadFile(filepath.Join(root, "testdata", "goapp", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), data, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(apps[0]), 0o644)
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "shortapp"), ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the page's app: %v\n%s", err, out)
	}
	rep := runApp(t, filepath.Join(dir, "shortapp"), "")
	if rep.Passed != len(scenarios.AppBuiltinNames) {
		for _, sc := range rep.Scenarios {
			if sc.Status != scenarios.Passed {
				t.Errorf("%s: %s: %s\n%s", sc.Name, sc.Status, sc.Reason, sc.AppOutput)
			}
		}
	}
}

// --app-path needs --app, and a well-formed NAME=/path; tokenlab
// scenarios --app lists the app scenarios.
func TestRunAppFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--app-path", "data=/api/me"}, "--app-path overrides a path of the app given with --app"},
		{[]string{"run", "--app", "true", "--app-path", "data"}, "write --app-path as NAME=/path"},
		{[]string{"run", "--app", "true", "--app-path", "home=/"}, `unknown app path "home"`},
	} {
		code, _, errOut := runBinary(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	code, out, _ := runBinary(t, "scenarios", "--app")
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		names = append(names, strings.Fields(line)[0])
	}
	if code != 0 || !slices.Equal(names, scenarios.AppBuiltinNames) {
		t.Errorf("scenarios --app: exit %d, %v", code, names)
	}
}

// A runner killed outright (kill -9, a CI's timeout) leaves no app behind.
func TestRunAppE2EKilledRunnerTakesTheAppAlong(t *testing.T) {
	t.Parallel()
	app := goAppBinary(t)
	dir := t.TempDir()
	pidFile, file := filepath.Join(dir, "pid"), filepath.Join(dir, "slow.yaml")
	os.WriteFile(file, []byte("name: slow\nsteps:\n  - http: /healthz\n  - wait: 1m\n"), 0o644)
	cmd := exec.CommandContext(t.Context(), tokenlabBinary(t), "run", "--app", "echo $$ > "+appShellQuote(pidFile)+"; exec "+appShellQuote(app), file)
	cmd.Env = serveSpec{env: map[string]string{"APP_STATE_DIR": dir, "NO_COLOR": "1"}}.environ()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	// The app is up once the first step passed.
	buf := make([]byte, 0, 4096)
	for !strings.Contains(string(buf), "✓ 1 GET /healthz") {
		chunk := make([]byte, 1024)
		n, err := out.Read(chunk)
		if err != nil {
			t.Fatalf("the run ended before its first step passed (%v):\n%s", err, buf)
		}
		buf = append(buf, chunk[:n]...)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	cmd.Process.Kill()
	cmd.Wait()
	// The kernel delivers the app's SIGKILL as the runner dies; wait (a
	// bounded poll) until it is gone or a zombie waiting for init.
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the app (pid %d) outlived its killed runner by 10s", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive reports whether a process exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) == nil // no /proc: ask the kernel
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z"
}
