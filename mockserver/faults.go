package mockserver

// Faults: an admin asks the server to answer the next calls to a route
// with an error status or after a delay, so that scenarios can show how a
// client lives through an outage.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Routes a fault can target.
const (
	FaultToken     = "token"     // refresh: POST /token, or /oauth/token with grant_type=refresh_token
	FaultLogin     = "login"     // POST /login, or /oauth/token with a grant that starts a session (password, code, device, client credentials)
	FaultProtected = "protected" // GET /protected and /me
	FaultLogout    = "logout"    // POST /logout and /oauth/revoke
)

var faultRouteNames = []string{FaultToken, FaultLogin, FaultProtected, FaultLogout}

// Bounds of the fault table.
const (
	maxFaults     = 16
	maxFaultTimes = 1000
	maxFaultDelay = time.Minute
)

// Fault is one pending fault.
type Fault struct {
	Route  string        `json:"route"`
	Status int           `json:"status,omitempty"` // 0: answer normally after the delay
	Times  int           `json:"times"`            // calls left
	Delay  time.Duration `json:"-"`
	// Client limits the fault to the requests of one OAuth client (the
	// client_id of a token-endpoint request); empty: any request.
	Client string `json:"client,omitempty"`
	// LoseResponse: the server handles the request, then drops the
	// connection instead of answering (faults_lose.go).
	LoseResponse bool `json:"lose_response,omitempty"`
}

// Validate checks a fault as POST /admin/faults does: a known route, an
// error status or a delay (or both), and times and delay within bounds.
// Times must be set: the admin API and scenarios read 0 as 1 first.
func (f Fault) Validate() error {
	switch {
	case !slices.Contains(faultRouteNames, f.Route):
		return fmt.Errorf("fault route must be one of %s, not %q", strings.Join(faultRouteNames, ", "), f.Route)
	case f.Status == 0 && f.Delay == 0 && !f.LoseResponse:
		return errors.New("a fault needs a status (such as 503), a delay (such as 2s), or lose_response")
	case f.LoseResponse && f.Status != 0:
		return errors.New("lose_response handles the request and drops its answer; it cannot also answer a status")
	case len(f.Client) > 128:
		return errors.New("fault client is a client id of at most 128 characters")
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return fmt.Errorf("fault status must be an error status from 400 to 599, not %d", f.Status)
	case f.Times < 1 || f.Times > maxFaultTimes:
		return fmt.Errorf("fault times must be from 1 to %d", maxFaultTimes)
	case f.Delay < 0 || f.Delay > maxFaultDelay:
		return fmt.Errorf("fault delay must be from 0 to %s", FormatDuration(maxFaultDelay))
	}
	return nil
}

// faultTable holds the pending faults, oldest first. Its zero value is
// ready to use.
type faultTable struct {
	mu     sync.Mutex
	faults []Fault
	// pending mirrors len(faults), so requests skip the lock when none wait.
	pending atomic.Int32
	// woken is closed when the server shuts down: a request sleeping in a
	// delay ends at once instead of holding the shutdown for up to a minute.
	woken    chan struct{}
	wakeOnce sync.Once
}

// WakeDelayed ends every delay a fault holds a request in, now and from
// now on; the requests are dropped unanswered, as by a server going away.
// Register it with http.Server.RegisterOnShutdown.
func (s *Server) WakeDelayed() {
	s.faults.wakeOnce.Do(func() { close(s.faults.wakeChan()) })
}

func (t *faultTable) wakeChan() chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.woken == nil {
		t.woken = make(chan struct{})
	}
	return t.woken
}

func (t *faultTable) add(f Fault) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.faults) >= maxFaults {
		return fmt.Errorf("at most %d faults may wait at once; DELETE /admin/faults clears them", maxFaults)
	}
	t.faults = append(t.faults, f)
	t.pending.Store(int32(len(t.faults)))
	return nil
}

func (t *faultTable) clear() {
	t.mu.Lock()
	t.faults = nil
	t.pending.Store(0)
	t.mu.Unlock()
}

