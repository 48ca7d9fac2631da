package tui

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLearnersPath (issue 9): from launch, a learner who presses only the
// keys the screen itself suggests sees "reuse detected → family revoked"
// within 10 keypresses. Each step finds its key in the view (footer,
// hints, status), never in the test's knowledge of the key map.
func TestLearnersPath(t *testing.T) {
	prefsFile := filepath.Join(t.TempDir(), "tui.json") // a first launch: the lab explains itself
	l := newLab(t, func(o *Options) { o.PrefsFile = prefsFile })
	presses := 0
	follow := func(goal string, hint *regexp.Regexp) {
		t.Helper()
		m := hint.FindStringSubmatch(l.view())
		if m == nil {
			t.Fatalf("to %s the screen suggests no key (/%s/):\n%s", goal, hint, l.view())
		}
		presses++
		t.Logf("press %d: %q to %s", presses, m[1], goal)
		l.key(m[1])
	}

	follow("log in", regexp.MustCompile(`(\S+) log in`))
	if l.m.screen != screenDashboard {
		t.Fatalf("the suggested key did not log in:\n%s", l.view())
	}
	follow("attack", regexp.MustCompile(`(\S+) attack`))
	v := flat(l.view())
	if !strings.Contains(v, "Reuse detected") || !strings.Contains(v, "family is revoked") {
		t.Fatalf("after %d presses the screen does not say reuse detected → family revoked:\n%s", presses, l.view())
	}
	follow("see it drawn", regexp.MustCompile(`Press (\S+) to see it drawn`))
	v = flat(l.view())
	for _, want := range []string{"Token family", "REVOKED", "(reuse_detected)", "▲ REPLAYED", "reuse detected, family revoked"} {
		if !strings.Contains(v, want) {
			t.Errorf("the family view lacks %q:\n%s", want, l.view())
		}
	}
	if presses > 10 {
		t.Errorf("the path took %d keypresses, want at most 10", presses)
	}
}
