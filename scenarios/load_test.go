package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 20.12: the runner read a file whole, so a symlink to /dev/zero
// exhausted memory and 20 MB cost 817 MB. Non-regular files and files
// over MaxFileSize are refused before they are read.
func TestLoadRefusesWhatIsNotAScenarioFile(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "zero.yaml")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Skip("no symlinks here:", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("name: big\nsteps:\n  - login: {}\n"+strings.Repeat("# padding\n", MaxFileSize/10+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		zero: "not a regular file",
		dir:  "not a regular file",
		big:  "a scenario file may have at most 1048576 (1 MiB)",
	} {
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("Load(%s) = %v, want %q", path, err, want)
		}
	}
	ok := filepath.Join(dir, "ok.yaml")
	if err := os.WriteFile(ok, []byte("name: ok\nsteps:\n  - login: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ok); err != nil {
		t.Errorf("a small regular file: %v", err)
	}
}