// take uses up one call of the oldest fault for route and client.
func (t *faultTable) take(route, client string) (Fault, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := slices.IndexFunc(t.faults, func(f Fault) bool { return f.Route == route && (f.Client == "" || f.Client == client) })
	if i < 0 {
		return Fault{}, false
	}
	f := t.faults[i]
	t.faults[i].Times--
	if t.faults[i].Times <= 0 {
		t.faults = slices.Delete(t.faults, i, i+1)
		t.pending.Store(int32(len(t.faults)))
	}
	return f, true
}

func (t *faultTable) list() []Fault {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Fault{}, t.faults...)
}

// faultRoute names the fault route a request belongs to, or "", and the
// client a token-endpoint request names.
func faultRoute(r *http.Request) (route, client string) {
	switch r.URL.Path {
	case "/token":
		return FaultToken, ""
	case "/login":
		return FaultLogin, ""
	case "/protected", "/me":
		return FaultProtected, ""
	case "/logout":
		return FaultLogout, ""
	case "/oauth/revoke":
		return FaultLogout, requestClient(r)
	case "/oauth/token":
		// The grant type is in the form body: read it, and put it back.
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		// The handler reads the whole body again: what was read, then the
		// rest, so its own size limit still applies.
		r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		if err != nil {
			return "", ""
		}
		form, _ := url.ParseQuery(string(body))
		client := formClient(r, form)
		switch form.Get("grant_type") {
		case "refresh_token":
			return FaultToken, client
		case "password", "authorization_code", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code":
			return FaultLogin, client // every grant that starts a session
		}
	}
	return "", ""
}

// injectFaults answers a request as a pending fault says, when one does.
func (s *Server) injectFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.faults.pending.Load() == 0 || strings.HasPrefix(r.URL.Path, "/admin/") {
			next.ServeHTTP(w, r)
			return
		}
		f, ok := s.faults.take(faultRoute(r))
		if ok && f.LoseResponse {
			s.loseResponse(w, r, next)
			return
		}
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if f.Delay > 0 {
			// net/http notices a client that hung up only once the request
			// body has been read: read it first (it is put back for the
			// handler), so a delay ends with its client.
			body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
			timer := time.NewTimer(f.Delay)
			defer timer.Stop()
			select {
			case <-timer.C:
			case <-r.Context().Done():
				return
			case <-s.faults.wakeChan():
				return
			}
		}
		if f.Status == 0 {
			next.ServeHTTP(w, r)
			return
		}
		s.writeError(w, r, &Error{Status: f.Status, Code: "fault_injected",
			Message: fmt.Sprintf("tokenlab answered %d because an admin asked for a fault on the %s route", f.Status, f.Route)})
	})
}

// faultRequest is the body of POST /admin/faults.
type faultRequest struct {
	Route        string `json:"route"`
	Status       int    `json:"status"`
	Times        int    `json:"times"`
	Delay        string `json:"delay"`
	Client       string `json:"client"`
	LoseResponse bool   `json:"lose_response"`
}

func (s *Server) handleAddFault(w http.ResponseWriter, r *http.Request) error {
	var req faultRequest
	if empty, err := decodeJSON(w, r, &req); err != nil {
		return err
	} else if empty {
		return badRequest(`send a fault such as {"route": "token", "status": 503, "times": 1}`)
	}
	f := Fault{Route: req.Route, Status: req.Status, Times: req.Times, Client: req.Client, LoseResponse: req.LoseResponse}
	if f.Times == 0 {
		f.Times = 1
	}
	if req.Delay != "" {
		d, err := ParseDuration(req.Delay)
		if err != nil {
			return badRequest("delay: %v", err)
		}
		f.Delay = d
	}
	if err := f.Validate(); err != nil {
		return badRequest("%v", err)
	}
	if err := s.faults.add(f); err != nil {
		return &Error{Status: http.StatusConflict, Code: "too_many_faults", Message: err.Error()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"faults": s.faults.list()})
	return nil
}

func (s *Server) handleClearFaults(w http.ResponseWriter, r *http.Request) error {
	s.faults.clear()
	writeJSON(w, http.StatusOK, map[string]any{"faults": []Fault{}})
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}
