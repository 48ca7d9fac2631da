package tui

import (
	"context"
	"flag"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/tokenlab/tokenlab/scenarios"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// screens walks the logged-in lab through every screen and calls check
// on each; it comes back to the dashboard.
func (l *lab) screens(check func(name string)) {
	l.tb.Helper()
	check("dashboard")
	l.key("i")
	check("inspector access")
	l.key("tab")
	check("inspector refresh")
	l.key("esc", "?")
	check("help")
	l.key("esc", "g")
	check("family")
	l.key("esc", "s")
	check("player list")
	l.key("esc", "L")
	check("login")
	l.key("esc")
	if l.m.screen != screenDashboard {
		l.tb.Fatalf("the screens walk did not end on the dashboard (screen %d)", l.m.screen)
	}
}

// wantFits fails unless the view fits the window.
func (l *lab) wantFits(name string) {
	l.tb.Helper()
	w, h := l.m.c.width, l.m.c.height
	v := l.view()
	lines := strings.Split(v, "\n")
	if len(lines) > h {
		l.tb.Errorf("%s at %dx%d: %d lines:\n%s", name, w, h, len(lines), v)
	}
	for i, line := range lines {
		if got := lipgloss.Width(line); got > w {
			l.tb.Errorf("%s at %dx%d: line %d is %d cells wide: %q", name, w, h, i+1, got, line)
		}
		if got := ansi.StringWidth(l.rawLine(i)); got > w {
			l.tb.Errorf("%s at %dx%d: line %d is %d cells wide with its ANSI codes", name, w, h, i+1, got)
		}
	}
}

func (l *lab) rawLine(i int) string {
	lines := strings.Split(l.rawView(), "\n")
	if i < len(lines) {
		return lines[i]
	}
	return ""
}

var (
	cardTop    = regexp.MustCompile(`^╭─+╮ ╭─+╮$`)
	cardMiddle = regexp.MustCompile(`^│ .* │ │ .* │$`)
	cardBottom = regexp.MustCompile(`^╰─+╯ ╰─+╯$`)
)

// wantCardsIntact fails unless the two cards are whole boxes side by side:
// every line starts and ends with a border rune, all as wide as the top.
func (l *lab) wantCardsIntact() {
	l.tb.Helper()
	lines := strings.Split(l.view(), "\n")
	if len(lines) < 1+cardHeight {
		l.tb.Fatalf("the dashboard has %d lines", len(lines))
	}
	card := lines[1 : 1+cardHeight]
	width := lipgloss.Width(card[0])
	for i, line := range card {
		re := cardMiddle
		switch i {
		case 0:
			re = cardTop
		case len(card) - 1:
			re = cardBottom
		}
		if !re.MatchString(line) || lipgloss.Width(line) != width {
			l.tb.Errorf("at %dx%d card line %d is broken: %q", l.m.c.width, l.m.c.height, i+1, line)
		}
	}
}

// TestLayout: every screen fits 80×24 and each size the window is resized
// to, the cards stay whole, and the dashboard's help and status stay on
// screen.
func TestLayout(t *testing.T) {
	l := newLab(t)
	l.login()
	l.key("p", "f", "p")
	for _, size := range []tea.WindowSizeMsg{{Width: 80, Height: 24}, {Width: 120, Height: 40}, {Width: 60, Height: 20}, {Width: 100, Height: 30}} {
		t.Run(fmt.Sprintf("%dx%d", size.Width, size.Height), func(t *testing.T) {
			l.tb = t
			l.send(size)
			l.screens(func(name string) { l.wantFits(name) })
			l.wantCardsIntact()
			lines := strings.Split(l.view(), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "p call") {
				t.Errorf("the dashboard's last line is %q, want the short help", last)
			}
			if size.Width >= 80 {
				l.wantView("? keys & words", "q quit")
			}
			// A played scenario at this size.
			l.key("s", "up", "up", "up", "up", "up", "up", "up", "up", "up", "up", "down", "down", "down", "enter", "R")
			for !l.m.player.play.Done() { // R pauses at each step
				l.send(stagePauseMsg{play: l.m.player.play})
			}
			l.wantFits("player")
			l.wantView("All 7 steps passed")
			lines = strings.Split(l.view(), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "n/space") {
				t.Errorf("the player's last line is %q, want its help", last)
			}
			l.key("esc", "esc")
			// A long status takes its lines from the timeline, not from the help.
			l.key("a")
			l.wantFits("dashboard after the attack")
			l.wantCardsIntact()
			if !strings.Contains(flat(l.view()), "Press L to log in again.") {
				t.Errorf("after the attack the screen does not say to press L:\n%s", l.view())
			}
			lines = strings.Split(l.view(), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "p call") {
				t.Errorf("after the attack the dashboard's last line is %q, want the short help", last)
			}
			// Back to a live session for the next size.
			l.key("L")
			for _, r := range "password123" {
				l.key(string(r))
			}
			l.login()
			l.key("p", "f", "p")
		})
	}
}

// TestLayoutErrorStatus: the longest sentence, a keyring error, fits.
func TestLayoutErrorStatus(t *testing.T) {
	st := newSwitchStore()
	l := newLab(t, func(o *Options) { o.Store = st })
	l.login()
	st.locked.Store(true)
	l.key("r")
	l.wantFits("dashboard with a keyring error")
	l.wantCardsIntact()
	l.wantView("restart with --token-store", "q quit")
}

// colour escapes: SGR foreground and background, 16-colour and extended.
var colourSGR = []string{"\x1b[3", "\x1b[4", "\x1b[9", "\x1b[10", "38;", "48;"}

func hasColour(s string) string {
	for _, c := range colourSGR {
		if strings.Contains(s, c) {
			return c
		}
	}
	return ""
}

// TestNoColor: with NO_COLOR no screen has a colour escape, whatever the
// terminal's background; without it the same screens are coloured.
func TestNoColor(t *testing.T) {
	for _, noColor := range []bool{true, false} {
		t.Run(fmt.Sprintf("NoColor=%t", noColor), func(t *testing.T) {
			l := newLab(t, func(o *Options) { o.NoColor = noColor })
			coloured := map[string]bool{}
			check := func(name string) {
				raw := l.rawView()
				c := hasColour(raw)
				coloured[name] = c != ""
				if noColor && c != "" {
					t.Errorf("%s: colour escape %q in\n%q", name, c, raw)
				}
			}
			check("login before the background is known")
			l.send(tea.BackgroundColorMsg{Color: color.White})
			check("login on a light background")
			l.send(tea.BackgroundColorMsg{Color: color.Black})
			l.login()
			l.key("p", "f")
			check("dashboard with an expired token")
			l.screens(check)
			l.key("a")
			check("dashboard revoked")
			l.key("s", "enter", "R")
			check("player")
			if !noColor {
				for name, c := range coloured {
					if !c {
						t.Errorf("%s has no colour without NO_COLOR: the check above would prove nothing", name)
					}
				}
			}
		})
	}
}

// Golden files: the dashboard after a login and one protected call, at
// 80×24 and 100×30, ANSI codes stripped. The frozen clock pins every time
// on screen: the server's, and the client's events, which the TUI stamps
// with the lab's clock. What still differs from run to run is masked
// before the comparison, keeping its width so the layout is compared as
// is: the embedded server's port (127.0.0.1:#####) and the random IDs
// shown as 8-hex-digit prefixes cut with "…" after "jti " and "family "
// (######…; the refresh card may cut them shorter at 80 columns).
// Trailing spaces are trimmed: the width checks above cover them.
var (
	maskPort = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	maskID   = regexp.MustCompile(`(jti|family) [0-9a-f]+…`)
	maskHex  = regexp.MustCompile(`\b[0-9a-f]{12,}\b`) // the inspector's whole IDs
	// The family graph's short jtis, the key IDs (derived from the lab's
	// random secrets) and the encoded token (base64url runs).
	maskNode   = regexp.MustCompile(`([●○✗◌] )[0-9a-f]{8}\b`)
	maskKid    = regexp.MustCompile(`\b([ar]-)[0-9a-f]{16}\b`)
	maskBase64 = regexp.MustCompile(`[A-Za-z0-9_-]{24,}`)
	// The lines of a hard-wrapped URL (PKCE's authorize URL: its state,
	// challenge and loopback port are random).
	maskIDClaim = regexp.MustCompile(`(?:at_hash|nonce)(?: |\x1b\[[0-9;]*m)+[A-Za-z0-9_-]{16,}`)
	maskURLLine = regexp.MustCompile(`(?m)^(?:http://127\.0\.0\.1:#+/oauth/authorize\?|[A-Za-z0-9%=&._~-]{30,}$).*$`)
)

func masked(view string) string {
	hashes := func(s string) string {
		return regexp.MustCompile(`[0-9a-f]`).ReplaceAllString(s, "#")
	}
	view = maskPort.ReplaceAllStringFunc(view, func(s string) string {
		return "127.0.0.1:" + strings.Repeat("#", len(s)-len("127.0.0.1:"))
	})
	view = maskID.ReplaceAllStringFunc(view, func(s string) string {
		name, id, _ := strings.Cut(s, " ")
		return name + " " + hashes(id)
	})
	view = maskHex.ReplaceAllStringFunc(view, hashes)
	view = maskNode.ReplaceAllString(view, "$1########")
	view = maskKid.ReplaceAllString(view, "$1################")
	view = maskBase64.ReplaceAllStringFunc(view, func(s string) string { return strings.Repeat("=", len(s)) })
	view = maskIDClaim.ReplaceAllStringFunc(view, func(s string) string { // random per login (ID tokens)
		v := regexp.MustCompile(`[A-Za-z0-9_-]{16,}$`).FindString(s)
		return s[:len(s)-len(v)] + strings.Repeat("=", len(v))
	})
	lines := strings.Split(view, "\n")
	inURL := false
	for i, line := range lines {
		if maskURLLine.MatchString(line) || inURL && line != "" && !strings.Contains(line, " ") {
			lines[i], inURL = strings.Repeat("~", len(line)), true
		} else {
			inURL = false
		}
	}
	for i, line := range lines {
		lines[i] = strings.TrimRight(line, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// goldenScreens brings a fresh lab to each screen the golden files show.
var goldenScreens = []struct {
	name  string
	walk  func(l *lab)
	first bool // a first run: no prefs file yet
}{
	{"login", func(l *lab) {}, false},
	{"dashboard", func(l *lab) { l.login(); l.key("p") }, false},
	{"dashboard-loggedout", func(l *lab) { l.login(); l.key("x") }, false},
	{"inspector", func(l *lab) { l.login(); l.key("i") }, false},
	{"player", func(l *lab) {
		l.login()
		l.key("s")
		for l.m.player.list[l.m.player.cursor].Name != "reuse-detection" {
			l.key("down")
		}
		l.key("enter", "n", "n", "n", "n")
	}, false},
	{"player-family", func(l *lab) {
		l.login()
		l.key("s", "down", "down", "down", "enter", "n", "n", "n", "n", "g")
	}, false},
	{"player-text", func(l *lab) {
		l.login()
		l.key("s")
		for l.m.player.list[l.m.player.cursor].Name != "reuse-detection" {
			l.key("down")
		}
		l.key("enter", "v", "n", "n", "n", "n")
	}, false},
	{"help", func(l *lab) { l.login(); l.key("?") }, false},
	{"inspector-idtoken", func(l *lab) {
		l.m.c.opts.OpenBrowser = func(ctx context.Context, u string) error { return fillAuthorizeForm(ctx, u, "approve") }
		l.key("down", "right", "enter", "i", "tab", "tab")
	}, false},
	{"request", func(l *lab) { l.login(); l.key("p", "enter") }, false},
	{"request-diagram", func(l *lab) { l.login(); l.key("p", "enter", "tab") }, false},
	{"login-pkce", pkceInProgress, false},
	{"login-device", deviceInProgress, false},
	{"dashboard-why", func(l *lab) { l.login(); l.key("p") }, true},
	{"family", func(l *lab) { l.login(); l.key("r", "r", "a", "g") }, false},
	{"inspector-forged", func(l *lab) {
		l.login()
		l.key("i", "e", "down", "down", "enter")
		for range len(l.m.insp.input.Value()) {
			l.send(keyPress("backspace"))
		}
		l.key("+", "1", "d", "enter", "S")
	}, false},
}

var goldenSizes = []tea.WindowSizeMsg{{Width: 80, Height: 24}, {Width: 120, Height: 40}, {Width: 60, Height: 20}}

// pinnedRunner plays scenarios on servers whose frozen clocks start at
// labStart, so the player's lines are the same every run.
func pinnedRunner(o *Options) {
	r := scenarios.NewRunner()
	r.Wall = func() time.Time { return labStart }
	o.Runner = r
}

// TestGoldenScreens: every screen at 80×24, 120×40 and 60×20, ANSI codes
// stripped, and under NO_COLOR with its codes kept (so the file shows
// there is no colour); `make golden` rewrites them. Each screen is reached
// once and then resized, so the files also show that every screen
// re-lays out on resize. At 60×20 nothing may be cut mid-word and the
// facts that matter must be on screen.
func TestGoldenScreens(t *testing.T) {
	for _, sc := range goldenScreens {
		for _, noColor := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s-nocolor=%t", sc.name, noColor), func(t *testing.T) {
				opts := []labOption{pinnedRunner, func(o *Options) { o.NoColor = noColor }}
				if sc.first {
					prefsFile := filepath.Join(t.TempDir(), "tui.json")
					opts = append(opts, func(o *Options) { o.PrefsFile = prefsFile })
				}
				l := newLab(t, opts...)
				sc.walk(l)
				for _, size := range goldenSizes {
					l.send(size)
					name := fmt.Sprintf("%s-%dx%d", sc.name, size.Width, size.Height)
					got := masked(l.view())
					if noColor {
						name += "-nocolor"
						got = masked(l.rawView())
					}
					compareGolden(t, name+".golden", got)
					l.wantFits(name)
					if size.Width == 60 && !noColor {
						wantNarrowFacts(t, l, sc.name)
					}
				}
			})
		}
	}
}

func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run make golden to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (review, then make golden):\n%s", path, lineDiff(string(want), got))
	}
}

