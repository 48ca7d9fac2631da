package tui

// The test harness: a Model driven by hand. Update is called with
// messages, and the commands it returns are run here, synchronously, with
// their messages fed back in, the way the Bubble Tea runtime would, but in
// a fixed order. Commands that only wait (timers, the spinner, the cursor
// blink, the client-event reader) are recognised by their function's name
// and not run: the tests send those messages themselves when they need
// them, and read the client-event channel directly after each command.

import (
	"context"
	"fmt"
	"golang.org/x/crypto/bcrypt"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver"
)

// labStart is the pinned time of the lab's frozen clock.
var labStart = time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC)

// lab is a TUI model against a real in-process mock server with a frozen
// clock.
type lab struct {
	tb        testing.TB
	m         Model
	e         *mockserver.Embedded
	store     client.Store
	waiting   []string // names of the waiting commands returned and not run
	quit      bool     // a tea.Quit was returned
	msgs      []string // types of the messages fed to Update, for failure messages
	clipboard string   // the last text a command put on the clipboard

	closeOnce sync.Once
}

// labOption adjusts the TUI's options before New.
type labOption func(*Options)

func newLab(tb testing.TB, opts ...labOption) *lab {
	tb.Helper()
	// The lab's server signs with secrets the TUI knows, as tokenlab tui
	// starts it, so the inspector can check HS256 signatures.
	secrets := NewSecrets()
	e, err := startTestServer(context.Background(), secrets.Configure)
	if err != nil {
		tb.Fatal(err)
	}
	l := newLabOn(tb, e, append([]labOption{func(o *Options) { o.Secrets = secrets }}, opts...)...)
	tb.Cleanup(l.stopServer)
	return l
}

// startTestServer starts every test's embedded server: a frozen clock,
// bcrypt at its lowest cost (hashing is not what a TUI test shows; at full
// cost it was most of this package's time), then configure.
func startTestServer(ctx context.Context, configure ...func(*mockserver.Config)) (*mockserver.Embedded, error) {
	return mockserver.StartEmbedded(ctx, mockserver.EmbeddedOptions{ClockMode: mockserver.ClockFrozen,
		Configure: func(c *mockserver.Config) {
			c.BcryptCost = bcrypt.MinCost
			for _, f := range configure {
				f(c)
			}
		}})
}

// newLabOn starts a TUI on a running server, as a second launch of the
// lab on a persisted database would: the clock starts again at labStart.
func newLabOn(tb testing.TB, e *mockserver.Embedded, opts ...labOption) *lab {
	tb.Helper()
	l := &lab{tb: tb, e: e}
	if err := e.Clock.Set(labStart); err != nil {
		tb.Fatal(err)
	}
	profile, err := client.ResolveProfile("tokenlab")
	if err != nil {
		tb.Fatal(err)
	}
	o := Options{Embedded: e, Clock: e.Clock, Profile: profile, Store: client.NewMemoryStore(),
		Username: "alice", Password: "password123", Location: time.UTC}
	for _, opt := range opts {
		opt(&o)
	}
	l.store = o.Store
	l.m = New(tb.Context(), o)
	l.run(l.m.Init())
	l.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	return l
}

// stopServer closes the embedded server (once: a second Close would wait
// for a server that already ended).
func (l *lab) stopServer() { l.closeOnce.Do(func() { l.e.Close() }) }

// send feeds msg to Update and runs what follows from it.
func (l *lab) send(msg tea.Msg) {
	l.tb.Helper()
	queue := []tea.Msg{msg}
	for n := 0; len(queue) > 0; n++ {
		if n > 500 {
			l.tb.Fatalf("more than 500 messages after one input; the last ones: %v", l.msgs[max(len(l.msgs)-10, 0):])
		}
		msg, queue = queue[0], queue[1:]
		switch msg := msg.(type) {
		case nil:
			continue
		case tea.QuitMsg:
			l.quit = true
			continue
		case tea.BatchMsg:
			for _, c := range msg {
				queue = append(queue, l.exec(c)...)
			}
			continue
		}
		l.msgs = append(l.msgs, fmt.Sprintf("%T", msg))
		if fmt.Sprintf("%T", msg) == "tea.setClipboardMsg" { // what an OSC 52 copy would put on the clipboard
			l.clipboard = fmt.Sprint(msg)
		}
		var next tea.Model
		var cmd tea.Cmd
		next, cmd = l.m.Update(msg)
		l.m = next.(Model)
		queue = append(queue, l.exec(cmd)...)
	}
}

