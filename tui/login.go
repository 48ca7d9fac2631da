package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/tokenlab/tokenlab/client"
)

// Login form fields.
const (
	fieldServer = iota
	fieldProfile
	fieldUser
	fieldPassword
	fieldCount
)

var fieldNames = [fieldCount]string{"server", "profile", "user", "password"}

// flowRow is the form's first row, the login flow, chosen with ←/→; it
// is not a text field.
const flowRow = -1

// loginModel is the login screen: the flow (password, PKCE, device) and
// a form for the server, profile, user and password. It logs in with a
// command; the root hands a successful login to the dashboard. While a
// PKCE or device flow runs it shows its steps, the authorize URL or the
// user code, and esc cancels it.
type loginModel struct {
	c        *common
	inputs   [fieldCount]textinput.Model
	active   int // a field, or flowRow
	embedded bool

	flows  []string // offered by the server, in flowOrder
	flow   int      // index into flows
	cancel context.CancelFunc
	run    flowRun // the running flow's progress
	back   bool    // a live session is behind this screen: esc returns to it
	// eventsWait: the newest server event is still being read; a login
	// now would be lost among earlier launches' events.
	eventsWait bool
	// prefilled: the field holds a value the learner did not type (the
	// demo user and password); the first key typed replaces it, as a
	// selected text is replaced, so typing the shown password works.
	prefilled [fieldCount]bool
	// seq is the last login's steps for its sequence diagram (sequence.go),
	// filled as its events come; seqShown: tab shows it while a flow runs.
	seq      []entry
	seqShown bool
	busy     string
	status   status
}

func newLoginModel(c *common) loginModel {
	l := loginModel{c: c, embedded: c.opts.Embedded != nil, eventsWait: c.admin != nil, flows: []string{client.FlowPassword}}
	server := c.opts.Server
	if c.opts.Embedded != nil {
		server = c.opts.Embedded.URL
	}
	values := [fieldCount]string{server, c.opts.Profile.Name, c.opts.Username, c.opts.Password}
	for i := range l.inputs {
		in := textinput.New()
		in.Prompt = ""
		in.SetValue(values[i])
		in.SetWidth(40)
		in.CharLimit = 256
		l.inputs[i] = in
	}
	l.inputs[fieldPassword].EchoMode = textinput.EchoPassword
	l.inputs[fieldPassword].EchoCharacter = '•'
	l = l.prefill()
	l.active = fieldUser
	if l.inputs[fieldUser].Value() != "" {
		l.active = fieldPassword
	}
	l = l.restyle()
	l.focus() // here, on the model itself: Init has only a copy
	return l
}

func (l loginModel) restyle() loginModel {
	if l.c.opts.NoColor { // the inputs' default styles are coloured
		plain := textinput.Styles{Cursor: textinput.CursorStyle{Blink: true}}
		for i := range l.inputs {
			l.inputs[i].SetStyles(plain)
		}
	}
	return l
}

func (l loginModel) resize() loginModel {
	for i := range l.inputs {
		l.inputs[i].SetWidth(max(10, min(50, l.c.width-16)))
	}
	return l
}

// open shows the form again (L on the dashboard); live says a session is
// still behind it. The user and password are prefilled as at launch.
func (l loginModel) open(live bool) (loginModel, tea.Cmd) {
	l.back, l.status = live, status{}
	l = l.prefill()
	return l, l.focus()
}

// prefill puts the launch's user and password (the embedded demo user's)
// in their fields, marked as not typed.
func (l loginModel) prefill() loginModel {
	for i, v := range map[int]string{fieldUser: l.c.opts.Username, fieldPassword: l.c.opts.Password} {
		if v == "" {
			continue
		}
		l.inputs[i].SetValue(v)
		l.prefilled[i] = true
	}
	return l
}

// untouched reports whether the focused field holds nothing the learner
// typed: then ? asks for help instead of being a letter.
func (l loginModel) untouched() bool {
	return l.active == flowRow || l.prefilled[l.active] || l.inputs[l.active].Value() == ""
}

