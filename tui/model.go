// Package tui is tokenlab's terminal UI: log in, then watch the access and
// refresh tokens live, age, refresh, rotate and die, with a timeline that
// says why each exchange happened, a token inspector and a scenario player.
package tui

import (
	"context"
	"slices"
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
	Profile  client.Profile
	Store    client.Store
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
	// Runner plays scenarios; scenarios.NewRunner() when nil.
	Runner *scenarios.Runner
}

type screen int

const (
	screenLogin screen = iota
	screenDashboard
	screenInspector
	screenPlayer
	screenHelp
)

// Model is the root model: it routes messages to the screen in front,
// keeps the session state all screens share, and alone builds the view.
type Model struct {
	ctx    context.Context
	opts   Options
	styles Styles
	keys   keyMap
	help   help.Model
	spin   spinner.Model

	width, height int
	screen, back  screen
	now           time.Time

	// The session and what happened to it.
	client       *client.Client
	session      client.Session
	prevRefresh  string     // the refresh token before the last rotation: the attacker's copy
	ended        sessionEnd // how the session ended; "" while it lives
	events       events
	timeline     []entry
	admin        *adminAPI // the embedded server's admin routes; nil against another API
	policy       policy
	eventsReady  bool  // lastEvent is known: this launch's events come after it
	eventsWait   bool  // the newest event ID is being read: a login now would be lost in the old ones
	lastEvent    int64 // last server event shown
	eventsFailed bool  // the last read of server events failed
	busy         string
	status       string // the last outcome or error, one sentence
	statusTone   string

	login  loginModel
	dash   dashboardModel
	insp   inspectorModel
	player playerModel
}

// New returns the TUI's root model.
func New(ctx context.Context, opts Options) Model {
	if opts.Clock == nil {
		opts.Clock = wallClock{}
		if opts.Embedded != nil {
			opts.Clock = opts.Embedded.Clock
		}
	}
	if opts.Runner == nil {
		opts.Runner = scenarios.NewRunner()
	}
	m := Model{
		ctx:    ctx,
		opts:   opts,
		styles: NewStyles(true, opts.NoColor),
		keys:   newKeyMap(),
		help:   help.New(),
		spin:   spinner.New(spinner.WithSpinner(spinner.MiniDot)),
		events: make(events, 256),
		now:    opts.Clock.Now(),
		width:  80, height: 24,
	}
	if opts.Embedded != nil {
		m.admin = newAdminAPI(opts.Embedded.URL, opts.Embedded.AdminToken)
		m.eventsWait = true
	}
	m.login = newLoginModel(opts)
	m.login.focus() // here, on the model itself: Init has only a copy
	m.dash = newDashboardModel()
	m.player = newPlayerModel()
	m.applyStyles()
	return m
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (m *Model) applyStyles() {
	m.help.Styles = m.styles.Help
	m.login.setStyles(m.styles, m.opts.NoColor)
}

// Init starts the clock tick, the client event reader and asks for the
// terminal's background colour.
func (m Model) Init() tea.Cmd {
	var baseline tea.Cmd
	if m.admin != nil {
		baseline = eventsBaselineCmd(m.ctx, m.admin)
	}
	return tea.Batch(baseline, tick(m.opts.Clock), waitEvent(m.events), tea.RequestBackgroundColor, m.login.blink())
}

// Update routes a message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		m.login.resize(msg.Width)
		m.dash.resize(msg.Width, m.timelineHeight())
		m.dash.setEntries(m.timeline, m.styles) // re-wrapped to the new width
		m.insp.resize(msg.Width, msg.Height-4)
		m.player.resize(msg.Width, msg.Height)
		return m, nil
	case tea.BackgroundColorMsg:
		m.styles = NewStyles(msg.IsDark(), m.opts.NoColor)
		m.applyStyles()
		m.dash.setEntries(m.timeline, m.styles)
		return m, nil
	case tickMsg:
		m.now = msg.now
		return m, tick(m.opts.Clock)
	case spinner.TickMsg:
		if m.busy == "" && !m.player.running {
			return m, nil // stop spinning when idle
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case clientEventMsg:
		if en, ok := clientEntry(client.Event(msg), client.StoreName(m.opts.Store)); ok {
			m.addEntries(en)
		}
		return m, waitEvent(m.events)
	case eventsBaselineMsg:
		m.eventsWait = false
		if msg.err != nil {
			m.addEntries(entry{At: m.now, Source: "lab", What: "no server events", Tone: "warn",
				Why: "The embedded server's events could not be read: " + sentence(msg.err)})
			return m, nil
		}
		m.lastEvent, m.policy, m.eventsReady = msg.last, msg.policy, true
		return m, nil
	case serverEventMsg:
		if msg.err == nil {
			m.policy = msg.policy
		}
		if msg.err != nil && !m.eventsFailed { // said once, in the timeline: the status keeps the action's outcome
			m.addEntries(entry{At: m.now, Source: "lab", What: "no server events", Tone: "warn",
				Why: "The embedded server's events could not be read: " + sentence(msg.err)})
		}
		m.eventsFailed = msg.err != nil
		for _, e := range msg.events {
			if e.ID <= m.lastEvent {
				continue // two fetches overlapped
			}
			m.addEntries(serverEntry(e))
			m.lastEvent = e.ID
		}
		return m, nil
	case tea.KeyPressMsg:
		if key.Matches(msg, m.keys.Quit) && (m.screen != screenLogin || msg.String() == "ctrl+c") {
			return m, tea.Quit
		}
	}
	switch m.screen {
	case screenLogin:
		return m.updateLogin(msg)
	case screenInspector, screenHelp:
		return m.updateOverlay(msg)
	case screenPlayer:
		return m.updatePlayer(msg)
	}
	return m.updateDashboard(msg)
}

// addEntries adds to the timeline in time order (client and server events
// arrive separately) and keeps the view at its end.
func (m *Model) addEntries(es ...entry) {
	for _, e := range es {
		i := len(m.timeline)
		for i > 0 && m.timeline[i-1].At.After(e.At) {
			i--
		}
		m.timeline = slices.Insert(m.timeline, i, e)
	}
	if n := len(m.timeline); n > 1000 {
		m.timeline = m.timeline[n-1000:]
	}
	m.dash.setEntries(m.timeline, m.styles)
}

// setStatus shows one sentence under the timeline.
func (m *Model) setStatus(tone, text string) { m.statusTone, m.status = tone, text }

// serverEvents fetches new events of the embedded server.
func (m Model) serverEvents() tea.Cmd {
	if m.admin == nil || !m.eventsReady {
		return nil
	}
	return serverEventsCmd(m.ctx, m.admin, m.lastEvent)
}

func (m Model) startBusy(what string) (Model, tea.Cmd) {
	m.busy = what
	return m, m.spin.Tick
}

// View builds the whole screen.
func (m Model) View() tea.View {
	var body string
	switch m.screen {
	case screenLogin:
		body = m.loginView()
	case screenInspector:
		body = m.inspectorView()
	case screenPlayer:
		body = m.playerView()
	case screenHelp:
		body = m.helpView()
	default:
		body = m.dashboardView()
	}
	v := tea.NewView(fit(body, m.width, m.height))
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

// Close removes what the lab left behind: against the embedded server,
// whose address changes every start, the stored session is of no further
// use, so it is deleted rather than left in the keyring.
func (m Model) Close(ctx context.Context) error {
	if m.player.play != nil {
		m.player.play.Close() // its own embedded server
	}
	if m.client == nil || m.opts.Embedded == nil {
		return nil
	}
	return m.opts.Store.Delete(ctx, m.client.Key())
}
