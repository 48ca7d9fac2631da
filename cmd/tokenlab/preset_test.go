package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/mockserver"
	"github.com/tokenlab/tokenlab/tui"
)

// TestPresetsDocTable: docs/presets.md shows the table `tokenlab serve
// --preset list` prints, as it is.
func TestPresetsDocTable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/presets.md")
	if err != nil {
		t.Fatal(err)
	}
	table := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(presetTable(), "")
	if !strings.Contains(string(doc), "```text\n"+table+"\n```") {
		t.Errorf("docs/presets.md does not hold the current table; paste this:\n%s", table)
	}
}

// The TUI's embedded server gets the preset's policy (tui --preset).
func TestLabServerPreset(t *testing.T) {
	e, err := startLabServer(t.Context(), filepath.Join(t.TempDir(), "lab.db"), "keycloak", tui.NewSecrets())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	want, _ := mockserver.PresetPolicy("keycloak")
	if got := e.Server.Policy(); got != want {
		t.Errorf("lab policy %+v, want keycloak's %+v", got, want)
	}
}