// typeInto hands a key to the focused field; in a prefilled field the
// first letter replaces the value and backspace or delete clears it.
func (l loginModel) typeInto(msg tea.Msg) (loginModel, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok && l.prefilled[l.active] {
		switch {
		case k.Text != "":
			l.inputs[l.active].SetValue("")
			l.prefilled[l.active] = false
		case k.Code == tea.KeyBackspace || k.Code == tea.KeyDelete:
			l.inputs[l.active].SetValue("")
			l.prefilled[l.active] = false
			return l, nil
		case k.Code == tea.KeyLeft || k.Code == tea.KeyRight || k.Code == tea.KeyHome || k.Code == tea.KeyEnd:
			l.prefilled[l.active] = false // moving in the value: the learner edits it
		}
	}
	var cmd tea.Cmd
	l.inputs[l.active], cmd = l.inputs[l.active].Update(msg)
	return l, cmd
}

func (l *loginModel) focus() tea.Cmd {
	for i := range l.inputs {
		l.inputs[i].Blur()
	}
	if l.active == flowRow {
		return nil
	}
	return l.inputs[l.active].Focus()
}

// blink starts the focused field's cursor; the focus itself was set in New.
func (l loginModel) blink() tea.Cmd {
	if l.active == flowRow {
		return nil
	}
	return l.inputs[l.active].Focus()
}

// flowName is the chosen flow.
func (l loginModel) flowName() string { return l.flows[min(l.flow, len(l.flows)-1)] }

// skips reports whether the form skips a row: the embedded server's
// address is fixed, a single flow leaves nothing to choose, and the
// browser and device flows ask for the user and password on the server's
// own page, not here.
func (l loginModel) skips(row int) bool {
	switch {
	case row == flowRow:
		return len(l.flows) < 2
	case row == fieldServer:
		return l.embedded
	case row == fieldProfile:
		return l.embedded && l.flowName() != client.FlowPassword
	case row == fieldUser, row == fieldPassword:
		return l.flowName() != client.FlowPassword
	}
	return false
}

// rowOrder is the form's rows top to bottom: the flow comes last, one
// key below the pre-focused password.
var rowOrder = []int{fieldServer, fieldProfile, fieldUser, fieldPassword, flowRow}

func (l *loginModel) move(delta int) tea.Cmd {
	i := slices.Index(rowOrder, l.active)
	for range rowOrder {
		i = (i + delta + len(rowOrder)) % len(rowOrder)
		if !l.skips(rowOrder[i]) {
			break
		}
	}
	l.active = rowOrder[i]
	return l.focus()
}

func (l loginModel) update(msg tea.Msg) (loginModel, tea.Cmd) {
	switch msg := msg.(type) {
	case loginDoneMsg:
		l.busy = ""
		if l.cancel != nil {
			l.cancel()
			l.cancel = nil
		}
		if msg.err != nil {
			l.status = status{"bad", sentence(msg.err)}
			// A failed flow keeps its screen (steps, URL or code) with the
			// error; a cancelled one, or a password login, shows the form.
			l.run.failed = l.run.flow != "" && !errors.Is(msg.err, context.Canceled)
			if !l.run.failed {
				l.run = flowRun{}
			}
			return l, nil
		}
		l.status, l.run = status{}, flowRun{}
		l.inputs[fieldPassword].SetValue("") // never kept after a login (open prefills only the demo password)
		l.prefilled[fieldPassword] = false
		return l, nil
	case flowsMsg:
		l.flows = []string{client.FlowPassword}
		if len(msg.flows) > 0 {
			l.flows = msg.flows
		}
		if msg.err != nil {
			l.status = status{"warn", "Could not read which flows the server offers: " + sentence(msg.err)}
		}
		return l, nil
	case authorizeURLMsg, deviceCodeMsg, clientEventMsg:
		l.run = l.run.saw(msg, l.c.now)
		if e, ok := msg.(clientEventMsg); ok {
			l.seq = seqSaw(l.seq, labEvent(e))
		}
		return l, nil
	}
	keys := l.c.keys
	if k, ok := msg.(tea.KeyPressMsg); ok && l.busy != "" && key.Matches(k, keys.Tab) && l.run.flow != "" {
		l.seqShown = !l.seqShown
		return l, nil
	}
	if k, ok := msg.(tea.KeyPressMsg); ok && l.busy != "" {
		if key.Matches(k, keys.Back) && l.cancel != nil {
			l.cancel() // the flow's command ends with context.Canceled
			l.status = status{"info", "Cancelling…"}
		}
		return l, nil
	}
	if k, ok := msg.(tea.KeyPressMsg); ok && l.run.failed {
		l.run = flowRun{} // any key but enter (try again) goes back to the form
		if key.Matches(k, keys.LogIn) {
			return l.submit()
		}
		return l, nil
	}
	if k, ok := msg.(tea.KeyPressMsg); ok && l.active == flowRow {
		switch {
		case key.Matches(k, keys.FlowNext):
			l.flow = (l.flow + 1) % len(l.flows)
			return l, nil
		case key.Matches(k, keys.FlowPrev):
			l.flow = (l.flow - 1 + len(l.flows)) % len(l.flows)
			return l, nil
		case key.Matches(k, keys.LogIn):
			return l.submit()
		}
	}
	if k, ok := msg.(tea.KeyPressMsg); ok && l.busy == "" {
		switch {
		case key.Matches(k, keys.NextField):
			return l, l.move(1)
		case key.Matches(k, keys.PrevField):
			return l, l.move(-1)
		case key.Matches(k, keys.Back) && l.back:
			return l, show(screenDashboard)
		case key.Matches(k, keys.Help) && l.untouched():
			return l, show(screenHelp)
		case key.Matches(k, keys.LogIn):
			if l.active != fieldPassword && l.flowName() == client.FlowPassword {
				return l, l.move(1)
			}
			return l.submit()
		}
	}
	if l.active == flowRow {
		return l, nil
	}
	return l.typeInto(msg)
}

