// Package tui is tokenlab's terminal UI: log in, then watch the access and
// refresh tokens live, age, refresh, rotate and die, with a timeline that
// says why each exchange happened, a token inspector and a scenario player.
//
// Each screen (login.go, dashboard.go, inspector.go, family.go, player.go,
// help.go) owns its state, its update and its view; the root Model here routes
// messages by the screen in front, forwards window sizes to every screen,
// holds what they share (common) and alone builds the tea.View.
//
// To add a screen: a file with an xModel holding *common and its own
// state and status, newXModel(c), update(msg) (xModel, tea.Cmd), view()
// and resize(); a screen constant; a case in Update's screen switch, in
// View, in the WindowSizeMsg case and, for messages its commands send, in
// Update's message switch; keys in keyMap and allKeys. Screens change
// screens by returning show(screenX), which the root handles in show.
//
// Beside the screens: flows.go runs the browser (PKCE) and device logins
// as commands whose URL and user code come back on common.flow;
// forge.go is the inspector's signature check and claim editor; why.go
// the "why two tokens" explanation and the prefs file that remembers it;
// admin.go reads the embedded server's events and families; routes.go
// says what each endpoint's answer means, one sentence per route;
// order.go keeps the timeline in one ordering; where.go reads where the
// tokens are now; scroll.go scrolls the timeline; copy.go copies tokens
// and sends the old access token; reset.go is ctrl+r; remote.go moves a
// --server's clock through its admin API; settings.go is the settings
// screen; stage.go the dashboard of a playing scenario; request.go the
// request view; sequence.go a login's sequence diagram; idtoken.go the
// inspector's ID token; watch.go the --watch screen.
package tui

import (
	"context"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver"
	"github.com/tokenlab/tokenlab/scenarios"
)

// Options configure the TUI.
type Options struct {
	// Embedded is the in-process server the lab runs against; nil means
	// Server, another API, whose clock cannot be moved.
	Embedded *mockserver.Embedded
	Server   string
	// AdminToken, with Server, is the admin token of a tokenlab server
	// there (tokenlab serve): the clock keys, the server's rows in the
	// timeline and the family graph then work as on the embedded server.
	AdminToken string
	Profile    client.Profile
	Store      client.Store
	// StoreNote, when set, explains the choice of Store on the login
	// screen (the lab fell back to memory because no keyring answered).
	StoreNote string
	Username  string // prefilled on the login screen
	Password  string // prefilled (the embedded demo user's)
	NoColor   bool
	// Clock is the lab's time (the embedded server's clock; the wall clock
	// otherwise). Tests pin it.
	Clock Clock
	// ClientOptions are added to the client's (the cross-process refresh
	// lock, so the lab and tokenlab commands never refresh one session
	// twice).
	ClientOptions []client.Option
	// Secrets are the embedded server's HS256 secrets when the launcher
	// started it with them (Secrets.Configure): the inspector then checks
	// HS256 signatures. Empty against another API.
	Secrets Secrets
	// PrefsFile is where the TUI remembers small non-secret choices (is
	// "why two tokens" shown); DefaultPrefsFile() in tokenlab tui. Empty:
	// nothing is remembered and the explanation starts hidden.
	PrefsFile string
	// OpenBrowser opens a PKCE login's authorize URL; client.OpenBrowser
	// when nil. NoBrowser opens none: the URL is shown to copy.
	OpenBrowser func(ctx context.Context, url string) error
	NoBrowser   bool
	// DeviceSleep waits between a device login's polls; a real timer when
	// nil (tests move the frozen server clock instead).
	DeviceSleep func(ctx context.Context, d time.Duration) error
	// Runner plays scenarios; scenarios.NewRunner() when nil.
	Runner *scenarios.Runner
	// StepPause is how long each step of a scenario run to its end (R)
	// stays on the screen before the next; 3 s when 0.
	StepPause time.Duration
	// Reset, when set, starts the embedded server again on a new
	// database and returns it (ctrl+r, twice); the caller closes the old
	// one. Nil: ctrl+r only says it cannot.
	Reset func(ctx context.Context) (*mockserver.Embedded, error)
	// Watch, with Server and AdminToken, is an OAuth client's ID: the lab
	// opens on the watch screen (watch.go), the families and server events
	// of that client's sessions, live; nothing logs in.
	Watch string
	// Location is the learner's time zone: the dashboard shows times in
	// it and names it (the inspector shows the token's UTC). time.Local
	// when nil.
	Location *time.Location
}

type screen int

