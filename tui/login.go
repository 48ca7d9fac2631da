package tui

import (
	"fmt"
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

// loginModel is the login screen: a form for the server, profile, user
// and password. It logs in with a command; the root hands a successful
// login to the dashboard.
type loginModel struct {
	c        *common
	inputs   [fieldCount]textinput.Model
	active   int
	embedded bool
	back     bool // a live session is behind this screen: esc returns to it
	// eventsWait: the newest server event is still being read; a login
	// now would be lost among earlier launches' events.
	eventsWait bool
	busy       string
	status     status
}

func newLoginModel(c *common) loginModel {
	l := loginModel{c: c, embedded: c.opts.Embedded != nil, eventsWait: c.admin != nil}
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
// still behind it.
func (l loginModel) open(live bool) (loginModel, tea.Cmd) {
	l.back, l.status = live, status{}
	return l, l.focus()
}

func (l *loginModel) focus() tea.Cmd {
	for i := range l.inputs {
		l.inputs[i].Blur()
	}
	return l.inputs[l.active].Focus()
}

// blink starts the focused field's cursor; the focus itself was set in New.
func (l loginModel) blink() tea.Cmd { return l.inputs[l.active].Focus() }

func (l *loginModel) move(delta int) tea.Cmd {
	for {
		l.active = (l.active + delta + fieldCount) % fieldCount
		if !(l.embedded && l.active == fieldServer) {
			break
		}
	}
	return l.focus()
}

func (l loginModel) update(msg tea.Msg) (loginModel, tea.Cmd) {
	if done, ok := msg.(loginDoneMsg); ok {
		l.busy = ""
		if done.err != nil {
			l.status = status{"bad", sentence(done.err)}
			return l, nil
		}
		l.status = status{}
		l.inputs[fieldPassword].SetValue("") // never kept after a login
		return l, nil
	}
	keys := l.c.keys
	if k, ok := msg.(tea.KeyPressMsg); ok && l.busy == "" {
		switch {
		case key.Matches(k, keys.NextField):
			return l, l.move(1)
		case key.Matches(k, keys.PrevField):
			return l, l.move(-1)
		case key.Matches(k, keys.Back) && l.back:
			return l, show(screenDashboard)
		case key.Matches(k, keys.LogIn):
			if l.active != fieldPassword {
				return l, l.move(1)
			}
			return l.submit()
		}
	}
	var cmd tea.Cmd
	l.inputs[l.active], cmd = l.inputs[l.active].Update(msg)
	return l, cmd
}

// submit makes a client for the form's server, profile and user, and
// logs in.
func (l loginModel) submit() (loginModel, tea.Cmd) {
	v := func(i int) string { return strings.TrimSpace(l.inputs[i].Value()) }
	if l.eventsWait {
		l.status = status{"info", "One moment: the lab is reading where the server's event log ends. Press enter again."}
		return l, nil
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
	lab, events, acting := l.c.opts.Clock, l.c.events, l.c.acting
	opts := append([]client.Option{client.WithEvents(func(e client.Event) {
		e.At = lab.Now()
		events.report(labEvent{Event: e, cause: acting.get()})
	})}, l.c.opts.ClientOptions...)
	req := loginRequest{server: v(fieldServer), user: v(fieldUser), profile: v(fieldProfile),
		password: l.inputs[fieldPassword].Value(), store: l.c.opts.Store, opts: opts}
	l.status = status{"info", "Logging in as " + req.user + "…"}
	l.busy = "logging in"
	return l, tea.Batch(l.c.spin.Tick, loginCmd(l.c.ctx, l.c.acting, req))
}

func (l loginModel) view() string {
	s := l.c.styles
	var b strings.Builder
	b.WriteString(s.Title.Render("tokenlab") + s.Subtle.Render(" · a lab for access and refresh tokens") + "\n\n")
	if l.c.opts.Embedded != nil {
		b.WriteString(s.Label.Render("Embedded mock server at ") + s.Value.Render(l.c.opts.Embedded.URL) + "\n")
		b.WriteString(s.Label.Render("Demo user: ") + s.Value.Render("alice") + s.Label.Render(" / password ") + s.Value.Render("password123") + "\n\n")
	} else {
		b.WriteString(s.Label.Render("API at ") + s.Value.Render(l.c.opts.Server) + s.Label.Render(" (its clock cannot be moved from here)") + "\n\n")
	}
	for i := range l.inputs {
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
	}
	b.WriteString("\n" + s.Label.Render("Tokens will be kept in: ") + s.Value.Render(client.StoreName(l.c.opts.Store)) + "\n")
	if l.c.opts.StoreNote != "" {
		b.WriteString(s.Warn.Render(ansi.Wrap(l.c.opts.StoreNote, max(l.c.width, 20), "")) + "\n")
	}
	if l.busy != "" {
		b.WriteString("\n" + l.c.busyView(l.busy) + "\n")
	}
	b.WriteString("\n" + l.c.statusView(l.status) + "\n")
	keys := []key.Binding{l.c.keys.NextField, l.c.keys.LogIn, l.c.keys.ForceQuit}
	if l.back {
		keys = []key.Binding{l.c.keys.NextField, l.c.keys.LogIn, l.c.keys.Back, l.c.keys.ForceQuit}
	}
	return b.String() + l.c.footer(keys)
}
