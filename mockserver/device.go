package mockserver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// Device authorization (RFC 8628): POST /oauth/device_authorization, the
// /device page where a person enters the user code, and the device_code
// grant the device polls.

// userCodeAlphabet has no vowels, so no word can be spelled by accident,
// and no letters that look alike in most fonts are paired with digits.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// deviceLimits bound the undecided device codes: per client and
// requesting address (the request is anonymous, so the address is the only
// party there is; all of loopback is one, see clientAddr), per client over
// all addresses, so a flood through one client leaves the table to the
// others, and on the whole server. Expired codes count for nothing.
var deviceLimits = auth.CodeLimits{Each: maxPendingDevicesPerAddress, Client: 2000, Total: 10000}

const maxPendingDevicesPerAddress = 50

// codeLimits bound the unredeemed authorization codes: per client and
// user, and on the whole server. Each code takes a password check, which
// the bounded hasher keeps to a few dozen a second, so the total is out of
// reach within a code's lifetime.
var codeLimits = auth.CodeLimits{Each: maxLiveCodesPerUser, Total: 20000}

const maxLiveCodesPerUser = 200

// newUserCode draws 8 letters uniformly from userCodeAlphabet.
func newUserCode() string {
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() < 8 {
		rand.Read(buf)
		if int(buf[0]) >= 256-256%len(userCodeAlphabet) { // reject to stay uniform
			continue
		}
		b.WriteByte(userCodeAlphabet[int(buf[0])%len(userCodeAlphabet)])
	}
	return b.String()
}

// formatUserCode shows a user code as XXXX-XXXX.
func formatUserCode(c string) string {
	if len(c) != 8 {
		return c
	}
	return c[:4] + "-" + c[4:]
}

// normalizeUserCode accepts a user code in any case, with or without the
// dash or a space (and surrounding spaces), and returns its 8 letters.
func normalizeUserCode(in string) (string, error) {
	in = strings.TrimSpace(in)
	if len(in) == 9 && (in[4] == '-' || in[4] == ' ') { // BCDF-GHJK, or typed as bcdf ghjk
		in = in[:4] + in[5:]
	}
	if len(in) != 8 {
		return "", errors.New("a code has 8 letters, like BCDF-GHJK")
	}
	out := []byte(strings.ToUpper(in))
	for _, c := range out {
		if strings.IndexByte(userCodeAlphabet, c) < 0 {
			return "", fmt.Errorf("a code has only the letters %s (no vowels, no digits)", userCodeAlphabet)
		}
	}
	return string(out), nil
}

type deviceAuthorizationResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

func (s *Server) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) error {
	form, err := readForm(w, r)
	if err != nil {
		return err
	}
	c, known, err := s.authenticateClient(r.Context(), r, form)
	if err != nil {
		return err
	}
	call := tokenCall{form: form, client: c, known: known}
	if err := requireClient(call, "device authorization"); err != nil {
		return err
	}
	if err := allowsGrant(c, grantDeviceCode); err != nil {
		return err
	}
	if err := s.checkRequestScope(call, form["scope"], form["resource"]); err != nil {
		return err
	}
	now := s.clock.Now()
	raw := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	d := auth.DeviceCode{Hash: hashToken(raw), ID: newID()[:16], ClientID: c.ID, Scope: form["scope"], Resource: form["resource"],
		Interval: s.cfg.DeviceInterval, IssuedAt: now, ExpiresAt: now.Add(s.cfg.DeviceTTL), Requester: addrOf(r.Context())}
	for try := 0; ; try++ {
		d.UserCode = newUserCode()
		err = s.db.CreateDeviceCode(r.Context(), d, deviceLimits)
		if !errors.Is(err, auth.ErrCodeTaken) || try == 5 {
			break
		}
	}
	tooMany := func(msg string) error {
		return &Error{Status: http.StatusTooManyRequests, Code: "slow_down", RetryAfter: s.cfg.DeviceInterval, Message: msg}
	}
	switch {
	case errors.Is(err, auth.ErrTooMany):
		return tooMany(fmt.Sprintf("this address already has %d device logins of client %s waiting for a person; finish them or let them expire (%s)",
			deviceLimits.Each, c.ID, FormatDuration(s.cfg.DeviceTTL)))
	case errors.Is(err, auth.ErrClientCodesFull):
		return tooMany(fmt.Sprintf("client %s already has %d device logins waiting for a person; retry when some have expired (%s)",
			c.ID, deviceLimits.Client, FormatDuration(s.cfg.DeviceTTL)))
	case errors.Is(err, auth.ErrCodesFull):
		return tooMany(fmt.Sprintf("the server already has %d device logins waiting for a person; retry when some have expired (%s)",
			deviceLimits.Total, FormatDuration(s.cfg.DeviceTTL)))
	case errors.Is(err, auth.ErrCodeTaken):
		// Every draw clashed: the code space is crowded, so the client
		// should come back rather than see the server fail.
		return &Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", RetryAfter: time.Second,
			Message: "every user code drawn was already in use; retry in a second"}
	case err != nil:
		return err
	}
	shown := formatUserCode(d.UserCode)
	verify := s.cfg.Issuer + "/device"
	writeJSON(w, http.StatusOK, deviceAuthorizationResponse{DeviceCode: raw, UserCode: shown, VerificationURI: verify,
		VerificationURIComplete: verify + "?user_code=" + shown, ExpiresIn: int64(s.cfg.DeviceTTL / time.Second),
		Interval: int64(s.cfg.DeviceInterval / time.Second)})
	return nil
}