const (
	screenLogin screen = iota
	screenDashboard
	screenInspector
	screenPlayer
	screenHelp
	screenFamily
	screenSettings
	screenRequest
	screenWatch
)

// showMsg asks the root to bring a screen to the front.
type showMsg struct{ screen screen }

func show(s screen) tea.Cmd { return func() tea.Msg { return showMsg{s} } }

// common is what every screen shares and reads; only the root changes it
// (size, time, styles), the way glow's commonModel is shared.
type common struct {
	ctx    context.Context
	opts   Options
	styles Styles
	keys   keyMap
	help   help.Model
	spin   spinner.Model

	width, height int
	now           time.Time

	admin  *adminAPI // the embedded server's admin routes; nil against another API
	events events    // client events, from the client's callback to the root
	flow   flowChan  // a running login flow's URL or user code, to the login screen
	acting *acting   // whose requests the client sends now, and why
}

// Model is the root model.
type Model struct {
	c            *common
	screen, back screen
	firstRun     bool // no prefs file yet: the explanation shows this once
	resetAsked   bool // ctrl+r was pressed once: a second one resets (reset.go)

	login  loginModel
	dash   dashboardModel
	insp   inspectorModel
	player playerModel
	help   helpModel
	fam    familyModel
	set    settingsModel
	req    requestModel
	watch  watchModel
}

