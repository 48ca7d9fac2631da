package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

var openedBrowserLine = regexp.MustCompile(`^Opened the browser to log in`)

// scriptLoginOpener: login-opener USER PASS tokenlab login ... (with a
// stand-in xdg-open on $PATH that writes its arguments to
// $WORK/opener.args). Once the login says it opened the browser, this
// plays the browser on the URL the opener was given, then checks that a
// second visit of it is refused.
func scriptLoginOpener(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: login-opener USER PASS tokenlab login ...")
	}
	user, pass := args[0], args[1]
	runWhileReading(ts, neg, args[2:], openedBrowserLine, func([]string) error {
		data, err := os.ReadFile(filepath.Join(ts.Getenv("WORK"), "opener.args"))
		if err != nil {
			return fmt.Errorf("the opener was not run: %w", err)
		}
		start := strings.TrimSpace(string(data))
		if err := fillLoginForm(start, user, pass, nil); err != nil {
			return err
		}
		hc := &http.Client{Timeout: httpTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := hc.Get(start)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusGone {
			return fmt.Errorf("the start URL answered %s the second time, want 410 Gone", resp.Status)
		}
		return nil
	})
}