// run runs a command as if Update had returned it.
func (l *lab) run(cmd tea.Cmd) {
	l.tb.Helper()
	for _, msg := range l.exec(cmd) {
		l.send(msg)
	}
}

// exec runs cmd unless it only waits, and returns its message preceded by
// the client events it caused.
func (l *lab) exec(cmd tea.Cmd) []tea.Msg {
	l.tb.Helper()
	if cmd == nil {
		return nil
	}
	name := cmdName(cmd)
	if waits(name) {
		l.waiting = append(l.waiting, name)
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(30 * time.Second): // a bound, not a delay
		l.tb.Fatalf("command %s did not return within 30s", name)
	}
	var out []tea.Msg
	for {
		select {
		case e := <-l.m.c.events:
			out = append(out, clientEventMsg(e))
			continue
		case f := <-l.m.c.flow:
			out = append(out, f)
			continue
		default:
		}
		break
	}
	return append(out, msg)
}

// cmdName is the name of a command's function, closures included
// ("charm.land/bubbletea/v2.Tick.func1", or with the inlining caller's
// name in front).
func cmdName(cmd tea.Cmd) string {
	return runtime.FuncForPC(reflect.ValueOf(cmd).Pointer()).Name()
}

// waits reports whether the command named name only waits: for a timer
// (the clock tick, the spinner's next frame, the cursor blink) or for the
// next client event. The terminal's answers (background colour) are left
// out too: there is no terminal.
func waits(name string) bool {
	for _, s := range []string{".waitEvent.func", ".waitFlow.func", ".Tick.func", ".Every.func", ".Blink.func", "RequestBackgroundColor"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// key sends one key press: a character, or a named key.
func (l *lab) key(keys ...string) {
	l.tb.Helper()
	for _, k := range keys {
		l.send(keyPress(k))
	}
}

func keyPress(k string) tea.KeyPressMsg {
	named := map[string]rune{"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "up": tea.KeyUp,
		"down": tea.KeyDown, "space": tea.KeySpace, "backspace": tea.KeyBackspace, "left": tea.KeyLeft, "right": tea.KeyRight}
	if c, ok := named[k]; ok {
		return tea.KeyPressMsg{Code: c}
	}
	if k == "ctrl+c" || k == "ctrl+r" {
		return tea.KeyPressMsg{Code: rune(k[len(k)-1]), Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// login presses enter on the prefilled login screen.
func (l *lab) login() {
	l.tb.Helper()
	if l.m.screen != screenLogin {
		l.tb.Fatalf("screen = %d, want the login screen", l.m.screen)
	}
	l.key("enter")
	if l.m.screen != screenDashboard {
		l.tb.Fatalf("after enter the screen is %d, want the dashboard; status %q\n%s", l.m.screen, l.m.statusText(), l.view())
	}
}

// view is the screen as text, without ANSI codes.
func (l *lab) view() string { return ansi.Strip(l.m.View().Content) }

// rawView is the screen with its ANSI codes.
func (l *lab) rawView() string { return l.m.View().Content }

// wantView fails unless the screen holds every string of want.
func (l *lab) wantView(want ...string) {
	l.tb.Helper()
	v := l.view()
	for _, w := range want {
		if !strings.Contains(v, w) {
			l.tb.Errorf("the screen lacks %q:\n%s", w, v)
		}
	}
}

// timelineText is the whole timeline (not only the part in view).
func (l *lab) timelineText() string {
	var b strings.Builder
	for _, e := range l.m.dash.entries {
		fmt.Fprintf(&b, "%s %s | %s\n", e.Source, e.What, e.Why)
	}
	return b.String()
}

// wantTimeline fails unless the timeline holds the entries whose What
// starts with each of want, in that order (others may come between).
func (l *lab) wantTimeline(after int, want ...string) {
	l.tb.Helper()
	i := after
	for _, w := range want {
		for i < len(l.m.dash.entries) && !strings.HasPrefix(l.m.dash.entries[i].What, w) {
			i++
		}
		if i == len(l.m.dash.entries) {
			l.tb.Errorf("the timeline lacks %q (in order %q) after entry %d:\n%s", w, want, after, l.timelineText())
			return
		}
		i++
	}
}

// cardTitles returns the screen line holding both card titles.
func (l *lab) cardTitles() string {
	l.tb.Helper()
	for _, line := range strings.Split(l.view(), "\n") {
		if strings.Contains(line, "ACCESS TOKEN") && strings.Contains(line, "REFRESH TOKEN") {
			return line
		}
	}
	l.tb.Fatalf("no line holds both card titles:\n%s", l.view())
	return ""
}

// wantCards fails unless the access and refresh cards show these states
// (model and screen agree).
func (l *lab) wantCards(access, refresh string) {
	l.tb.Helper()
	if got := l.m.dash.accessState(); got != access {
		l.tb.Errorf("access state = %s, want %s", got, access)
	}
	if got := l.m.dash.refreshState(); got != refresh {
		l.tb.Errorf("refresh state = %s, want %s", got, refresh)
	}
	titles := l.cardTitles()
	re := regexp.MustCompile(`ACCESS TOKEN\s+` + access + `\b.*REFRESH TOKEN\s+` + refresh + `\b`)
	if !re.MatchString(titles) {
		l.tb.Errorf("card titles %q, want ACCESS TOKEN %s and REFRESH TOKEN %s", titles, access, refresh)
	}
}

// wantSentence fails unless the status is one sentence naming each of
// want, with nothing of a Go error's insides.
func (l *lab) wantSentence(want ...string) {
	l.tb.Helper()
	s := l.m.statusText()
	if s == "" || strings.Contains(s, "\n") || !strings.HasSuffix(s, ".") {
		l.tb.Errorf("status %q is not one sentence", s)
	}
	for _, bad := range []string{"goroutine", "panic", ".go:", "%!", "runtime.", `Get "`} {
		if strings.Contains(s, bad) {
			l.tb.Errorf("status %q holds %q", s, bad)
		}
	}
	for _, w := range want {
		if !strings.Contains(s, w) {
			l.tb.Errorf("status %q lacks %q", s, w)
		}
	}
	if l.quit {
		l.tb.Errorf("the TUI quit after an error")
	}
}

// switchStore is a memory store that can be made to fail like a locked
// keyring.
type switchStore struct {
	*client.MemoryStore
	locked atomic.Bool
}

func newSwitchStore() *switchStore { return &switchStore{MemoryStore: client.NewMemoryStore()} }

var errLocked = fmt.Errorf("%w (the keyring is locked)", client.ErrNoKeyring)

func (s *switchStore) Load(ctx context.Context, key string) (client.Session, error) {
	if s.locked.Load() {
		return client.Session{}, errLocked
	}
	return s.MemoryStore.Load(ctx, key)
}

func (s *switchStore) Save(ctx context.Context, key string, sess client.Session) error {
	if s.locked.Load() {
		return errLocked
	}
	return s.MemoryStore.Save(ctx, key, sess)
}

func (s *switchStore) Delete(ctx context.Context, key string) error {
	if s.locked.Load() {
		return errLocked
	}
	return s.MemoryStore.Delete(ctx, key)
}

// statusText is the status of the screen in front.
func (m Model) statusText() string {
	switch m.screen {
	case screenLogin:
		return m.login.status.text
	case screenPlayer:
		return m.player.status.text
	case screenSettings:
		return m.set.status.text
	}
	return m.dash.status.text
}
