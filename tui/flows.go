package tui

// Login flows besides the password: authorization code + PKCE and device
// authorization. Each runs as one command (the client's LoginPKCE or
// LoginDevice); what the user must see while it runs (the authorize URL,
// the user code) comes back through the flow channel as messages, and
// each step the client takes arrives as a client event, for the screen
// and the timeline. esc cancels the flow's context.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/tokenlab/tokenlab/client"
)

// The flows the login screen may offer, in the order shown.
var flowOrder = []string{client.FlowPassword, client.FlowPKCE, client.FlowDevice}

// flowTitles name each flow on the login screen.
var flowTitles = map[string]string{
	client.FlowPassword: "password",
	client.FlowPKCE:     "browser (PKCE)",
	client.FlowDevice:   "device code",
}

// embeddedClientID is the embedded server's public OAuth client.
const embeddedClientID = "tokenlab"

// flowsMsg says which flows the server offers.
type flowsMsg struct {
	flows []string
	err   error
}

// flowProfile is the profile a flow logs in with: the form's for the
// password flow; for PKCE and device against the embedded server, the
// oauth2 profile with its public client (the tokenlab profile knows only
// passwords).
func flowProfile(profile client.Profile, embedded bool, flow string) client.Profile {
	if flow == client.FlowPassword || !embedded {
		return profile
	}
	p := client.BuiltinProfiles()["oauth2"]
	p.OAuth.ClientID = embeddedClientID
	return p
}

// flowsCmd reads which flows the server offers: for an oauth2 profile,
// and for the embedded server's oauth2 side, from its discovery document
// (CheckFlow); a json-dialect profile against another API logs in with a
// password only.
func flowsCmd(ctx context.Context, server string, profile client.Profile, embedded bool) tea.Cmd {
	if !embedded && profile.Dialect != client.DialectOAuth2 {
		return nil
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var flows []string
		var firstErr error
		for _, f := range flowOrder {
			p := flowProfile(profile, embedded, f)
			if f == client.FlowPassword && p.Dialect != client.DialectOAuth2 {
				flows = append(flows, f) // the seed dialect always logs in with a password
				continue
			}
			c, err := client.New(server, "", p, client.NewMemoryStore())
			if err == nil {
				err = c.CheckFlow(ctx, f)
			}
			if err == nil {
				flows = append(flows, f)
			} else if firstErr == nil && !errors.Is(err, client.ErrFlowNotOffered) {
				firstErr = err
			}
		}
		return flowsMsg{flows: flows, err: firstErr}
	}
}

// Messages from a running flow, through common.flow.
type (
	// authorizeURLMsg: the PKCE flow's authorize URL, and whether a
	// browser was opened on it.
	authorizeURLMsg struct {
		url    string
		opened bool
		why    string // why no browser was opened
	}
	// deviceCodeMsg: what the user must enter, and where.
	deviceCodeMsg struct{ code client.DeviceCode }
)

// flowChan carries a running flow's messages to the UI; the callbacks
// never block (a full channel drops, which only the screen would miss).
type flowChan chan tea.Msg

func (ch flowChan) send(msg tea.Msg) {
	select {
	case ch <- msg:
	default:
	}
}

// waitFlow reads one flow message; the root re-arms it after each.
func waitFlow(ch flowChan) tea.Cmd { return func() tea.Msg { return <-ch } }

// flowRequest is what a flow login needs besides the form's fields.
type flowRequest struct {
	loginRequest
	flow    string
	profile client.Profile
	// open opens the authorize URL in a browser; nil: none is opened and
	// the URL is shown to copy.
	open  func(ctx context.Context, url string) error
	sleep func(ctx context.Context, d time.Duration) error
	ch    flowChan
}

// flowLoginCmd runs a PKCE or device login to its end.
func flowLoginCmd(ctx context.Context, a *acting, r flowRequest) tea.Cmd {
	return func() tea.Msg {
		a.set("client", "")
		c, err := client.New(r.server, "", r.profile, r.store, r.opts...)
		if err != nil {
			return loginDoneMsg{err: err}
		}
		var s client.Session
		switch r.flow {
		case client.FlowPKCE:
			// The browser gets only the one-time start URL (its command
			// line is public); the screen shows the authorize URL itself.
			var browserErr error
			opts := client.PKCEOptions{Open: func(ctx context.Context, u string) error {
				msg := authorizeURLMsg{url: u}
				if r.open == nil {
					msg.why = "no browser is opened here (--no-browser)"
				} else if browserErr != nil {
					msg.why = "the browser could not be opened (" + trimDot(browserErr.Error()) + ")"
				} else {
					msg.opened = true
				}
				r.ch.send(msg)
				return nil // shown to copy when no browser opened: the login waits either way
			}}
			if r.open != nil {
				opts.Browser = func(ctx context.Context, u string) error { browserErr = r.open(ctx, u); return browserErr }
			}
			s, err = c.LoginPKCE(ctx, opts)
		case client.FlowDevice:
			s, err = c.LoginDevice(ctx, client.DeviceOptions{Sleep: r.sleep, Show: func(_ context.Context, code client.DeviceCode) error {
				r.ch.send(deviceCodeMsg{code: code})
				return nil
			}})
		}
		return loginDoneMsg{client: c, profile: r.profile, session: s, err: err}
	}
}

