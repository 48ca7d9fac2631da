package tui

import (
	"strings"
	"testing"
)

// TestLoginTypingOnPrefocusedField (issue 9, point 3): the field focused
// at launch takes keys at once, without Tab first; the footer says what
// enter does; after L the demo password is not filled in again.
func TestLoginTypingOnPrefocusedField(t *testing.T) {
	l := newLab(t, func(o *Options) { o.Password = "" })
	if l.m.login.active != fieldPassword {
		t.Fatalf("focus on %s, want password", fieldNames[l.m.login.active])
	}
	for _, r := range "password123" {
		l.key(string(r))
	}
	if got := l.m.login.inputs[fieldPassword].Value(); got != "password123" {
		t.Fatalf("typing on the pre-focused password field gave %q, want password123", got)
	}
	l.wantView("enter log in")
	l.login()
	l.key("L")
	if got := l.m.login.inputs[fieldPassword].Value(); got != "" {
		t.Errorf("after L the password field holds %q, want it empty", got)
	}
	if strings.Contains(l.view(), "enter select") {
		t.Errorf("the login footer still says enter select:\n%s", l.view())
	}
}

// TestSecondLaunchShowsOnlyItsOwnEvents (issue 9, point 2): the server's
// database persists between launches and its clock restarts; a launch's
// timeline holds only the events of that launch.
func TestSecondLaunchShowsOnlyItsOwnEvents(t *testing.T) {
	first := newLab(t)
	first.login()
	first.key("f", "p", "w") // a refresh, a rotation, and the clock moved 8 days ahead
	second := newLabOn(t, first.e)
	second.login()
	second.key("p")
	tl := second.timelineText()
	if n := strings.Count(tl, "server login"); n != 1 {
		t.Errorf("the second launch's timeline shows %d server logins, want its own one:\n%s", n, tl)
	}
	for _, old := range []string{"clock_moved", "rotation", "access_rejected"} {
		if strings.Contains(tl, old) {
			t.Errorf("the second launch's timeline shows the first launch's %s:\n%s", old, tl)
		}
	}
	if !strings.Contains(tl, "GET /protected 200") {
		t.Errorf("the second launch's own call is missing:\n%s", tl)
	}
}