// New returns the TUI's root model.
func New(ctx context.Context, opts Options) Model {
	var admin *adminAPI
	switch {
	case opts.Embedded != nil:
		admin = newAdminAPI(opts.Embedded.URL, opts.Embedded.AdminToken)
	case opts.AdminToken != "" && opts.Server != "":
		admin = newAdminAPI(strings.TrimRight(opts.Server, "/"), opts.AdminToken)
	}
	if opts.Clock == nil {
		opts.Clock = wallClock{}
		switch {
		case opts.Embedded != nil:
			opts.Clock = opts.Embedded.Clock
		case admin != nil:
			opts.Clock = &remoteClock{admin: admin}
		}
	}
	if opts.Runner == nil {
		opts.Runner = scenarios.NewRunner()
	}
	if opts.StepPause <= 0 {
		opts.StepPause = 3 * time.Second
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	c := &common{
		ctx:    ctx,
		opts:   opts,
		styles: NewStyles(true, opts.NoColor),
		keys:   newKeyMap(),
		help:   help.New(),
		spin:   spinner.New(spinner.WithSpinner(spinner.MiniDot)),
		events: make(events, 256),
		flow:   make(flowChan, 8),
		acting: &acting{},
		now:    opts.Clock.Now(),
		width:  80, height: 24,
	}
	c.admin = admin
	c.help.Styles = c.styles.Help
	m := Model{c: c}
	m.login = newLoginModel(c)
	m.dash = newDashboardModel(c)
	p, first := loadPrefs(opts.PrefsFile)
	m.dash.why, m.firstRun = p.WhyTwoTokens, first
	m.insp = newInspectorModel(c)
	m.player = newPlayerModel(c)
	m.help = newHelpModel(c)
	m.fam = newFamilyModel(c)
	m.set = newSettingsModel(c)
	m.req = newRequestModel(c)
	m.watch = newWatchModel(c)
	if opts.Watch != "" && admin != nil {
		m.screen = screenWatch
	}
	return m
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// Init starts the clock tick, the client event reader, reads where the
// server's event log ends and asks for the terminal's background colour.
func (m Model) Init() tea.Cmd {
	var baseline tea.Cmd
	if m.c.admin != nil {
		baseline = eventsBaselineCmd(m.c.ctx, m.c.admin, m.c.opts.Clock)
	}
	var remember tea.Cmd
	if m.firstRun { // shown now, hidden on later runs until asked for
		remember = savePrefsCmd(m.c.opts.PrefsFile, prefs{WhyTwoTokens: false})
	}
	server := m.c.opts.Server
	if m.c.opts.Embedded != nil {
		server = m.c.opts.Embedded.URL
	}
	if m.screen == screenWatch {
		return tea.Batch(tick(m.c.opts.Clock), m.watch.poll(), tea.RequestBackgroundColor)
	}
	flows := flowsCmd(m.c.ctx, server, m.c.opts.Profile, m.c.opts.Embedded != nil)
	return tea.Batch(baseline, remember, flows, tick(m.c.opts.Clock), waitEvent(m.c.events), waitFlow(m.c.flow),
		tea.RequestBackgroundColor, m.login.blink())
}

// Update routes a message: what all screens share here, the rest to the
// screen it belongs to.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.c.width, m.c.height = msg.Width, msg.Height
		m.c.help.SetWidth(msg.Width)
		m.login = m.login.resize()
		m.dash = m.dash.resize()
		m.insp = m.insp.resize()
		m.player = m.player.resize()
		m.help = m.help.resize()
		m.fam = m.fam.resize()
		m.req = m.req.resize()
		return m, nil
	case tea.BackgroundColorMsg:
		m.c.styles = NewStyles(msg.IsDark(), m.c.opts.NoColor)
		m.c.help.Styles = m.c.styles.Help
		m.login = m.login.restyle()
		m.dash = m.dash.resize() // re-rendered in the new styles
		m.help = m.help.resize()
		return m, nil
	case tickMsg:
		m.c.now = msg.now
		if m.screen == screenWatch { // live: each tick reads what is new
			return m, tea.Batch(tick(m.c.opts.Clock), m.watch.poll())
		}
		return m, tick(m.c.opts.Clock)
	case watchMsg:
		var cmd tea.Cmd
		m.watch, cmd = m.watch.update(msg)
		return m, cmd
	case spinner.TickMsg:
		if !m.busy() {
			return m, nil // stop spinning when idle
		}
		var cmd tea.Cmd
		m.c.spin, cmd = m.c.spin.Update(msg)
		return m, cmd
	case showMsg:
		return m.show(msg.screen)
	case eventsBaselineMsg:
		m.login.eventsWait = false
		if !msg.now.IsZero() {
			m.c.now = msg.now // a --server's clock, read with its events
		}
		var cmd tea.Cmd
		m.dash, cmd = m.dash.update(msg)
		return m, cmd
	case clientEventMsg:
		var cmd tea.Cmd
		m.dash, cmd = m.dash.update(msg)
		if m.login.busy != "" {
			m.login, _ = m.login.update(msg) // a flow's steps, on its screen too
		}
		return m, cmd
	case authorizeURLMsg, deviceCodeMsg:
		m.login, _ = m.login.update(msg)
		return m, waitFlow(m.c.flow)
	case flowsMsg:
		m.login, _ = m.login.update(msg)
		return m, nil
	case serverEventMsg:
		var cmd, again tea.Cmd
		m.dash, cmd = m.dash.update(msg)
		m.fam, again = m.fam.saw(msg.events, m.screen == screenFamily)
		return m, tea.Batch(cmd, again)
	case jwksMsg:
		var cmd tea.Cmd
		m.insp, cmd = m.insp.update(msg)
		return m, cmd
	case forgedSentMsg:
		var cmd tea.Cmd // the refusal is in the server's log: the timeline reads it
		m.insp, cmd = m.insp.update(msg)
		return m, tea.Batch(cmd, m.dash.serverEvents())
	case prefsSavedMsg:
		if msg.err != nil {
			m.dash.status = status{"warn", "Could not remember the choice in " + m.c.opts.PrefsFile + ": " + sentence(msg.err)}
		}
		return m, nil
	case sendForgedMsg:
		return m, sendForgedCmd(m.c.ctx, m.c.admin, msg.url, msg.token, m.dash.lastEvent)
	case familyMsg:
		var cmd tea.Cmd
		m.fam, cmd = m.fam.update(msg)
		return m, cmd
	case settingsMsg:
		var cmd tea.Cmd
		m.set, cmd = m.set.update(msg)
		if msg.err == nil && msg.changed != "" { // the change, in the timeline; the cards read the new policy
			m.dash.appendNow(settingEntry(m.c.now, m.set, msg.changed))
			return m, tea.Batch(cmd, m.dash.serverEvents())
		}
		return m, cmd
	case loginDoneMsg:
		var cmd tea.Cmd
		m.login, cmd = m.login.update(msg)
		if msg.err != nil {
			return m, tea.Batch(cmd, m.dash.serverEvents())
		}
		m.dash, cmd = m.dash.adoptLogin(msg)
		m.screen = screenDashboard
		return m, cmd
	case clockMovedMsg:
		var cmd tea.Cmd
		if m.screen == screenWatch {
			m.watch, cmd = m.watch.update(msg)
			return m, cmd
		}
		m.dash, cmd = m.dash.update(msg)
		return m, cmd
	case actionDoneMsg, attackDoneMsg, storeCheckedMsg, oldAccessMsg:
		var cmd tea.Cmd
		m.dash, cmd = m.dash.update(msg)
		return m, cmd
	case playStartedMsg, stepDoneMsg, playClosedMsg, stagePauseMsg:
		var cmd tea.Cmd
		m.player, cmd = m.player.update(msg)
		return m, cmd
	case resetDoneMsg:
		return m.resetDone(msg)
	case tea.KeyPressMsg:
		var cmd tea.Cmd
		var handled bool
		if m, cmd, handled = m.resetKey(msg); handled {
			return m, cmd
		}
		if key.Matches(msg, m.c.keys.ForceQuit) || m.screen != screenLogin && key.Matches(msg, m.c.keys.Quit) {
			return m, tea.Quit // on the login screen q is a letter of a password
		}
		if m.screen == screenFamily && m.dash.acts(msg) {
			var cmd tea.Cmd // the graph stays in front and follows what the key does
			m.dash, cmd = m.dash.update(msg)
			return m, cmd
		}
	}
	var cmd tea.Cmd
	switch m.screen {
	case screenLogin:
		m.login, cmd = m.login.update(msg)
	case screenInspector:
		m.insp, cmd = m.insp.update(msg)
	case screenPlayer:
		m.player, cmd = m.player.update(msg)
	case screenHelp:
		m.help, cmd = m.help.update(msg)
	case screenFamily:
		m.fam, cmd = m.fam.update(msg)
	case screenSettings:
		m.set, cmd = m.set.update(msg)
	case screenRequest:
		m.req, cmd = m.req.update(msg)
	case screenWatch:
		m.watch, cmd = m.watch.update(msg)
	default:
		m.dash, cmd = m.dash.update(msg)
	}
	return m, cmd
}

