package probe

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocsPresetTable: the table of presets in docs/probe.md says what
// Presets holds, so the page the preset work starts from stays true.
func TestDocsPresetTable(t *testing.T) {
	data, err := os.ReadFile("../docs/probe.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for line := range strings.Lines(string(data)) {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) != 12 {
			continue
		}
		for i := range cells {
			cells[i] = docCell(cells[i])
		}
		rows[cells[0]] = cells[1:]
	}
	for _, ps := range Presets {
		got, ok := rows[ps.Name]
		if !ok {
			t.Errorf("docs/probe.md has no row for %s", ps.Name)
			continue
		}
		want := []string{yesNo(&ps.Rotates), graceWords(ps.GraceS), ps.ReuseOutsideGrace, yesNo(ps.ReuseRevokesAccess),
			errorWords(ps.ReuseError), ps.Concurrent, ps.Revocation, yesNo(ps.RevocationRevokesAccess), ps.PKCE,
			yesNo(&ps.Iss), yesNo(&ps.IDToken)}
		if strings.Join(got, " | ") != strings.Join(want, " | ") {
			t.Errorf("docs/probe.md's %s row:\n  %s\nPresets:\n  %s", ps.Name, strings.Join(got, " | "), strings.Join(want, " | "))
		}
	}
}

// docCell drops the page's remarks: *assumed* and (why).
var remarks = regexp.MustCompile(`\*assumed\*|\([^)]*\)`)

func docCell(s string) string { return strings.TrimSpace(remarks.ReplaceAllString(s, "")) }

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return "—"
	case *b:
		return "yes"
	}
	return "no"
}

func graceWords(s float64) string {
	switch {
	case math.IsInf(s, 1):
		return "forever"
	case s == 0:
		return "0"
	}
	return fmt.Sprintf("%g s", s)
}

func errorWords(e *ReuseError) string {
	if e == nil {
		return "—"
	}
	return fmt.Sprintf("%d %s", e.Status, e.Error)
}