// bigFont draws the letters of a device user code (no vowels) and the
// dash five rows high, so the code reads from across a room.
var bigFont = map[rune][5]string{
	'B': {"████ ", "█   █", "████ ", "█   █", "████ "},
	'C': {" ████", "█    ", "█    ", "█    ", " ████"},
	'D': {"████ ", "█   █", "█   █", "█   █", "████ "},
	'F': {"█████", "█    ", "████ ", "█    ", "█    "},
	'G': {" ████", "█    ", "█  ██", "█   █", " ████"},
	'H': {"█   █", "█   █", "█████", "█   █", "█   █"},
	'J': {"  ███", "    █", "    █", "█   █", " ███ "},
	'K': {"█   █", "█  █ ", "███  ", "█  █ ", "█   █"},
	'L': {"█    ", "█    ", "█    ", "█    ", "█████"},
	'M': {"█   █", "██ ██", "█ █ █", "█   █", "█   █"},
	'N': {"█   █", "██  █", "█ █ █", "█  ██", "█   █"},
	'P': {"████ ", "█   █", "████ ", "█    ", "█    "},
	'Q': {" ███ ", "█   █", "█   █", "█  ██", " ████"},
	'R': {"████ ", "█   █", "████ ", "█  █ ", "█   █"},
	'S': {" ████", "█    ", " ███ ", "    █", "████ "},
	'T': {"█████", "  █  ", "  █  ", "  █  ", "  █  "},
	'V': {"█   █", "█   █", "█   █", " █ █ ", "  █  "},
	'W': {"█   █", "█   █", "█ █ █", "██ ██", "█   █"},
	'X': {"█   █", " █ █ ", "  █  ", " █ █ ", "█   █"},
	'Z': {"█████", "   █ ", "  █  ", " █   ", "█████"},
	'-': {"     ", "     ", " ███ ", "     ", "     "},
}

// bigText draws code large when every letter has a glyph and it fits
// width; otherwise ok is false and the caller shows it plainly.
func bigText(code string, width int) (lines []string, ok bool) {
	runes := []rune(strings.ToUpper(code))
	if len(runes) == 0 || len(runes)*6-1 > width {
		return nil, false
	}
	rows := make([]string, 5)
	for i, r := range runes {
		g, known := bigFont[r]
		if !known {
			return nil, false
		}
		for row := range rows {
			if i > 0 {
				rows[row] += " "
			}
			rows[row] += g[row]
		}
	}
	for i := range rows {
		rows[i] = strings.TrimRight(rows[i], " ")
	}
	return rows, true
}

// hardWrap breaks text (a URL, which has no spaces) every width cells.
func hardWrap(text string, width int) []string {
	width = max(width, 10)
	var lines []string
	for len(text) > width {
		lines = append(lines, text[:width])
		text = text[width:]
	}
	return append(lines, text)
}

// flowRun is a running flow's progress, as the login screen shows it.
type flowRun struct {
	flow   string
	steps  []entry // the client's steps so far, narrated as in the timeline
	url    string  // PKCE: the authorize URL
	opened bool    // PKCE: a browser was opened on it
	noOpen string  // PKCE: why none was
	code   *client.DeviceCode
	expiry time.Time // device: when the user code expires, by the lab's clock
	polls  int
	failed bool // the flow ended in an error: its screen stays, with the error
}

func (r flowRun) saw(msg tea.Msg, now time.Time) flowRun {
	switch msg := msg.(type) {
	case authorizeURLMsg:
		r.url, r.opened, r.noOpen = msg.url, msg.opened, msg.why
	case deviceCodeMsg:
		code := msg.code
		r.code, r.expiry = &code, now.Add(code.ExpiresIn)
	case clientEventMsg:
		if r.flow == "" {
			return r
		}
		if msg.Kind == client.EventDevicePoll {
			r.polls++
		}
		if en, ok := clientEntry(labEvent(msg), narration{}); ok && msg.Kind != client.EventResponse && msg.Kind != client.EventStoreWrite {
			r.steps = append(r.steps, en)
			if len(r.steps) > 50 {
				r.steps = r.steps[len(r.steps)-50:]
			}
		}
	}
	return r
}

// appendWrapped adds text to lines, wrapped to width, each line in style.
func appendWrapped(lines []string, style func(...string) string, text string, width int) []string {
	for _, w := range wrap(text, width) {
		lines = append(lines, style(w))
	}
	return lines
}

