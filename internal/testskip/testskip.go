// Package testskip is how a test says it could not run a real part (the
// OS keyring, tmux, Chromium, node and npm, gnome-keyring) on this
// machine. Under CI=true that is a failure: CI provides every real part
// (.ci/run). Elsewhere the test is skipped, and when TOKENLAB_SKIPS names
// a file the part and the reason are added to it as one line, so that
// `make test` can end with one line listing what did not run and why.
package testskip

import (
	"os"
	"testing"
)

// EnvFile names the file that collects the skipped parts.
const EnvFile = "TOKENLAB_SKIPS"

// Real skips tb because the real part named part is missing for reason,
// or fails it under CI=true.
func Real(tb testing.TB, part, reason string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s: %s; under CI=true every real part must run", part, reason)
	}
	record(part, reason)
	tb.Skipf("real part skipped: %s: %s", part, reason)
}

// record appends "part: reason" to the TOKENLAB_SKIPS file. One write of
// one short line with O_APPEND, so test binaries running in parallel do
// not mix their lines.
func record(part, reason string) {
	path := os.Getenv(EnvFile)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	f.WriteString(part + " (" + reason + ")\n")
}