// deviceGrant answers a device's poll (RFC 8628 §3.4, §3.5).
func (s *Server) deviceGrant(ctx context.Context, call tokenCall) (grant, error) {
	if err := requireClient(call, "device_code"); err != nil {
		return grant{}, err
	}
	if call.form["device_code"] == "" {
		return grant{}, badRequest("the device_code grant needs device_code")
	}
	now := s.clock.Now()
	var m minted
	d, fam, err := s.db.PollDevice(ctx, auth.DevicePoll{Hash: hashToken(call.form["device_code"]), ClientID: call.client.ID,
		Now: now, Start: s.starter(call.client.ID, now, &m)})
	pollError := func(code, msg string) (grant, error) {
		return grant{}, &Error{Status: http.StatusBadRequest, Code: code, Message: msg}
	}
	switch {
	case errors.Is(err, auth.ErrPending):
		return pollError("authorization_pending", "nobody has approved this device yet; poll again after the interval")
	case errors.Is(err, auth.ErrSlowDown):
		return pollError("slow_down", fmt.Sprintf("polled sooner than the interval; wait %s between polls from now on", d.Interval))
	case errors.Is(err, auth.ErrDenied):
		return pollError("access_denied", "the person at /device denied this login")
	case errors.Is(err, auth.ErrExpired):
		return pollError("expired_token", "the device code has expired; start the device login again")
	case errors.Is(err, auth.ErrReused):
		return grant{}, refused("device_code_used", "this device code was already redeemed for tokens")
	case errors.Is(err, auth.ErrNotFound):
		return grant{}, refused("invalid_device_code", "the device code is unknown to this server (or belongs to another client)")
	case err != nil:
		return grant{}, err
	}
	return s.sessionGrant(fam, m.raw, m.exp, now)
}

// devicePage is what the /device template shows.
type devicePage struct {
	UserCode, Username, ClientID, Done string
	Scopes                             []string
	// Error is the problem shown above the form; ErrorCode names it for
	// programs (data-error): login_failed, invalid_user_code, ...
	Error, ErrorCode string
}

func (s *Server) handleDevicePage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if len(q["user_code"]) > 1 {
		return badRequest("user_code appears more than once")
	}
	page := devicePage{UserCode: q.Get("user_code")}
	var problem *Error
	if page.UserCode != "" {
		var err error
		if _, problem, err = s.describeDevice(r.Context(), &page); err != nil {
			return err
		}
	}
	s.renderForm(w, "device", &page, problem)
	return nil
}

// describeDevice fills in the client and scopes of the page's user code,
// or returns the problem to show: a malformed or unknown code, or an
// address throttled for guessing. err is the server's own failure.
func (s *Server) describeDevice(ctx context.Context, page *devicePage) (code string, problem *Error, err error) {
	code, err = normalizeUserCode(page.UserCode)
	if err != nil {
		return "", &Error{Status: http.StatusBadRequest, Code: "invalid_user_code", Message: err.Error()}, nil
	}
	now, addr := s.clock.Now(), addrOf(ctx)
	refund, err := s.userCodeGuesses.reserve(addr, now)
	if errors.As(err, &problem) {
		return "", problem, nil
	}
	d, err := s.db.PendingDevice(ctx, code, now)
	if !errors.Is(err, auth.ErrNotFound) {
		refund() // a right code is not a guess, nor is the server's failure
	}
	switch {
	case errors.Is(err, auth.ErrNotFound):
		return "", &Error{Status: http.StatusBadRequest, Code: "invalid_user_code",
			Message: "no device login waits for the code " + formatUserCode(code) + "; it may have expired or been used"}, nil
	case err != nil:
		return "", nil, err
	}
	page.UserCode, page.ClientID, page.Scopes = formatUserCode(code), d.ClientID, strings.Fields(d.Scope)
	return code, nil, nil
}

func (s *Server) handleDeviceSubmit(w http.ResponseWriter, r *http.Request) error {
	form, err := readForm(w, r)
	if err != nil {
		return err
	}
	for name, v := range form {
		if len(v) > 256 {
			return badRequest("field %s is longer than 256 bytes", quote(name))
		}
	}
	action := form["action"]
	if action == "" {
		action = "approve" // Enter in a text field submits without a button
	}
	if action != "approve" && action != "deny" {
		return badRequest("action must be approve or deny")
	}
	page := devicePage{UserCode: form["user_code"], Username: form["username"]}
	code, problem, err := s.describeDevice(r.Context(), &page)
	if err != nil {
		return err
	}
	if problem != nil {
		s.renderForm(w, "device", &page, problem)
		return nil
	}
	u, err := s.checkPassword(r.Context(), form["username"], form["password"], "on the device page")
	if err != nil {
		problem, err = loginProblem(err)
		if err != nil {
			return err
		}
		s.renderForm(w, "device", &page, problem)
		return nil
	}
	d, err := s.db.DecideDevice(r.Context(), code, u.ID, u.Username, action == "approve", s.clock.Now())
	if errors.Is(err, auth.ErrNotFound) {
		s.renderForm(w, "device", &page, &Error{Status: http.StatusConflict, Code: "invalid_user_code",
			Message: "this code was decided or expired a moment ago"})
		return nil
	}
	if err != nil {
		return err
	}
	page.Done, page.ClientID, page.Username = d.Status, d.ClientID, u.Username
	s.renderForm(w, "device", &page, nil)
	return nil
}
