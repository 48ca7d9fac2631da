package main

// CLI end-to-end walks as testscript scripts (testdata/script/*.txtar),
// the way the Go command tests itself: each script runs the real tokenlab
// (this test binary, registered as the command "tokenlab" in TestMain)
// against a real `tokenlab serve` on 127.0.0.1.
//
// Commands the scripts get besides testscript's own:
//
//	serve [flags]            start `tokenlab serve` (frozen clock, fresh DB); sets $SERVER and $ADMIN
//	advance DURATION         move the server's clock (POST /admin/clock)
//	login-browser USER PASS tokenlab login ...   run a PKCE login; play the browser on the printed URL
//	login-device USER PASS tokenlab login ...    run a device login; approve the printed user code on /device
//	login-opener USER PASS tokenlab login ...    run a PKCE login whose browser is a stand-in xdg-open writing $WORK/opener.args; play the browser on that URL, then check it works only once
//	httpget URL              GET a URL, body to stdout (for checking a server answer)
//	interrupt-at REGEX tokenlab ARGS   send tokenlab SIGINT once a line of its output matches; "exit code N" on stdout

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end scripts: run the binary and a server")
	}
	grants := offeredGrants(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		// [offers:GRANT]: this build's server offers GRANT. Under CI=true
		// a walk must not be skipped for want of it.
		Condition: func(cond string) (bool, error) {
			name, grant, ok := strings.Cut(cond, ":")
			if !ok || name != "offers" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			if !slices.Contains(grants, grant) && os.Getenv("CI") == "true" {
				return false, fmt.Errorf("the server does not offer %s, and under CI=true the walk must run", grant)
			}
			return slices.Contains(grants, grant), nil
		},
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			env.Setenv("HOME", home)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			env.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
			env.Setenv("DBUS_SESSION_BUS_ADDRESS", "") // the scripts use --token-store file
			env.Setenv("NO_COLOR", "1")
			env.Setenv("DISPLAY", "")
			env.Setenv("WAYLAND_DISPLAY", "")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"serve":         scriptServe,
			"advance":       scriptAdvance,
			"login-browser": scriptLoginBrowser,
			"login-device":  scriptLoginDevice,
			"login-opener":  scriptLoginOpener,
			"interrupt-at":  scriptInterruptAt,
			"httpget":       scriptHTTPGet,
		},
	})
}

// scriptTokenlab finds the tokenlab command testscript put on $PATH.
func scriptTokenlab(ts *testscript.TestScript) string {
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		if p := filepath.Join(dir, "tokenlab"); fileExists(p) {
			return p
		}
	}
	ts.Fatalf("tokenlab is not on the script's PATH")
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// scriptEnv is the script's environment as a list for exec.
func scriptEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, name := range []string{"PATH", "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "NO_COLOR", "TMPDIR", "TOKENLAB_CLIENT_SECRET", "TOKENLAB_ADMIN_TOKEN", "DISPLAY"} {
		env = append(env, name+"="+ts.Getenv(name))
	}
	return env
}

func scriptServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! serve")
	}
	argv := append([]string{"serve", "--addr", "127.0.0.1:0", "--json", "--clock", "frozen",
		"--admin-token", e2eAdminToken, "--db", filepath.Join(ts.Getenv("WORK"), "tokenlab.db")}, args...)
	cmd := exec.Command(scriptTokenlab(ts), argv...)
	cmd.Env = scriptEnv(ts)
	cmd.Dir = ts.Getenv("WORK")
	out, err := cmd.StdoutPipe()
	ts.Check(err)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	ts.Check(cmd.Start())
	ts.Defer(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(stopTimeout):
			cmd.Process.Kill()
		}
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		io.Copy(io.Discard, out)
	}()
	select {
	case l, ok := <-line:
		if !ok {
			ts.Fatalf("serve printed no banner; stderr:\n%s", stderr.String())
		}
		var b banner
		ts.Check(json.Unmarshal([]byte(l), &b))
		ts.Setenv("SERVER", b.URL)
		ts.Setenv("ADMIN", e2eAdminToken)
	case <-time.After(startTimeout):
		ts.Fatalf("no banner within %v; stderr:\n%s", startTimeout, stderr.String())
	}
}

func scriptAdvance(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: advance DURATION")
	}
	body := strings.NewReader(`{"advance":"` + args[0] + `"}`)
	req, err := http.NewRequest(http.MethodPost, ts.Getenv("SERVER")+"/admin/clock", body)
	ts.Check(err)
	req.Header.Set("Authorization", "Bearer "+ts.Getenv("ADMIN"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: httpTimeout}).Do(req)
	ts.Check(err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ts.Fatalf("advance: %s", resp.Status)
	}
}

// offeredGrants are the grant types this build's mock server lists in
// its discovery document; the [offers:GRANT] condition reads them, so
// the walks of flows the server does not have yet are skipped (and fail
// under CI=true, where everything must run).
func offeredGrants(t *testing.T) []string {
	return discoveredGrants(t, startEmbedded(t).URL)
}

