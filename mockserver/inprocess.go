package mockserver

// Changes a program holding the *Server makes while it runs, without the
// admin API: the tokenlabtest package registers clients and users between
// a test's steps, moves the clock and injects faults through these.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// RegisterClient adds a client to the running server, or replaces the
// configured client with the same id. It takes effect for the requests
// that follow, as if the client had been configured at start-up.
func (s *Server) RegisterClient(ctx context.Context, c ClientConfig) error {
	if err := c.validate(); err != nil {
		return err
	}
	if c.ID == DefaultClientID {
		return fmt.Errorf("%s is the built-in public client; give your client another id", DefaultClientID)
	}
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	old := s.cfg.Clients
	// A copy: the slice may share its array with the caller's Config.
	clients := slices.Clone(old)
	if i := slices.IndexFunc(clients, func(k ClientConfig) bool { return k.ID == c.ID }); i >= 0 {
		clients[i] = c
	} else {
		clients = append(clients, c)
	}
	s.cfg.Clients = clients
	if err := s.registerClients(ctx); err != nil {
		s.cfg.Clients = old
		return err
	}
	return nil
}

// AddUser creates a user on the running server, or gives an existing one
// this password, as Config.Users does at start-up.
func (s *Server) AddUser(ctx context.Context, u Credentials) error {
	if err := validateCredentials(u.Username, u.Password); err != nil {
		var e *Error
		if errors.As(err, &e) {
			err = errors.New(e.Message)
		}
		return fmt.Errorf("user %q: %w", u.Username, err)
	}
	return s.ensureUser(ctx, u)
}

// AddFault queues a fault as POST /admin/faults does (Times 0 means 1).
func (s *Server) AddFault(f Fault) error {
	if f.Times == 0 {
		f.Times = 1
	}
	if err := f.Validate(); err != nil {
		return err
	}
	return s.faults.add(f)
}

// ClearFaults drops every pending fault.
func (s *Server) ClearFaults() { s.faults.clear() }

// AdvanceClock moves the clock forward by d and logs clock_moved, as
// POST /admin/clock does.
func (s *Server) AdvanceClock(ctx context.Context, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("advance moves the clock forward; %s is negative", d)
	}
	if err := s.clock.Advance(d); err != nil {
		return err
	}
	now := s.clock.Now()
	s.event(ctx, auth.Event{At: now, Kind: auth.EventClock, Reason: "now " + now.Format(time.RFC3339)})
	return nil
}