// wantNarrowFacts fails when a line at 60 columns is cut mid-word (it
// ends in the "…" of a cut) or a fact that matters is off the screen.
func wantNarrowFacts(t *testing.T, l *lab, screen string) {
	t.Helper()
	facts := map[string][]string{
		"login":               {"Demo user: alice", "› password", "enter log in", "ctrl+c quit"},
		"login-pkce":          {"Logging in through the browser", "… waiting for browser", "Open this URL", "http://127.0.0.1:", "esc cancel"},
		"login-device":        {"Logging in with a device code", "████", "/device", "code BCDF-GHJK", "expires in 10m", "1 poll so far", "esc cancel"},
		"dashboard-why":       {"Why two?", "lives 15m", "lives 7d", "t hides this", "? keys & words • q quit"},
		"dashboard":           {"ACCESS TOKEN", "REFRESH TOKEN", "VALID", "15m left", "7d left", "expires", "clock Jan 02 09:00:00", "GET /protected 200", "? keys & words • q quit"},
		"dashboard-loggedout": {"REVOKED", "still accepted until exp", "(stateless)", "expires Jan 09 09:00", "? keys & words • q quit"},
		"inspector":           {"Token inspector · access token", "sub", "username", "exp", "tab the other token", "esc back"},
		"player":              {"reuse-detection", "revokes the whole family.", "n/space next step", "q quit"},
		"help":                {"Keys", "Dashboard", "call /protected", "esc back"},
		"family":              {"Token family", "REVOKED", "reuse_detected", "▲ REPLAYED", "✗", "esc back"},
		"inspector-forged":    {"(forged)", "✗ signature invalid", "exp", "✎ edited", "GET /protected → 401", "esc back"},
	}
	view := l.view()
	for i, line := range strings.Split(view, "\n") {
		spinner := strings.IndexFunc(line, func(r rune) bool { return r >= 0x2800 && r <= 0x28FF }) == 0 // "⠋ waiting…"
		if strings.HasSuffix(strings.TrimRight(line, " │"), "…") && !maskID.MatchString(line) && !spinner {
			t.Errorf("%s at 60x20: line %d is cut: %q", screen, i+1, line)
		}
	}
	for _, f := range facts[screen] {
		if !strings.Contains(flat(view), flat(f)) {
			t.Errorf("%s at 60x20 lacks %q:\n%s", screen, f, view)
		}
	}
}

// lineDiff shows the lines that differ, numbered.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "%3d - %s\n%3d + %s\n", i+1, wl, i+1, gl)
		}
	}
	return b.String()
}
