package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// TestTimelineFollowsUnlessScrolledUp (issue 17, point 11): new rows
// scroll into view unless the reader scrolled up; then the title says how
// many wait below, and End follows again; Home, PgUp and PgDn move too.
func TestTimelineFollowsUnlessScrolledUp(t *testing.T) {
	l := newLab(t)
	l.login()
	l.key("p", "r", "p")
	if !l.m.dash.timeline.AtBottom() {
		t.Fatalf("the timeline does not follow the new rows")
	}
	l.send(tea.KeyPressMsg{Code: tea.KeyHome})
	if l.m.dash.timeline.YOffset() != 0 {
		t.Errorf("Home left the timeline at line %d", l.m.dash.timeline.YOffset())
	}
	l.wantView("POST /login 200")
	l.send(tea.KeyPressMsg{Code: tea.KeyPgDown})
	if got, page := l.m.dash.timeline.YOffset(), l.m.dash.timeline.Height(); got != page && !l.m.dash.timeline.AtBottom() {
		t.Errorf("PgDn moved to line %d, want one page (%d)", got, page)
	}
	l.send(tea.KeyPressMsg{Code: tea.KeyPgUp})
	if l.m.dash.timeline.YOffset() != 0 {
		t.Errorf("PgUp from the second page left line %d", l.m.dash.timeline.YOffset())
	}
	before := len(l.m.dash.entries)
	l.key("p")
	added := len(l.m.dash.entries) - before
	if l.m.dash.timeline.YOffset() != 0 {
		t.Errorf("a new row moved a reader who had scrolled up")
	}
	want := map[bool]string{true: "1 new row below", false: "new rows below"}[added == 1]
	l.wantView(want, "End")
	l.send(tea.KeyPressMsg{Code: tea.KeyEnd})
	if !l.m.dash.timeline.AtBottom() || strings.Contains(l.view(), "below") {
		t.Errorf("End did not follow the timeline again:\n%s", l.view())
	}
	l.key("p")
	if !l.m.dash.timeline.AtBottom() {
		t.Errorf("after End the new rows do not scroll into view")
	}
}

// TestWhyPanelLeavesTheLastAction (issue 17, point 11): at 80×24 the
// "Why two tokens?" panel takes its short form, so the rows of the last
// action stay on screen.
func TestWhyPanelLeavesTheLastAction(t *testing.T) {
	l := newLab(t)
	l.login()
	l.m.dash.why = true
	l.m.dash = l.m.dash.resize()
	mark := len(l.m.dash.entries)
	l.key("r")
	v := l.view()
	for _, e := range l.m.dash.entries[mark:] {
		if !strings.Contains(v, e.At.Format("15:04:05")+" "+padRight(e.Source, 8)+" "+e.What) {
			t.Errorf("the last action's row %q %q is off screen:\n%s", e.Source, e.What, v)
		}
	}
	l.wantView("Why two?")
}

// TestNarrowTimelineIsOneColumn (issue 17, point 11): at 60×20 each row's
// why goes under it across the whole width instead of a thin column.
func TestNarrowTimelineIsOneColumn(t *testing.T) {
	l := newLab(t)
	l.send(tea.WindowSizeMsg{Width: 60, Height: 20})
	l.login()
	l.key("p")
	for _, line := range strings.Split(l.view(), "\n") {
		if strings.Contains(line, "GET /protected 200") && strings.Contains(line, "The access") {
			t.Errorf("at 60 columns the why still sits in a column beside the row: %q", line)
		}
	}
	l.wantView("  The access token was valid, so the API answered.")
}

func padRight(s string, n int) string { return s + strings.Repeat(" ", max(n-len(s), 0)) }

// TestTimesInTheLearnersZone (issue 17, point 14): the clock line names
// its zone; a learner east of UTC reads the dashboard in local time, and
// the inspector shows the token's times in UTC, saying so.
func TestTimesInTheLearnersZone(t *testing.T) {
	l := newLab(t, func(o *Options) { o.Location = time.FixedZone("CET", 3600) })
	l.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	l.login()
	l.wantView("clock Jan 02 10:00:00 CET", "10:00:00 client   POST /login 200", "issued 10:00:00  expires 10:15:00")
	l.key("i")
	l.wantInspection("2030-01-02 09:15:00 UTC")
	utc := newLab(t)
	utc.login()
	utc.wantView("clock Jan 02 09:00:00 UTC")
}

// TestAdminTokenAgainstAnotherServer (issue 17, point 13): against
// --server with the server's admin token, f moves the real server's
// clock, the server's rows reach the timeline and the family graph
// draws, as on the embedded server.
func TestAdminTokenAgainstAnotherServer(t *testing.T) {
	l := newLab(t, func(o *Options) {
		o.Server, o.AdminToken, o.Embedded, o.Clock = o.Embedded.URL, o.Embedded.AdminToken, nil, nil
	})
	l.wantView("f, d and w move its clock")
	l.login()
	l.key("f")
	if got := l.e.Clock.Now(); !got.Equal(labStart.Add(moveAccess)) {
		t.Errorf("f left the server's clock at %s, want %s", got, labStart.Add(moveAccess))
	}
	l.wantCards(StateExpired, StateValid)
	l.key("p")
	l.wantTimeline(0, "login", "clock_moved", "access_rejected", "rotation")
	if !strings.Contains(l.timelineText(), "server login") {
		t.Errorf("no server rows in the timeline:\n%s", l.timelineText())
	}
	l.key("g")
	l.wantView("Token family", "alive: 2 tokens", "│ rotated")
}