// flowView is the login screen while a PKCE or device login runs.
func (l loginModel) flowView() string {
	s := l.c.styles
	width := max(l.c.width, 20)
	r := l.run
	var lines []string
	add := func(style func(...string) string, text string) { lines = appendWrapped(lines, style, text, width) }
	title := map[string]string{client.FlowPKCE: "Logging in through the browser: authorization code + PKCE",
		client.FlowDevice: "Logging in with a device code (RFC 8628)"}[r.flow]
	add(s.Title.Render, title)
	lines = append(lines, "")
	// The steps so far, one short line; the newest step's why in full.
	var names []string
	for _, st := range r.steps {
		names = append(names, strings.ReplaceAll(stepMark(st)+" "+st.What, " ", "\u00a0")) // a step never splits across lines
	}
	if len(names) > 0 {
		for _, w := range wrap(strings.Join(names, "  "), width) {
			lines = append(lines, s.Value.Render(strings.ReplaceAll(w, "\u00a0", " ")))
		}
		add(s.Value.Render, r.steps[len(r.steps)-1].Why)
		lines = append(lines, "")
	}
	switch r.flow {
	case client.FlowPKCE:
		lines = append(lines, l.pkceLines(width)...)
	case client.FlowDevice:
		lines = append(lines, l.deviceLines(width)...)
	}
	lines = append(lines, "")
	if l.busy != "" { // no spinner: the wait is for a person, and may be long; the countdown shows life
		add(s.Warn.Render, upperFirst(l.busy)+": this screen goes on by itself.")
	}
	if st := l.c.statusView(l.status); st != "" {
		lines = append(lines, st)
	}
	k := l.c.keys
	help := []key.Binding{named(k.Tab, "diagram"), named(k.Back, "cancel"), k.ForceQuit}
	if l.busy == "" {
		help = []key.Binding{k.NextField, named(k.LogIn, "try again"), k.ForceQuit}
	}
	// The steps give way first when the window is short: the URL or the
	// code and the way out must stay.
	if room := l.c.height - 1; len(lines) > room {
		cut := len(lines) - room
		lines = append(lines[:1], lines[min(1+cut, len(lines)):]...)
	}
	return strings.Join(lines, "\n") + "\n" + l.c.footer(help)
}

func (l loginModel) pkceLines(width int) []string {
	s := l.c.styles
	r := l.run
	var lines []string
	add := func(style func(...string) string, text string) { lines = appendWrapped(lines, style, text, width) }
	if r.url == "" {
		add(s.Subtle.Render, "Preparing the authorize URL…")
		return lines
	}
	if r.failed { // the client's loopback listener is closed: the URL leads nowhere now
		add(s.Label.Render, "This login ended; its authorize URL is of no further use. Press enter to start a new one.")
		return lines
	}
	if r.opened {
		add(s.Label.Render, "Your browser was opened on the server's login page. Log in there (alice / password123); this screen goes on by itself. Or open this URL:")
	} else {
		add(s.Label.Render, "Open this URL in a browser and log in (alice / password123); "+r.noOpen+":")
	}
	for _, u := range hardWrap(r.url, width) {
		lines = append(lines, s.Info.Render(u))
	}
	return lines
}

func (l loginModel) deviceLines(width int) []string {
	s := l.c.styles
	r := l.run
	var lines []string
	add := func(style func(...string) string, text string) { lines = appendWrapped(lines, style, text, width) }
	if r.code == nil {
		add(s.Subtle.Render, "Asking the server for a device code…")
		return lines
	}
	if r.failed {
		add(s.Label.Render, "This login ended; its code "+r.code.UserCode+" is of no further use. Press enter to start a new one.")
		return lines
	}
	add(s.Label.Render, "On any device, open "+r.code.VerificationURI+" , log in and enter this code:")
	lines = append(lines, "")
	if big, ok := bigText(r.code.UserCode, width); ok {
		for _, b := range big {
			lines = append(lines, s.Title.Render(b))
		}
	}
	left := r.expiry.Sub(l.c.now)
	expires := "expired"
	if left > 0 {
		expires = "expires in " + client.HumanDuration(left)
	}
	add(s.Value.Render, "code "+r.code.UserCode+" · "+expires+" · polls every "+r.code.Interval.String()+fmt.Sprintf(" · %d poll%s so far", r.polls, plural(r.polls)))
	return lines
}

// stepMark marks a flow step: ✓ done, … still waiting (on a browser or
// an approval), ✗ refused or failed. Only a step that succeeded gets ✓.
func stepMark(st entry) string {
	switch {
	case st.Tone == "bad":
		return "✗"
	case st.What == "waiting for browser", strings.HasPrefix(st.What, "poll: "):
		return "…"
	}
	return "✓"
}
