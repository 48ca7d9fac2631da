package tui

import (
	"fmt"
	"net/http"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/internal/termtext"
)

// requestModel is the request view: one timeline row's HTTP request and
// answer as the client sent and read them (client.Exchange: secrets
// masked by the client), or, on tab, the last login's sequence diagram.
type requestModel struct {
	c    *common
	rows []entry // the timeline's rows that carry an exchange, oldest first
	at   int     // the row in view
	seq  []entry // the last login's steps, for the diagram
	diag bool    // the diagram is in view
	vp   viewport.Model
}

func newRequestModel(c *common) requestModel {
	vp := viewport.New(viewport.WithWidth(c.width), viewport.WithHeight(max(c.height-4, 3)))
	vp.KeyMap = viewport.KeyMap{}
	return requestModel{c: c, vp: vp}
}

// open shows the exchange of entries[pick] (or the nearest earlier row
// that has one).
func (r requestModel) open(entries []entry, pick int, seq []entry) requestModel {
	r.rows, r.at, r.seq, r.diag = nil, -1, seq, false
	for i, e := range entries {
		if e.Exchange == nil {
			continue
		}
		if i <= pick {
			r.at = len(r.rows)
		}
		r.rows = append(r.rows, e)
	}
	if r.at < 0 && len(r.rows) > 0 {
		r.at = 0
	}
	return r.resize()
}

func (r requestModel) resize() requestModel {
	r.vp.SetWidth(r.c.width)
	r.vp.SetHeight(max(r.c.height-4, 3))
	r.vp.SetContentLines(r.content())
	return r
}

func (r requestModel) update(msg tea.Msg) (requestModel, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return r, nil
	}
	keys := r.c.keys
	switch {
	case key.Matches(k, keys.Back):
		return r, show(screenDashboard)
	case key.Matches(k, keys.Tab):
		r.diag = !r.diag
	case key.Matches(k, keys.Earlier) && r.at > 0:
		r.at--
	case key.Matches(k, keys.Later) && r.at < len(r.rows)-1:
		r.at++
	case key.Matches(k, keys.Up):
		r.vp.ScrollUp(1)
		return r, nil
	case key.Matches(k, keys.Down):
		r.vp.ScrollDown(1)
		return r, nil
	default:
		return r, nil
	}
	r = r.resize()
	r.vp.GotoTop()
	return r, nil
}

// content is the exchange in view, or the diagram.
func (r requestModel) content() []string {
	s := r.c.styles
	if r.diag {
		if len(r.seq) == 0 {
			return []string{s.Subtle.Render("No login yet: the diagram fills in as a login runs.")}
		}
		return sequenceLines(r.seq, r.c.opts.Profile, r.c.width, s)
	}
	if r.at < 0 || r.at >= len(r.rows) {
		return []string{s.Subtle.Render("No request yet: the timeline's rows with an HTTP exchange open here.")}
	}
	e := r.rows[r.at]
	x := e.Exchange
	width := max(r.c.width, 20)
	esc := func(v string) string { return termtext.Escape(v) } // what the server said is not trusted
	var lines []string
	add := func(style func(...string) string, text string) {
		for _, l := range wrap(text, width-2) {
			lines = append(lines, "  "+style(l))
		}
	}
	lines = append(lines, s.Title.Render("→ "+esc(x.Method)+" ")+s.Value.Render(esc(x.URL)))
	if x.Authorization != "" {
		add(s.Label.Render, "Authorization: "+esc(x.Authorization))
	}
	body := func(contentType, text string) { // one side's type and (masked) body
		if contentType != "" {
			add(s.Subtle.Render, "Content-Type: "+esc(contentType))
		}
		if text == "" {
			add(s.Subtle.Render, "(no body)")
			return
		}
		for _, l := range strings.Split(text, "\n") {
			add(s.Value.Render, esc(l))
		}
	}
	body(x.RequestType, x.RequestBody)
	lines = append(lines, "", s.Title.Render(fmt.Sprintf("← %d %s", x.Status, http.StatusText(x.Status))))
	if x.WWWAuthenticate != "" {
		add(s.Warn.Render, "WWW-Authenticate: "+esc(x.WWWAuthenticate))
	}
	body(x.ResponseType, x.ResponseBody)
	lines = append(lines, "", s.Subtle.Render("Passwords and client secrets are hidden; tokens show their first characters."))
	return lines
}

func (r requestModel) view() string {
	s := r.c.styles
	k := r.c.keys
	title := s.Title.Render("Request")
	switch {
	case r.diag:
		title = s.Title.Render("Login sequence") + s.Subtle.Render(" · the last login's requests, in order")
	case r.at >= 0 && r.at < len(r.rows):
		e := r.rows[r.at]
		title += s.Subtle.Render(fmt.Sprintf(" %d of %d · %s · %s · %s", r.at+1, len(r.rows), e.At.In(r.c.opts.Location).Format("15:04:05"), e.Source, e.What))
	}
	help := []key.Binding{named(k.Earlier, "earlier"), named(k.Later, "later"), k.Up, k.Down, named(k.Tab, "login diagram"), k.Back}
	return truncate(title, r.c.width) + "\n\n" + r.vp.View() + "\n\n" + r.c.footer(help)
}

// exchangeSummary is an answer in a few words: its error code, or which
// tokens it carried.
func exchangeSummary(x *client.Exchange) string {
	body := x.ResponseBody
	var what []string
	for _, t := range []struct{ keys, name string }{{"access_token accessToken", "access"}, {"refresh_token refreshToken", "refresh"},
		{"id_token idToken", "ID"}, {"device_code deviceCode", "device code"}, {"user_code userCode", "user code"}} {
		for _, k := range strings.Fields(t.keys) {
			if strings.Contains(body, `"`+k+`": `) {
				what = append(what, t.name)
				break
			}
		}
	}
	if i := strings.Index(body, `"error": "`); i >= 0 {
		code := body[i+len(`"error": "`):]
		if j := strings.IndexByte(code, '"'); j >= 0 {
			return fmt.Sprintf("%d %s", x.Status, termtext.Escape(code[:j]))
		}
	}
	if len(what) > 0 {
		return fmt.Sprintf("%d %s", x.Status, strings.Join(what, " + "))
	}
	return fmt.Sprint(x.Status)
}
