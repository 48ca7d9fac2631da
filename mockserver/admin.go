package mockserver

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// Admin routes: move the clock, read events and sessions. All need the
// admin token (see requireAdmin).

type clockResponse struct {
	Now  time.Time `json:"now"`
	Mode string    `json:"mode"`
}

type clockRequest struct {
	Advance string `json:"advance"` // a duration: "16m", "1d"
	Set     string `json:"set"`     // an RFC 3339 time
}

func (s *Server) handleGetClock(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, clockResponse{Now: s.clock.Now(), Mode: s.clock.Mode()})
	return nil
}

func (s *Server) handleSetClock(w http.ResponseWriter, r *http.Request) error {
	var req clockRequest
	if _, err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	var err error
	switch {
	case (req.Advance == "") == (req.Set == ""):
		return badRequest(`send exactly one of {"advance": "16m"} or {"set": "2026-01-02T15:04:05Z"}`)
	case req.Advance != "":
		d, perr := ParseDuration(req.Advance)
		if perr != nil {
			return badRequest("advance: %v", perr)
		}
		if d < 0 {
			return badRequest("advance moves the clock forward; %q is negative (use set to go back to a time)", req.Advance)
		}
		err = s.clock.Advance(d)
	default:
		t, perr := time.Parse(time.RFC3339, req.Set)
		if perr != nil {
			return badRequest("set: %q is not an RFC 3339 time like 2026-01-02T15:04:05Z", req.Set)
		}
		err = s.clock.Set(t)
	}
	if errors.Is(err, ErrClockFixed) {
		return &Error{Status: http.StatusConflict, Code: "clock_fixed", Message: err.Error()}
	}
	if errors.Is(err, ErrClockRange) {
		return badRequest("%v", err)
	}
	now := s.clock.Now()
	s.event(r.Context(), auth.Event{At: now, Kind: auth.EventClock, Reason: "now " + now.Format(time.RFC3339)})
	writeJSON(w, http.StatusOK, clockResponse{Now: now, Mode: s.clock.Mode()})
	return nil
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) error {
	after, err := queryInt(r, "after", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", 500, 1, 5000)
	if err != nil {
		return err
	}
	trace := r.URL.Query().Get("trace")
	if trace != "" && !auth.ValidTrace(trace) {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_request",
			Message: fmt.Sprintf("trace must be 1 to %d letters, digits, '.', '_' or '-'", auth.MaxTraceLen)}
	}
	var events []auth.Event
	if c := r.URL.Query().Get("client"); c != "" {
		events, err = s.clientEvents(r, after, int(limit), trace, c)
	} else {
		events, err = s.db.Events(r.Context(), after, int(limit), trace)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": events})
	return nil
}

type sessionView struct {
	ID           string      `json:"id"`
	Username     string      `json:"username"`
	ClientID     string      `json:"clientId,omitempty"`
	Scope        string      `json:"scope,omitempty"`
	CreatedAt    time.Time   `json:"createdAt"`
	ExpiresAt    time.Time   `json:"expiresAt"`
	RevokedAt    *time.Time  `json:"revokedAt,omitempty"`
	RevokeReason string      `json:"revokeReason,omitempty"`
	State        string      `json:"state"`
	Tokens       []tokenView `json:"tokens"` // the newest ?tokens= of them
	TokenCount   int         `json:"tokenCount"`
}

type tokenView struct {
	JTI       string     `json:"jti"`
	ParentJTI string     `json:"parentJti,omitempty"`
	IssuedAt  time.Time  `json:"issuedAt"`
	ExpiresAt time.Time  `json:"expiresAt"`
	UsedAt    *time.Time `json:"usedAt,omitempty"`
	State     string     `json:"state"`
}

// Page sizes of /admin/sessions: the answer stays a few MB at most however
// many sessions and rotations the database holds.
const (
	sessionsDefaultLimit = 100
	sessionsMaxLimit     = 500
	tokensDefaultLimit   = 100
	tokensMaxLimit       = 1000
)

// handleSessions lists sessions newest first, a page at a time:
// ?limit=&after=<next>&user=&family=&tokens=.
func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", sessionsDefaultLimit, 1, sessionsMaxLimit)
	if err != nil {
		return err
	}
	tokens, err := queryInt(r, "tokens", tokensDefaultLimit, 0, tokensMaxLimit)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page, err := s.db.SessionsPage(r.Context(), auth.SessionQuery{Limit: int(limit), After: q.Get("after"),
		Username: q.Get("user"), FamilyID: q.Get("family"), Tokens: int(tokens)})
	if errors.Is(err, auth.ErrBadCursor) {
		return badRequest("after must be the next value of a previous page")
	}
	if err != nil {
		return err
	}
	now := s.clock.Now()
	views := make([]sessionView, 0, len(page.Sessions))
	for _, ss := range page.Sessions {
		f := ss.Family
		v := sessionView{ID: f.ID, Username: f.Username, ClientID: f.ClientID, Scope: f.Scope, CreatedAt: f.CreatedAt,
			ExpiresAt: f.ExpiresAt, RevokedAt: timePtr(f.RevokedAt), RevokeReason: f.RevokeReason, State: auth.StateActive,
			Tokens: []tokenView{}, TokenCount: ss.TokenCount}
		switch {
		case f.Revoked():
			v.State = auth.StateRevoked
		case !now.Before(f.ExpiresAt):
			v.State = auth.StateExpired
		}
		for _, t := range ss.Tokens {
			v.Tokens = append(v.Tokens, tokenView{JTI: t.JTI, ParentJTI: t.ParentJTI, IssuedAt: t.IssuedAt,
				ExpiresAt: t.ExpiresAt, UsedAt: timePtr(t.UsedAt), State: t.State(f, now)})
		}
		views = append(views, v)
	}
	body := map[string]any{"sessions": views}
	if page.Next != "" {
		body["next"] = page.Next
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func queryInt(r *http.Request, name string, def, lo, hi int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) handleGetSettings(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.Policy().Patch())
	return nil
}

// handleSetSettings changes the fields given and keeps the others, so a
// scenario runner can set what a scenario needs and put it back after.
func (s *Server) handleSetSettings(w http.ResponseWriter, r *http.Request) error {
	var req PolicyPatch
	if empty, err := decodeJSON(w, r, &req); err != nil {
		return err
	} else if empty {
		return badRequest(`send the settings to change, e.g. {"accessTtl": "1m", "rotation": false}`)
	}
	p, err := req.Apply(s.Policy())
	if err == nil {
		err = s.SetPolicy(p)
	}
	if err != nil {
		return badRequest("%v", err)
	}
	writeJSON(w, http.StatusOK, p.Patch())
	return nil
}
