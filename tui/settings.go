package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/tokenlab/tokenlab/mockserver"
)

// settingsModel is the lab's settings screen (,): the server's policy as
// its admin API reports it, one row per setting; enter (or ←/→) changes
// the row under the cursor on the server, and the change lands in the
// timeline with what it means.
type settingsModel struct {
	c      *common
	cur    mockserver.Policy
	loaded bool
	cursor int
	busy   bool
	status status
}

// setting is one row: how it reads, the choices it cycles through, and
// what each value means for the tokens.
type setting struct {
	name  string
	value func(mockserver.Policy) string
	next  func(mockserver.Policy, int) mockserver.PolicyPatch // the patch for the next (+1) or previous (-1) choice
	means func(mockserver.Policy) string
}

func durationSetting(name string, get func(*mockserver.Policy) *time.Duration, choices []time.Duration,
	field func(*mockserver.PolicyPatch, *mockserver.Duration), means func(time.Duration) string) setting {
	return setting{
		name:  name,
		value: func(p mockserver.Policy) string { return mockserver.FormatDuration(*get(&p)) },
		next: func(p mockserver.Policy, step int) mockserver.PolicyPatch {
			i := slices.Index(choices, *get(&p))
			if i < 0 {
				i = 0
				for i < len(choices)-1 && choices[i] < *get(&p) {
					i++
				}
				step = 0
			}
			d := mockserver.Duration(choices[(i+step+len(choices))%len(choices)])
			var pp mockserver.PolicyPatch
			field(&pp, &d)
			return pp
		},
		means: func(p mockserver.Policy) string { return means(*get(&p)) },
	}
}

func boolSetting(name string, get func(*mockserver.Policy) *bool, field func(*mockserver.PolicyPatch, *bool), on, off string) setting {
	return setting{
		name:  name,
		value: func(p mockserver.Policy) string { return map[bool]string{true: "on", false: "off"}[*get(&p)] },
		next: func(p mockserver.Policy, _ int) mockserver.PolicyPatch {
			v := !*get(&p)
			var pp mockserver.PolicyPatch
			field(&pp, &v)
			return pp
		},
		means: func(p mockserver.Policy) string {
			if *get(&p) {
				return on
			}
			return off
		},
	}
}

// labSettings are the rows, in the order a class meets them.
var labSettings = []setting{
	durationSetting("access TTL", func(p *mockserver.Policy) *time.Duration { return &p.AccessTTL },
		[]time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour},
		func(pp *mockserver.PolicyPatch, d *mockserver.Duration) { pp.AccessTTL = d },
		func(d time.Duration) string {
			return "New access tokens live " + mockserver.FormatDuration(d) + ": a stolen one works that long, and the client refreshes that often."
		}),
	durationSetting("refresh TTL", func(p *mockserver.Policy) *time.Duration { return &p.RefreshTTL },
		[]time.Duration{10 * time.Minute, time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour},
		func(pp *mockserver.PolicyPatch, d *mockserver.Duration) { pp.RefreshTTL = d },
		func(d time.Duration) string {
			return "New refresh tokens live " + mockserver.FormatDuration(d) + ": unused that long, the session ends and the learner logs in again."
		}),
	boolSetting("rotation", func(p *mockserver.Policy) *bool { return &p.Rotation },
		func(pp *mockserver.PolicyPatch, v *bool) { pp.Rotation = v },
		"Every refresh returns a new refresh token and spends the old one.",
		"Refresh tokens are not rotated: the same one refreshes until it expires, so a stolen copy works as long as the owner's."),
	boolSetting("reuse detection", func(p *mockserver.Policy) *bool { return &p.ReuseDetection },
		func(pp *mockserver.PolicyPatch, v *bool) { pp.ReuseDetection = v },
		"A spent refresh token that comes back revokes its whole family, the thief's copy and the owner's.",
		"A spent refresh token that comes back is refused, but its family lives on: the thief is not locked out."),
	durationSetting("reuse grace", func(p *mockserver.Policy) *time.Duration { return &p.ReuseGrace },
		[]time.Duration{0, 10 * time.Second, time.Minute},
		func(pp *mockserver.PolicyPatch, d *mockserver.Duration) { pp.ReuseGrace = d },
		func(d time.Duration) string {
			if d == 0 {
				return "No grace window: any replay of a spent refresh token counts as reuse."
			}
			return "A spent refresh token sent again within " + mockserver.FormatDuration(d) + " gets the same successor again (a lost answer), not a revocation."
		}),
	boolSetting("access denylist", func(p *mockserver.Policy) *bool { return &p.AccessDenylist },
		func(pp *mockserver.PolicyPatch, v *bool) { pp.AccessDenylist = v },
		"The API checks a denylist on every call: after logout or revocation it refuses the session's access tokens too.",
		"Access tokens are stateless: the API accepts them until exp, even after logout."),
}

func newSettingsModel(c *common) settingsModel { return settingsModel{c: c} }

// settingsMsg is the server's policy after a read or a change; changed
// names the row that was changed ("" for a read).
type settingsMsg struct {
	policy  mockserver.Policy
	changed string
	err     error
}

