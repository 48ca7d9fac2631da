package tui

// The timeline's one ordering. Client and server rows carry the time they
// happened on the lab's clock (the client's events are stamped with it,
// the server's come from it) and are sorted by it. The lab's own rows
// narrate the present: they go at the end, never stamped with the last
// tick (which lags the clock by up to a second), and the words on what an
// action meant wait until the server's events of that action are read,
// so a consequence never comes before its cause.

// appendNow puts a lab row at the end of the timeline, stamped no
// earlier than the row above it.
func (d *dashboardModel) appendNow(e entry) {
	if n := len(d.entries); n > 0 && e.At.Before(d.entries[n-1].At) {
		e.At = d.entries[n-1].At
	}
	d.entries = append(d.entries, e)
	d.addEntries() // trims and renders
}

// afterServer adds a lab row that explains an action once the server's
// events of that action are in; at once when they are not read here.
func (d *dashboardModel) afterServer(e entry) {
	if d.serverEvents() == nil {
		d.appendNow(e)
		return
	}
	d.pending = append(d.pending, e)
}

// flushPending adds the rows that waited for the server's events.
func (d *dashboardModel) flushPending() {
	for _, e := range d.pending {
		d.appendNow(e)
	}
	d.pending = nil
}
