package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

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

// scriptInterruptAt: interrupt-at REGEX tokenlab ARGS — runs tokenlab,
// sends it SIGINT (Ctrl-C) once a line of its stdout or stderr matches
// REGEX, and writes "exit code N" to the script's stdout after the
// command's own output.
func scriptInterruptAt(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || args[1] != "tokenlab" {
		ts.Fatalf("usage: interrupt-at REGEX tokenlab ARGS")
	}
	re, err := regexp.Compile(args[0])
	ts.Check(err)
	cmd := exec.Command(scriptTokenlab(ts), args[2:]...)
	cmd.Env = scriptEnv(ts)
	cmd.Dir = ts.Getenv("WORK")
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	cmd.Stdout, cmd.Stderr = outW, errW
	ts.Check(cmd.Start())
	var once sync.Once
	interrupt := func() { once.Do(func() { cmd.Process.Signal(os.Interrupt) }) }
	var stdout, stderr strings.Builder
	var wg sync.WaitGroup
	for _, s := range []struct {
		r   io.Reader
		out *strings.Builder
	}{{outR, &stdout}, {errR, &stderr}} {
		wg.Go(func() {
			sc := bufio.NewScanner(s.r)
			for sc.Scan() {
				s.out.WriteString(sc.Text() + "\n")
				if re.MatchString(sc.Text()) {
					interrupt()
				}
			}
			io.Copy(io.Discard, s.r)
		})
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		ts.Fatalf("tokenlab did not end within a minute")
	}
	outW.Close()
	errW.Close()
	wg.Wait()
	fmt.Fprint(ts.Stdout(), stdout.String())
	fmt.Fprintf(ts.Stdout(), "exit code %d\n", cmd.ProcessState.ExitCode())
	fmt.Fprint(ts.Stderr(), stderr.String())
}
