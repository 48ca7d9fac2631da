package scenarios

import (
	"context"
	"time"

	"github.com/tokenlab/tokenlab/client"
)

// Stage is a playing scenario's world as a player shows it beside its
// steps (the TUI's dashboard): where its server is, so the player reads
// what the server did through its admin API; its clock; the session of
// the last step's client; and the clients' events.
type Stage struct {
	Server     string
	AdminToken string // "" when the server's admin API is out of reach
	Now        time.Time
	Actor      string         // the client of the last step
	Session    client.Session // that client's session; zero when it holds none
	Events     []StageEvent   // the clients' events after the first From
}

// StageEvent is one client event of the scenario and the client it came from.
type StageEvent struct {
	Actor string
	Event client.Event
}

// Stage reads the world after a step; from is how many client events the
// player has already seen. Call it between steps, never during Next.
func (p *Play) Stage(ctx context.Context, from int) Stage {
	w := p.w
	st := Stage{Server: w.server, Actor: w.lastActor}
	if w.admin != nil {
		st.AdminToken = w.admin.token
	}
	if w.clock != nil {
		st.Now = w.clock.Now()
	}
	if a, ok := w.actors[w.lastActor]; ok && a.client != nil {
		if s, err := a.client.Session(ctx); err == nil {
			st.Session = s
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.events[min(max(from, 0), len(w.events)):] {
		st.Events = append(st.Events, StageEvent{Actor: e.actor, Event: e.event})
	}
	return st
}