// submit makes a client for the form's server, profile and user, and
// logs in.
func (l loginModel) submit() (loginModel, tea.Cmd) {
	v := func(i int) string { return strings.TrimSpace(l.inputs[i].Value()) }
	if l.eventsWait {
		l.status = status{"info", "One moment: the lab is reading where the server's event log ends. Press enter again."}
		return l, nil
	}
	l.seq, l.seqShown = nil, false // a new login, a new diagram
	if flow := l.flowName(); flow != client.FlowPassword {
		return l.startFlow(flow, v(fieldServer), v(fieldProfile))
	}
	if v(fieldUser) == "" || l.inputs[fieldPassword].Value() == "" {
		l.status = status{"bad", "Type a user and a password, then press enter."}
		return l, nil
	}
	// The client keeps the wall clock: when the lab moves the server's
	// clock, the client learns of the expiry the way real clients do, from
	// the API's 401, and refreshes reactively.
	// Its events are stamped with the lab's clock, as the server's are, so
	// the timeline reads in one time, and with who acted (acting).
	req := loginRequest{server: v(fieldServer), user: v(fieldUser), profile: v(fieldProfile),
		password: l.inputs[fieldPassword].Value(), store: l.c.opts.Store, opts: l.clientOptions()}
	l.status = status{"info", "Logging in as " + req.user + "…"}
	l.busy = "logging in"
	return l, tea.Batch(l.c.spin.Tick, loginCmd(l.c.ctx, l.c.acting, req))
}

// clientOptions are the lab client's options: its events go to the
// timeline stamped with the lab's clock and with who acted.
func (l loginModel) clientOptions() []client.Option {
	lab, events, acting := l.c.opts.Clock, l.c.events, l.c.acting
	return append([]client.Option{client.WithEvents(func(e client.Event) {
		e.At = lab.Now()
		events.report(labEvent{Event: e, cause: acting.get()})
	})}, l.c.opts.ClientOptions...)
}

// startFlow starts a PKCE or device login as a command that esc cancels.
func (l loginModel) startFlow(flow, server, profileName string) (loginModel, tea.Cmd) {
	profile := l.c.opts.Profile
	if profileName != "" && profileName != profile.Name {
		p, err := client.ResolveProfile(profileName)
		if err != nil {
			l.status = status{"bad", sentence(err)}
			return l, nil
		}
		profile = p
	}
	ctx, cancel := context.WithCancel(l.c.ctx)
	l.cancel = cancel
	req := flowRequest{loginRequest: loginRequest{server: server, store: l.c.opts.Store, opts: l.clientOptions()},
		flow: flow, profile: flowProfile(profile, l.embedded, flow), sleep: l.c.opts.DeviceSleep, ch: l.c.flow}
	if !l.c.opts.NoBrowser {
		req.open = l.c.opts.OpenBrowser
		if req.open == nil {
			req.open = client.OpenBrowser
		}
	}
	l.run = flowRun{flow: flow}
	l.status = status{}
	l.busy = map[string]string{client.FlowPKCE: "waiting for the browser", client.FlowDevice: "waiting for approval"}[flow]
	return l, flowLoginCmd(ctx, l.c.acting, req)
}

