package testskip

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealRecordsTheSkip: a skipped real part leaves its line in the
// TOKENLAB_SKIPS file.
func TestRealRecordsTheSkip(t *testing.T) {
	if os.Getenv("CI") == "true" {
		t.Skip("under CI=true Real fails instead of skipping") // not a real part: nothing to record
	}
	file := filepath.Join(t.TempDir(), "skips")
	t.Setenv(EnvFile, file)
	t.Run("skipped", func(t *testing.T) { Real(t, "tmux", "not installed") })
	t.Run("another", func(t *testing.T) { Real(t, "chromium", "not on PATH") })
	data, err := os.ReadFile(file)
	if err != nil || string(data) != "tmux (not installed)\nchromium (not on PATH)\n" {
		t.Fatalf("skips file = %q (%v)", data, err)
	}
}

// TestMakeTestSummarisesSkips runs the repository's real `make test` with
// a stand-in go command (which records its arguments and, as a test that
// skips would, adds two skipped parts, one twice): the last line lists
// each skipped part once, and RACE= leaves -race out.
func TestMakeTestSummarisesSkips(t *testing.T) {
	makeBin, err := exec.LookPath("make")
	if err != nil {
		Real(t, "make", "not installed, so the Makefile's summary is not checked")
	}
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	fakeGo := filepath.Join(dir, "go")
	script := `#!/bin/sh
echo "$@" >> "` + args + `"
case "$1" in
list) [ "$2" = "-m" ] && echo github.com/tokenlab/tokenlab ;;
test) printf 'tmux (not installed)\nnode (not installed)\ntmux (not installed)\n' >> "$TOKENLAB_SKIPS" ;;
esac
exit 0
`
	if err := os.WriteFile(fakeGo, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, race, wantArg string
	}{
		{"default", "", "test -race -count=1 -timeout 20m ./..."},
		{"RACE=", "RACE=", "test -count=1 -timeout 20m ./..."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(args)
			cmdArgs := []string{"-s", "-C", "../..", "test", "GO=" + fakeGo}
			if tc.race != "" {
				cmdArgs = append(cmdArgs, tc.race)
			}
			out, err := exec.Command(makeBin, cmdArgs...).CombinedOutput()
			if err != nil {
				t.Fatalf("make test: %v\n%s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if last := lines[len(lines)-1]; last != "make test: real parts skipped: node (not installed); tmux (not installed)" {
				t.Errorf("last line = %q, want the two skipped parts, each once", last)
			}
			recorded, _ := os.ReadFile(args)
			if !strings.Contains(string(recorded), tc.wantArg+"\n") {
				t.Errorf("go was run as:\n%s\nwant %q", recorded, tc.wantArg)
			}
		})
	}
}