// discoveredGrants reads grant_types_supported from a server's discovery.
func discoveredGrants(t *testing.T, server string) []string {
	resp, err := (&http.Client{Timeout: httpTimeout}).Get(server + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		Grants []string `json:"grant_types_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d.Grants
}

func scriptHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	resp, err := (&http.Client{Timeout: httpTimeout}).Get(args[0])
	ts.Check(err)
	defer resp.Body.Close()
	io.Copy(ts.Stdout(), resp.Body)
	if (resp.StatusCode >= 400) != neg {
		ts.Fatalf("GET %s: %s", args[0], resp.Status)
	}
}

// runWhileReading starts `tokenlab ARGS`, waits for a stderr line
// matching re, hands its match to act (the browser's part), then waits for
// the command and copies its output to the script's stdout and stderr.
func runWhileReading(ts *testscript.TestScript, neg bool, args []string, re *regexp.Regexp, act func(match []string) error) {
	if len(args) < 1 || args[0] != "tokenlab" {
		ts.Fatalf("want: ... tokenlab ARGS")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, scriptTokenlab(ts), args[1:]...)
	cmd.Env = scriptEnv(ts)
	cmd.Dir = ts.Getenv("WORK")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	ts.Check(cmd.Start())
	var stderr bytes.Buffer
	found := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m
				sent = true
			}
		}
		close(found)
	}()
	var actErr error
	if m, ok := <-found; ok {
		actErr = act(m)
	}
	err := cmd.Wait()
	pw.Close()
	for range found {
	}
	fmt.Fprint(ts.Stdout(), stdout.String())
	fmt.Fprint(ts.Stderr(), stderr.String())
	if actErr != nil {
		ts.Fatalf("the browser's part failed: %v", actErr)
	}
	if (err != nil) != neg {
		ts.Fatalf("tokenlab %s: %v", strings.Join(args[1:], " "), err)
	}
}

var authorizeURLLine = regexp.MustCompile(`^\s+(http://\S+/oauth/authorize\?\S+)$`)

// scriptLoginBrowser: login-browser USER PASS tokenlab login ... --flow pkce --no-browser
func scriptLoginBrowser(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: login-browser USER PASS tokenlab login ...")
	}
	user, pass := args[0], args[1]
	runWhileReading(ts, neg, args[2:], authorizeURLLine, func(m []string) error {
		return fillLoginForm(m[1], user, pass, nil)
	})
}

var deviceLine = regexp.MustCompile(`open (http://\S+) and enter the code ([A-Z]{4}-[A-Z]{4})`)

// scriptLoginDevice: login-device USER PASS tokenlab login ... --flow device --no-browser
func scriptLoginDevice(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: login-device USER PASS tokenlab login ...")
	}
	user, pass := args[0], args[1]
	runWhileReading(ts, neg, args[2:], deviceLine, func(m []string) error {
		return fillLoginForm(m[1], user, pass, map[string]string{"user_code": m[2]})
	})
}

// formInput finds <input …> tags in tokenlab's HTML pages, and
// inputAttr their name and value attributes.
var (
	formInput = regexp.MustCompile(`<input\b[^>]*>`)
	inputAttr = regexp.MustCompile(`\b(name|value)="([^"]*)"`)
)

// fillLoginForm is the browser: it GETs the page, fills the form's
// username and password (and extra fields), keeps the hidden fields, and
// POSTs it to the form's action, following redirects (to the loopback
// listener, for PKCE).
func fillLoginForm(pageURL, user, pass string, extra map[string]string) error {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: httpTimeout}
	resp, err := hc.Get(pageURL)
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", pageURL, resp.Status)
	}
	form := url.Values{}
	for _, tag := range formInput.FindAllString(string(page), -1) {
		attrs := map[string]string{}
		for _, a := range inputAttr.FindAllStringSubmatch(tag, -1) {
			attrs[a[1]] = htmlUnescape(a[2])
		}
		if name := attrs["name"]; name != "" {
			form.Set(name, attrs["value"])
		}
	}
	form.Set("username", user)
	form.Set("password", pass)
	for k, v := range extra {
		form.Set(k, v)
	}
	if _, ok := form["approve"]; !ok {
		form.Set("action", "approve")
	}
	action := pageURL
	if m := regexp.MustCompile(`<form[^>]*action="([^"]*)"`).FindStringSubmatch(string(page)); m != nil && m[1] != "" {
		if u, err := resp.Request.URL.Parse(htmlUnescape(m[1])); err == nil {
			action = u.String()
		}
	}
	resp, err = hc.PostForm(action, form)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return errors.New("POST " + action + ": " + resp.Status + ": " + string(body))
	}
	return nil
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&quot;", `"`, "&#39;", "'").Replace(s)
}
