package tui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/tokenlab/tokenlab/client"
)

// copyToken puts a token on the clipboard with OSC 52 (the terminal does
// the copying, so it works over SSH and inside tmux) and says which one
// it was; the token itself is never shown.
func copyToken(name, tok string) (status, tea.Cmd) {
	if tok == "" {
		return status{"warn", "No " + name + " to copy: press L to log in."}, nil
	}
	what := name
	if d, err := client.Decode(tok); err == nil {
		if jti, _ := d.Claims["jti"].(string); jti != "" {
			what += " (jti " + short(jti) + ")"
		}
	}
	return status{"info", fmt.Sprintf("Copied the %s to the clipboard (OSC 52; your terminal must allow it): %d characters.", what, len(tok))},
		tea.SetClipboard(tok)
}

// oldAccessMsg is the API's answer to the access token kept from a
// session that ended.
type oldAccessMsg struct {
	status int
	err    error
}

// oldAccessCmd sends the access token from before the session ended to
// the API, as whoever kept a copy would: a plain request, no client that
// could refresh or withhold it.
func oldAccessCmd(ctx context.Context, url, tok string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return oldAccessMsg{err: err}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return oldAccessMsg{err: err}
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		return oldAccessMsg{status: resp.StatusCode}
	}
}

// sendOldAccess is p once the session ended: the access token still in
// hand goes to the API, which shows the lesson the access card states.
func (d dashboardModel) sendOldAccess() (dashboardModel, tea.Cmd) {
	if d.client == nil || d.session.AccessToken == "" {
		d.status = status{"warn", "No session: press L to log in."}
		return d, nil
	}
	d.busy = "sending the old access token"
	return d, tea.Batch(d.c.spin.Tick, oldAccessCmd(d.c.ctx, d.client.Server()+d.protectedPath(), d.session.AccessToken))
}

// oldAccessDone shows the API's answer in the status and the timeline.
func (d dashboardModel) oldAccessDone(msg oldAccessMsg) (dashboardModel, tea.Cmd) {
	d.busy = ""
	if msg.err != nil {
		d.status = status{"bad", sentence(msg.err)}
		return d, nil
	}
	what := fmt.Sprintf("GET %s %d", d.protectedPath(), msg.status)
	e := entry{At: d.c.now, Source: "client", What: what, Tone: "warn"}
	switch {
	case msg.status < 300:
		e.Why = "The access token from before the session ended still works: the API accepted it (stateless, until exp)."
		d.status = status{"warn", fmt.Sprintf("The old access token → %d: the API still accepts it until its exp, though the session ended.", msg.status)}
	default:
		e.Why, e.Tone = "The API refused the access token from before the session ended (a denylist, or its exp passed).", "good"
		d.status = status{"good", fmt.Sprintf("The old access token → %d: the API refuses it now.", msg.status)}
	}
	d.appendNow(e)
	return d, d.serverEvents()
}
