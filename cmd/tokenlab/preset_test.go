package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
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
