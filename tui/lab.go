package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver"
	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// Clock is the time the lab shows: the embedded server's movable clock,
// or the wall clock against another API.
type Clock interface{ Now() time.Time }

// Messages: every piece of I/O runs in a command and reports back with one.
type (
	tickMsg        struct{ now time.Time }
	clientEventMsg labEvent
	serverEventMsg struct {
		events []auth.Event
		policy policy
		err    error
	}
	loginDoneMsg struct {
		client  *client.Client
		profile client.Profile
		session client.Session
		err     error
	}
	// actionDoneMsg ends a dashboard action; session is what the client
	// holds afterwards (zero when the session ended).
	actionDoneMsg struct {
		what    string
		status  int
		session client.Session
		err     error
	}
	clockMovedMsg struct {
		by  time.Duration
		now time.Time
		err error
	}
	attackDoneMsg struct {
		replayErr  error // the server's answer to the attacker
		refreshErr error // the owner's next refresh
		session    client.Session
	}
)

// labEvent is a client event and who caused it.
type labEvent struct {
	client.Event
	cause
}

// events is the channel from the client's event callback to the UI. The
// callback never blocks: when the UI falls behind, events are dropped.
type events chan labEvent

func (ch events) report(e labEvent) {
	select {
	case ch <- e:
	default:
	}
}

// waitEvent reads one client event; Update re-arms it after each.
func waitEvent(ch events) tea.Cmd {
	return func() tea.Msg { return clientEventMsg(<-ch) }
}

func tick(clock Clock) tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg {
		if r, ok := clock.(*remoteClock); ok { // a --server's clock: read again (here, off the UI's goroutine)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if now, err := r.read(ctx); err == nil {
				return tickMsg{now: now}
			}
		}
		return tickMsg{now: clock.Now()}
	})
}

// loginRequest is what the login form asks for.
type loginRequest struct {
	server, user, profile, password string
	store                           client.Store
	opts                            []client.Option
}

// loginCmd resolves the profile (it may be a file), makes a client and
// logs in.
func loginCmd(ctx context.Context, a *acting, r loginRequest) tea.Cmd {
	return func() tea.Msg {
		a.set("client", "")
		p, err := client.ResolveProfile(r.profile)
		if err != nil {
			return loginDoneMsg{err: err}
		}
		c, err := client.New(r.server, r.user, p, r.store, r.opts...)
		if err != nil {
			return loginDoneMsg{err: err}
		}
		s, err := c.Login(ctx, r.password)
		return loginDoneMsg{client: c, profile: p, session: s, err: err}
	}
}

func callCmd(ctx context.Context, a *acting, c *client.Client, url string) tea.Cmd {
	return func() tea.Msg {
		a.set("client", "")
		msg := actionDoneMsg{what: "GET " + url}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			msg.err = err
			return msg
		}
		resp, err := c.HTTPClient().Do(req)
		if err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			msg.status = resp.StatusCode
		}
		msg.err = err
		msg.session, _ = c.Session(ctx)
		return msg
	}
}

func refreshCmd(ctx context.Context, a *acting, c *client.Client) tea.Cmd {
	return func() tea.Msg {
		a.set("client", "you pressed r")
		s, err := c.Refresh(ctx)
		return actionDoneMsg{what: "refresh", session: s, err: err}
	}
}

func logoutCmd(ctx context.Context, a *acting, c *client.Client) tea.Cmd {
	return func() tea.Msg {
		a.set("client", "")
		return actionDoneMsg{what: "logout", err: c.Logout(ctx)}
	}
}

// attackCmd replays an old refresh token as an attacker would, then lets
// the owner refresh, which shows what the replay did to the session.
func attackCmd(ctx context.Context, a *acting, c *client.Client, stolen string) tea.Cmd {
	return func() tea.Msg {
		a.set("attacker", "")
		msg := attackDoneMsg{replayErr: c.Replay(ctx, stolen)}
		a.set("client", "the owner's app refreshes next, with the refresh token it holds")
		msg.session, msg.refreshErr = c.Refresh(ctx)
		a.set("client", "")
		return msg
	}
}

func advanceCmd(clock *mockserver.Clock, d time.Duration) tea.Cmd {
	return func() tea.Msg {
		err := clock.Advance(d)
		return clockMovedMsg{by: d, now: clock.Now(), err: err}
	}
}

// sentence words an error for the status line: one sentence, no trace.
func sentence(err error) string {
	if ue, ok := err.(*url.Error); ok {
		err = ue.Err // not `Get "http://…": ` in front of what went wrong
	}
	switch {
	case errors.Is(err, client.ErrNoKeyring): // its text already says no keyring is reachable, and why
		return upperFirst(trimDot(err.Error())) + "; restart with --token-store memory or --token-store file."
	case errors.Is(err, client.ErrLoginRequired) && endOf(err) == endExpired:
		return "The refresh token expired (" + reason(err) + "): press L to log in again."
	case errors.Is(err, client.ErrLoginRequired) && (reason(err) == "token_revoked" || reason(err) == "token_reused"):
		return "The server revoked the session (" + reason(err) + "): press L to log in again."
	case errors.Is(err, client.ErrLoginRequired):
		return "The server refused the refresh token (" + reason(err) + "): press L to log in again."
	case errors.Is(err, context.Canceled):
		return "Cancelled."
	}
	return fmt.Sprintf("%s.", upperFirst(trimDot(err.Error())))
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func reason(err error) string {
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Code != "" {
		return ae.Code
	}
	return "login required"
}

func trimDot(s string) string {
	for len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}