// show brings a screen to the front; the inspector and help go back to
// the screen they were opened from.
func (m Model) show(s screen) (Model, tea.Cmd) {
	switch s {
	case screenInspector:
		var cmd tea.Cmd
		m.insp, cmd = m.insp.open(m.dash.session, m.insp.server())
		m.back = m.screen
		m.screen = s
		return m, cmd
	case screenHelp:
		m.help = m.help.open()
		m.back = m.screen
	case screenFamily:
		m.screen = s
		var cmd tea.Cmd
		m.fam, cmd = m.fam.open(m.dash.session.RefreshToken)
		m.fam.openedWith = m.dash.statusKey()
		return m, cmd
	case screenLogin:
		m.screen = s
		var cmd tea.Cmd
		m.login, cmd = m.login.open(m.dash.live())
		return m, cmd
	case screenSettings:
		m.screen = s
		var cmd tea.Cmd
		m.set, cmd = m.set.open()
		return m, cmd
	case screenRequest:
		m.req = m.req.open(m.dash.entries, m.dash.bottomRow(), m.login.seq)
		m.back = m.screen
	case screenDashboard:
		if m.screen == screenInspector || m.screen == screenHelp || m.screen == screenRequest {
			s = m.back
		}
	}
	m.screen = s
	return m, nil
}

// busy reports whether an exchange is in flight anywhere (the spinner
// turns only then).
// A browser or device login waits for a person, maybe for minutes: no
// spinner then.
func (m Model) busy() bool {
	return m.login.busy != "" && m.login.run.flow == "" || m.dash.busy != "" || m.player.running
}

// View builds the whole screen.
func (m Model) View() tea.View {
	var body string
	switch m.screen {
	case screenLogin:
		body = m.login.view()
	case screenInspector:
		body = m.insp.view()
	case screenPlayer:
		body = m.player.view()
	case screenHelp:
		body = m.help.view()
	case screenSettings:
		body = m.set.view()
	case screenRequest:
		body = m.req.view()
	case screenWatch:
		body = m.watch.view()
	case screenFamily:
		fam := m.fam
		fam.policy = m.dash.policy
		body = fam.view(m.dash.statusKey(), m.dash.statusLine(true))
	default:
		body = m.dash.view()
	}
	v := tea.NewView(fit(body, m.c.width, m.c.height))
	v.AltScreen = true
	v.WindowTitle = "tokenlab"
	return v
}

// fit cuts the view to the window so nothing wraps or scrolls.
func fit(s string, width, height int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		if lipgloss.Width(l) > width {
			lines[i] = truncate(l, width)
		}
	}
	return strings.Join(lines, "\n")
}

// Close removes what the lab left behind: a scenario still playing, and,
// against the embedded server, whose address changes every start, the
// stored session, which is of no further use.
func (m Model) Close(ctx context.Context) error {
	if m.player.play != nil {
		m.player.play.Close() // its own embedded server; the program has ended, so blocking is fine
	}
	if m.dash.client == nil || m.c.opts.Embedded == nil {
		return nil
	}
	return m.c.opts.Store.Delete(ctx, m.dash.client.Key())
}
