package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/tokenlab/tokenlab/mockserver"
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

// The TUI's embedded server gets the preset's policy (tui --preset), with
// each lab setting given overriding its part.
func TestLabServerPreset(t *testing.T) {
	var o tuiOptions
	cmd := &cobra.Command{Use: "tui"}
	addTUIFlags(cmd, &o)
	if err := cmd.ParseFlags([]string{"--access-ttl", "2m", "--preset", "keycloak"}); err != nil {
		t.Fatal(err)
	}
	if err := presetUnderFlags(cmd, o.preset, &o.policy, labSettingFlags); err != nil {
		t.Fatal(err)
	}
	want, _ := mockserver.PresetPolicy("keycloak")
	want.AccessTTL = 2 * time.Minute
	e, err := startLabServer(t.Context(), filepath.Join(t.TempDir(), "lab.db"), func(c *mockserver.Config) { c.Policy = o.policy })
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got := e.Server.Policy(); got != want {
		t.Errorf("lab policy %+v, want keycloak's with a 2-minute access-token lifetime %+v", got, want)
	}
}
