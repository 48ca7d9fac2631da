package mockserver

import (
	"net/http"
	"strings"
	"testing"
)

// /register takes a username as PRECIS (RFC 8265) roughly does: in NFC,
// with fullwidth forms folded, and without the characters that make two
// names look alike or reorder what a screen shows: controls, format
// characters (bidi overrides and isolates, zero-width ones), private use.
func TestRegisterRefusesInvisibleAndBidiNames(t *testing.T) {
	ts := newTestServer(t)
	for name, username := range map[string]string{
		"right-to-left override":  "ali\u202Eecb",
		"left-to-right isolate":   "ali\u2066ce",
		"zero-width space":        "ali\u200Bce",
		"zero-width joiner first": "\u200Dalice",
		"byte order mark":         "alice\uFEFF",
		"soft hyphen":             "al\u00ADice",
		"tag character":           "ali\U000E0041ce",
		"private use":             "\uE000alice",
		"only a combining mark":   "\u0301",
		"C1 control":              "ali\u009Bce",
	} {
		t.Run(name, func(t *testing.T) {
			r := ts.do(t, "POST", "/register", map[string]string{"username": username, "password": "password123"})
			if r.Status != http.StatusBadRequest || r.str("error") != "invalid_request" || !strings.Contains(r.str("message"), "username") {
				t.Fatalf("register %q: %d %s, want 400 invalid_request naming the username", username, r.Status, r.Raw)
			}
		})
	}
}

func TestRegisterNormalisesNames(t *testing.T) {
	ts := newTestServer(t)
	for _, tc := range []struct{ typed, stored, twin string }{
		{"e\u0301mile", "\u00e9mile", "\u00e9mile"}, // decomposed é is stored composed (NFC)
		{"ｂｏｂ２", "bob2", "bob2"},                    // fullwidth letters fold to ASCII
	} {
		r := ts.do(t, "POST", "/register", map[string]string{"username": tc.typed, "password": "password123"})
		if r.Status != http.StatusCreated || r.str("username") != tc.stored {
			t.Fatalf("register %q: %d %s, want 201 stored as %q", tc.typed, r.Status, r.Raw, tc.stored)
		}
		if r := ts.do(t, "POST", "/register", map[string]string{"username": tc.twin, "password": "password123"}); r.Status != http.StatusConflict {
			t.Fatalf("register %q after %q: %d %s, want 409: they are one name", tc.twin, tc.typed, r.Status, r.Raw)
		}
		for _, login := range []string{tc.typed, tc.stored} {
			if r := ts.do(t, "POST", "/login", map[string]string{"username": login, "password": "password123"}); r.Status != http.StatusOK {
				t.Fatalf("login as %q: %d %s", login, r.Status, r.Raw)
			}
		}
	}
}
