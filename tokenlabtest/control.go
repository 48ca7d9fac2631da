package tokenlabtest

import (
	"context"
	"slices"
	"time"

	"github.com/tokenlab/tokenlab/mockserver"
	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// Now is the server's time.
func (s *Server) Now() time.Time { return s.e.Clock.Now() }

// Advance moves the server's clock forward by d (and logs clock_moved):
// tokens whose exp it passes are refused from now on.
func (s *Server) Advance(d time.Duration) {
	s.helper()
	if err := s.e.Server.AdvanceClock(context.Background(), d); err != nil {
		s.fail("tokenlabtest: advance the clock by %s: %v", d, err)
	}
}

// Fault is a failure the server injects into its next calls of a route:
// an error Status (such as 503), a Delay before answering, or both, for
// the next Times calls (0 means 1).
type Fault = mockserver.Fault

// Routes a Fault can target.
const (
	RouteToken     = mockserver.FaultToken     // refreshes: POST /oauth/token with grant_type=refresh_token, POST /token
	RouteLogin     = mockserver.FaultLogin     // grants that start a session: password, authorization code, device, client credentials
	RouteProtected = mockserver.FaultProtected // the protected API (APIURL) and /me
	RouteLogout    = mockserver.FaultLogout    // revocation and logout
)

// Fault queues a fault; it is used up by the calls it answers.
func (s *Server) Fault(f Fault) {
	s.helper()
	if err := s.e.Server.AddFault(f); err != nil {
		s.fail("tokenlabtest: add fault: %v", err)
	}
}

// ClearFaults drops the faults not yet used up.
func (s *Server) ClearFaults() { s.e.Server.ClearFaults() }

// Policy returns the lifetimes and rotation rules in force.
func (s *Server) Policy() Policy { return s.e.Server.Policy() }

// SetPolicy changes the lifetimes and rotation rules for the requests that
// follow; tokens already issued keep their expiry.
func (s *Server) SetPolicy(change func(*Policy)) {
	s.helper()
	p := s.e.Server.Policy()
	change(&p)
	if err := s.e.Server.SetPolicy(p); err != nil {
		s.fail("tokenlabtest: set policy: %v", err)
	}
}

// Event is one entry of the server's event log: its Kind, the Username,
// the FamilyID (the session: one chain of rotated refresh tokens), the
// JTI of the token concerned, and a Reason that says why.
type Event = auth.Event

// Event kinds a test of a client most often looks for; the event log has
// more (mockserver.EventKinds lists them all).
const (
	EventLogin           = auth.EventLogin           // a grant started a session
	EventRefresh         = auth.EventRefresh         // a refresh token was redeemed
	EventRotation        = auth.EventRotation        // ... and replaced by a new one
	EventRefreshRejected = auth.EventRefreshRejected // a refresh was refused (expired, revoked, unknown)
	EventReuseDetected   = auth.EventReuseDetected   // a spent refresh token came back
	EventFamilyRevoked   = auth.EventFamilyRevoked   // a session ended by revocation (reuse, logout, admin)
	EventAccessRejected  = auth.EventAccessRejected  // the API refused an access token
	EventLogout          = auth.EventLogout          // the client ended its session (logout, or revocation at RevokeURL)
	EventClock           = auth.EventClock           // the clock moved
)

// EventFilter selects events; a zero field selects all.
type EventFilter struct {
	Kinds    []string // any of these kinds
	Username string
	FamilyID string
	Trace    string // the Tokenlab-Trace header of the requests that caused them
}

func (f EventFilter) match(e Event) bool {
	return (len(f.Kinds) == 0 || slices.Contains(f.Kinds, e.Kind)) &&
		(f.Username == "" || f.Username == e.Username) &&
		(f.FamilyID == "" || f.FamilyID == e.FamilyID)
}

// eventPage is how many events one read of the log returns.
const eventPage = 1000

// Events returns the events the filter selects, oldest first.
func (s *Server) Events(f EventFilter) []Event {
	s.helper()
	var out []Event
	for after := int64(0); ; {
		page, err := s.e.DB.Events(context.Background(), after, eventPage, f.Trace)
		if err != nil {
			s.fail("tokenlabtest: read events: %v", err)
			return nil
		}
		for _, e := range page {
			if f.match(e) {
				out = append(out, e)
			}
		}
		if len(page) < eventPage {
			return out
		}
		after = page[len(page)-1].ID
	}
}