func (l loginModel) view() string {
	if l.run.flow != "" && l.seqShown && l.busy != "" {
		return l.seqView()
	}
	if l.run.flow != "" && (l.busy != "" || l.run.failed) {
		return l.flowView()
	}
	s := l.c.styles
	var b strings.Builder
	b.WriteString(s.Title.Render("tokenlab") + s.Subtle.Render(" · a lab for access and refresh tokens") + "\n\n")
	if l.c.opts.Embedded != nil {
		b.WriteString(s.Label.Render("Embedded mock server at ") + s.Value.Render(l.c.opts.Embedded.URL) + "\n")
		b.WriteString(s.Label.Render("Demo user: ") + s.Value.Render("alice") + s.Label.Render(" / password ") + s.Value.Render("password123") + "\n\n")
	} else {
		how := " (its clock cannot be moved from here)"
		if l.c.admin != nil {
			how = " (a tokenlab server: f, d and w move its clock through its admin API)"
		}
		b.WriteString(s.Label.Render("API at ") + s.Value.Render(l.c.opts.Server) + s.Label.Render(how) + "\n\n")
	}
	for i := range l.inputs {
		if i != fieldServer && l.skips(i) {
			continue
		}
		label := fmt.Sprintf("%-9s", fieldNames[i])
		style := s.Label
		if i == l.active {
			style = s.Selected
			label = "› " + label
		} else {
			label = "  " + label
		}
		field := l.inputs[i].View()
		if i == fieldServer && l.embedded {
			field = s.Subtle.Render(l.inputs[i].Value() + " (embedded)")
		}
		b.WriteString(style.Render(label) + " " + field + "\n")
		if i == l.active && l.prefilled[i] {
			b.WriteString(strings.Repeat(" ", 12) + s.Subtle.Render("prefilled: type to replace, or press enter") + "\n")
		}
	}
	if !l.skips(flowRow) {
		b.WriteString(l.flowLine() + "\n")
	}
	b.WriteString("\n" + s.Label.Render("Tokens will be kept in: ") + s.Value.Render(client.StoreName(l.c.opts.Store)) + "\n")
	if l.c.opts.StoreNote != "" {
		b.WriteString(s.Warn.Render(ansi.Wrap(l.c.opts.StoreNote, max(l.c.width, 20), "")) + "\n")
	}
	if l.busy != "" {
		b.WriteString("\n" + l.c.busyView(l.busy) + "\n")
	}
	b.WriteString("\n" + l.c.statusView(l.status) + "\n")
	k := l.c.keys
	keys := []key.Binding{k.NextField, k.LogIn, k.ForceQuit}
	if l.active == flowRow {
		keys = []key.Binding{named(k.FlowNext, "choose flow"), k.NextField, k.LogIn, k.ForceQuit}
	}
	if l.untouched() {
		keys = append(keys[:len(keys)-1], named(k.Help, "help"), k.ForceQuit)
	}
	if l.back {
		keys = append(keys[:len(keys)-1], k.Back, k.ForceQuit)
	}
	return b.String() + l.c.footer(keys)
}

// flowLine is the flow row: each flow the server offers, the chosen one
// marked (in brackets, so it shows without colour too).
func (l loginModel) flowLine() string {
	s := l.c.styles
	label, style := "  flow     ", s.Label
	if l.active == flowRow {
		label, style = "› flow     ", s.Selected
	}
	var names []string
	for i, f := range l.flows {
		if i == l.flow {
			names = append(names, s.Selected.Render("["+flowTitles[f]+"]"))
		} else {
			names = append(names, s.Subtle.Render(" "+flowTitles[f]+" "))
		}
	}
	line := style.Render(label) + " " + strings.Join(names, "")
	if l.active != flowRow {
		line += s.Subtle.Render("  (↓ to choose)")
	}
	return firstFit(l.c.width, line, style.Render(label)+" "+strings.Join(names, ""))
}