func settingsCmd(ctx context.Context, a *adminAPI, patch *mockserver.PolicyPatch, changed string) tea.Cmd {
	return func() tea.Msg {
		var pp mockserver.PolicyPatch
		var err error
		if patch == nil {
			err = a.get(ctx, "/admin/settings", &pp)
		} else {
			pp, err = a.putSettings(ctx, *patch)
		}
		if err != nil {
			return settingsMsg{err: err}
		}
		p, err := pp.Apply(mockserver.Policy{})
		return settingsMsg{policy: p, changed: changed, err: err}
	}
}

// putSettings changes the server's settings and returns them all.
func (a *adminAPI) putSettings(ctx context.Context, patch mockserver.PolicyPatch) (mockserver.PolicyPatch, error) {
	body, _ := json.Marshal(patch)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, a.url+"/admin/settings", bytes.NewReader(body))
	if err != nil {
		return mockserver.PolicyPatch{}, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		return mockserver.PolicyPatch{}, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct{ Message string }
		json.Unmarshal(data, &e)
		return mockserver.PolicyPatch{}, fmt.Errorf("the server refused the setting (%d): %s", resp.StatusCode, e.Message)
	}
	var pp mockserver.PolicyPatch
	return pp, json.Unmarshal(data, &pp)
}

// open reads the server's settings.
func (st settingsModel) open() (settingsModel, tea.Cmd) {
	st.status = status{}
	if st.c.admin == nil {
		st.status = status{"warn", "The settings are changed through a tokenlab server's admin API: the embedded server, or --server with TOKENLAB_ADMIN_TOKEN."}
		return st, nil
	}
	return st, settingsCmd(st.c.ctx, st.c.admin, nil, "")
}

func (st settingsModel) update(msg tea.Msg) (settingsModel, tea.Cmd) {
	switch msg := msg.(type) {
	case settingsMsg:
		st.busy = false
		if msg.err != nil {
			st.status = status{"bad", sentence(msg.err)}
			return st, nil
		}
		st.cur, st.loaded = msg.policy, true
		if msg.changed != "" {
			st.status = status{"good", msg.changed + " is now " + st.row(msg.changed).value(st.cur) + ": " + st.row(msg.changed).means(st.cur)}
		}
		return st, nil
	case tea.KeyPressMsg:
		keys := st.c.keys
		switch {
		case key.Matches(msg, keys.Back), key.Matches(msg, keys.Settings):
			return st, show(screenDashboard)
		case key.Matches(msg, keys.Up):
			st.cursor = max(st.cursor-1, 0)
		case key.Matches(msg, keys.Down):
			st.cursor = min(st.cursor+1, len(labSettings)-1)
		case key.Matches(msg, keys.Apply), key.Matches(msg, keys.FlowNext):
			return st.change(1)
		case key.Matches(msg, keys.FlowPrev):
			return st.change(-1)
		}
	}
	return st, nil
}

func (st settingsModel) row(name string) setting {
	for _, s := range labSettings {
		if s.name == name {
			return s
		}
	}
	return labSettings[0]
}

// change sets the row under the cursor to its next (or previous) choice
// on the server.
func (st settingsModel) change(step int) (settingsModel, tea.Cmd) {
	if !st.loaded || st.busy || st.c.admin == nil {
		return st, nil
	}
	row := labSettings[st.cursor]
	patch := row.next(st.cur, step)
	st.busy = true
	return st, settingsCmd(st.c.ctx, st.c.admin, &patch, row.name)
}

func (st settingsModel) view() string {
	s := st.c.styles
	width := max(st.c.width, 20)
	var lines []string
	lines = append(lines, s.Title.Render("Lab settings")+s.Subtle.Render(" · the server's policy, changed live through its admin API"), "")
	if st.loaded {
		for i, row := range labSettings {
			label, style := "  ", s.Label
			if i == st.cursor {
				label, style = "› ", s.Selected
			}
			lines = append(lines, style.Render(fmt.Sprintf("%s%-16s", label, row.name))+" "+s.Value.Render(row.value(st.cur)))
		}
		lines = append(lines, "")
		lines = appendWrapped(lines, s.Subtle.Render, labSettings[st.cursor].means(st.cur), width)
		lines = appendWrapped(lines, s.Subtle.Render, "New values apply to tokens issued from now on.", width)
	} else if st.status.text == "" {
		lines = append(lines, s.Subtle.Render("Reading the server's settings…"))
	}
	lines = append(lines, "")
	if v := st.c.statusView(st.status); v != "" {
		lines = append(lines, v)
	}
	k := st.c.keys
	return strings.Join(lines, "\n") + "\n" + st.c.footer([]key.Binding{k.Up, k.Down, named(k.Apply, "change"), k.Back})
}

func (st settingsModel) resize() settingsModel { return st }

// settingEntry is the timeline's row for a change.
func settingEntry(at time.Time, st settingsModel, name string) entry {
	row := st.row(name)
	return entry{At: at, Source: "lab", What: "setting " + name, Tone: "warn",
		Why: upperFirst(name) + " " + row.value(st.cur) + ": " + row.means(st.cur)}
}
