package tui

// "Why two tokens": a short explanation under the cards, shown on the
// first run and then only when asked for (t); the choice is kept in a
// small non-secret file in the user's config dir.

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/tokenlab/tokenlab/client"
)

// prefs are what the TUI remembers between runs. Nothing secret.
type prefs struct {
	// WhyTwoTokens: show the explanation under the cards.
	WhyTwoTokens bool `json:"whyTwoTokens"`
}

// loadPrefs reads the prefs file; first is true when there is none yet
// (the first run). A file that cannot be read counts as a first run: the
// explanation is shown, which is the safe mistake.
func loadPrefs(path string) (p prefs, first bool) {
	if path == "" {
		return prefs{}, false
	}
	f, err := os.Open(path)
	if err != nil {
		return prefs{WhyTwoTokens: true}, true
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil || json.Unmarshal(data, &p) != nil {
		return prefs{WhyTwoTokens: true}, true
	}
	return p, false
}

type prefsSavedMsg struct{ err error }

// savePrefsCmd writes the prefs file (a temporary file renamed over it,
// so a crash never leaves half a file).
func savePrefsCmd(path string, p prefs) tea.Cmd {
	if path == "" {
		return nil
	}
	return func() tea.Msg {
		data, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			return prefsSavedMsg{err}
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return prefsSavedMsg{err}
		}
		tmp, err := os.CreateTemp(filepath.Dir(path), ".tui-*.json")
		if err != nil {
			return prefsSavedMsg{err}
		}
		_, werr := tmp.Write(append(data, '\n'))
		cerr := tmp.Close()
		if err := errors.Join(werr, cerr); err != nil {
			os.Remove(tmp.Name())
			return prefsSavedMsg{err}
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			os.Remove(tmp.Name())
			return prefsSavedMsg{err}
		}
		return prefsSavedMsg{}
	}
}

// DefaultPrefsFile is where the TUI keeps its prefs: tui.json in
// tokenlab's directory of the user's config dir.
func DefaultPrefsFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "tokenlab", "tui.json"), nil
}

// lifetime is a token's exp − iat in words; fallback when unknown.
func lifetime(tok, fallback string) string {
	d, err := client.Decode(tok)
	if err != nil {
		return fallback
	}
	var iat, exp time.Time
	for _, t := range d.Times(time.Time{}) {
		switch t.Claim {
		case "iat":
			iat = t.At
		case "exp":
			exp = t.At
		}
	}
	if iat.IsZero() || exp.IsZero() || !exp.After(iat) {
		return fallback
	}
	return client.HumanDuration(exp.Sub(iat))
}

// whyView is the explanation, to fit width; compact gives the two-line
// form for short windows.
func (d dashboardModel) whyView(width int, compact bool) string {
	s := d.c.styles
	access := lifetime(d.session.AccessToken, "minutes")
	refresh := lifetime(d.session.RefreshToken, "days")
	toggle := d.c.keys.Why.Help().Key
	if compact {
		lines := wrap("Why two? ACCESS: to the API on every call, lives "+access+". REFRESH: only to the auth server, lives "+refresh+", revocable. "+toggle+" hides this.", width)
		for i := range lines {
			lines[i] = s.Note.Render(lines[i])
		}
		return strings.Join(lines, "\n")
	}
	var out []string
	out = append(out, s.Label.Render("Why two tokens?")+s.Subtle.Render("  ("+toggle+" hides this)"))
	item := func(name, text string) {
		lead := s.Selected.Render(name)
		pad := 9 - lipgloss.Width(name)
		lines := wrap(text, width-9)
		out = append(out, lead+strings.Repeat(" ", pad)+s.Value.Render(lines[0]))
		for _, l := range lines[1:] {
			out = append(out, strings.Repeat(" ", 9)+s.Value.Render(l))
		}
	}
	item("ACCESS", "sent to the API with every call, so many systems see it; whoever holds it can use it. It lives "+access+
		": the API checks signature, exp, nbf, iss, aud and typ, no database, so a stolen one is useless soon.")
	item("REFRESH", "sent only to the auth server, to get new access tokens. It lives "+refresh+
		", and the server checks it in its database each time, so it can be rotated and revoked.")
	return strings.Join(out, "\n")
}
