package tui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// scroll moves the timeline by a line, a page or to an end. Scrolled up,
// the reader keeps their place while new rows arrive (counted in unseen);
// at the bottom, or after End, the timeline follows again.
func (d *dashboardModel) scroll(k tea.KeyPressMsg) {
	keys := d.c.keys
	switch {
	case key.Matches(k, keys.Up):
		d.timeline.ScrollUp(1)
	case key.Matches(k, keys.Down):
		d.timeline.ScrollDown(1)
	case key.Matches(k, keys.PageUp):
		d.timeline.PageUp()
	case key.Matches(k, keys.PageDown):
		d.timeline.PageDown()
	case key.Matches(k, keys.Top):
		d.timeline.GotoTop()
	case key.Matches(k, keys.Bottom):
		d.timeline.GotoBottom()
	}
	d.follow = d.timeline.AtBottom()
	if d.follow {
		d.unseen = 0
	}
}

// timelineTitle names the timeline and, when the reader scrolled up
// while rows arrived, how many wait below.
func (d dashboardModel) timelineTitle() string {
	s := d.c.styles
	title := s.Label.Render("Timeline")
	switch {
	case d.unseen > 0 && !d.follow:
		rows := "rows"
		if d.unseen == 1 {
			rows = "row"
		}
		return firstFit(d.c.width, title+s.Warn.Render(fmt.Sprintf("  %d new %s below · End to follow", d.unseen, rows)),
			title+s.Warn.Render(fmt.Sprintf("  %d new below · End", d.unseen)))
	case !d.follow:
		return title + s.Subtle.Render("  (↑/↓ pgup/pgdn home · End follows)")
	}
	return title + s.Subtle.Render("  (↑/↓ scroll)")
}
