package tui

import (
	"strings"
	"testing"
)

// The tests of issue 17: the TUI in a classroom. Each one checks what a
// screen says against the real embedded server (its answer or its state).

// TestTypingTheShownPassword (issue 17, point 10): the login screen shows
// the demo password and prefills it; a newcomer who types it anyway is
// let in by the real server, at launch and after L; ? shows help instead
// of typing into the password.
func TestTypingTheShownPassword(t *testing.T) {
	l := newLab(t)
	l.wantView("prefilled: type to replace")
	l.key("?")
	if l.m.screen != screenHelp {
		t.Fatalf("? on the login screen gave screen %d, want help; password field %q", l.m.screen, l.m.login.inputs[fieldPassword].Value())
	}
	l.key("esc")
	if l.m.screen != screenLogin {
		t.Fatalf("esc from help gave screen %d, want the login screen", l.m.screen)
	}
	typePassword := func(when string) {
		t.Helper()
		for _, r := range "password123" {
			l.key(string(r))
		}
		if got := l.m.login.inputs[fieldPassword].Value(); got != "password123" {
			t.Fatalf("%s: typing the shown password gave %q", when, got)
		}
		l.key("enter")
		if l.m.screen != screenDashboard {
			t.Fatalf("%s: the server refused the typed demo password: %q\n%s", when, l.m.statusText(), l.view())
		}
	}
	typePassword("at launch")
	l.key("x", "L")
	if got := l.m.login.inputs[fieldPassword].Value(); got != "password123" {
		t.Errorf("after L the password field holds %q, want the demo password prefilled as at launch", got)
	}
	typePassword("after L")
	if l.m.login.inputs[fieldPassword].Value() != "" {
		t.Errorf("the password is kept in the field after a login")
	}
}

// TestPrefilledFieldBackspaceAndQuestionMark (issue 17, point 10):
// backspace in a prefilled field clears it; once the learner typed, ? is
// a letter of the password.
func TestPrefilledFieldBackspaceAndQuestionMark(t *testing.T) {
	l := newLab(t)
	l.key("backspace")
	if got := l.m.login.inputs[fieldPassword].Value(); got != "" {
		t.Errorf("backspace in the prefilled password left %q", got)
	}
	l.key("a", "?")
	if got := l.m.login.inputs[fieldPassword].Value(); got != "a?" || l.m.screen != screenLogin {
		t.Errorf("? after typing: field %q, screen %d; want a? on the login screen", got, l.m.screen)
	}
	if strings.Contains(l.view(), "prefilled") {
		t.Errorf("a typed field is still called prefilled:\n%s", l.view())
	}
}
