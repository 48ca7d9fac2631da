package interoptest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tokenlab/tokenlab/internal/testskip"
)

// Issue 20.20: tests ran npm ci themselves, two packages at once into one
// folder. Now they never install: a folder without its locked packages
// skips the test with the command to run (and fails it under CI=true).
func TestRequireNodeModulesSkipsWithoutInstalling(t *testing.T) {
	dir := t.TempDir()
	lock := `{"lockfileVersion": 3, "packages": {"": {"name": "x"}, "node_modules/left-pad": {"version": "1.3.0"}}}`
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(lock), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CI", "")
	t.Setenv(testskip.EnvFile, "") // this skip is the test's point, not a part missing here
	var skipped bool
	t.Run("missing", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		RequireNodeModules(t, dir)
	})
	if !skipped {
		t.Errorf("a folder without its packages did not skip")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil {
		t.Errorf("node_modules appeared: something installed into %s", dir)
	}
}
