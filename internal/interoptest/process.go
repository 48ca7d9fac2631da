package interoptest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// startProcess starts cmd (its program, arguments, directory and
// environment already set) and stops it when the test ends. Every server
// started here exits when its stdin closes, so its stdin is a pipe that the
// cleanup closes: even a test killed by a timeout leaves no server behind.
// The cleanup then waits for the exit (stopTimeout) and kills it when it
// does not come. The output is kept and logged when the test failed.
//
// With hello nil, stdout and stderr go to the kept output. Otherwise only
// stderr is kept, and the first line of stdout, which the server prints
// once it listens, is decoded as JSON into hello (within startTimeout);
// the rest of stdout is drained.
func startProcess(tb testing.TB, name string, cmd *exec.Cmd, hello any) {
	tb.Helper()
	output := &syncBuffer{}
	cmd.Stderr = output
	var stdout io.Reader
	if hello == nil {
		cmd.Stdout = output
	} else {
		pipe, err := cmd.StdoutPipe()
		if err != nil {
			tb.Fatal(err)
		}
		stdout = pipe
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		stopProcess(cmd)
		if tb.Failed() {
			tb.Logf("%s output:\n%s", name, output.String())
		}
	})
	if hello != nil {
		readFirstLine(tb, name, stdout, output, hello)
	}
}

// startIssuer starts a server with startProcess whose first line is
// {"issuer": URL} and returns that loopback URL.
func startIssuer(tb testing.TB, name string, cmd *exec.Cmd) string {
	tb.Helper()
	var hello struct {
		Issuer string `json:"issuer"`
	}
	startProcess(tb, name, cmd, &hello)
	if !strings.HasPrefix(hello.Issuer, "http://127.0.0.1:") {
		tb.Fatalf("%s's first line is not {\"issuer\":\"http://127.0.0.1:PORT\"}: its issuer is %q", name, hello.Issuer)
	}
	return hello.Issuer
}

// readFirstLine decodes stdout's first line as JSON into hello, then
// drains the rest of stdout so that the server never blocks on it.
func readFirstLine(tb testing.TB, name string, stdout io.Reader, stderr *syncBuffer, hello any) {
	tb.Helper()
	lines := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stdout)
		if scanner.Scan() {
			lines <- scanner.Text()
		}
		close(lines)
		for scanner.Scan() {
		}
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			tb.Fatalf("%s exited before it served:\n%s", name, stderr.String())
		}
		if err := json.Unmarshal([]byte(line), hello); err != nil {
			tb.Fatalf("%s's first line is not JSON (%v): %q", name, err, line)
		}
	case <-time.After(startTimeout):
		tb.Fatalf("%s did not start within %s:\n%s", name, startTimeout, stderr.String())
	}
}

// stopProcess waits for a process told to stop (its stdin closed) and kills
// it when it does not exit in time.
func stopProcess(cmd *exec.Cmd) {
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		cmd.Process.Kill()
		<-done
	}
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
