package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxAnswer bounds an answer read from the auth endpoints.
const maxAnswer = 1 << 20

// tokenAnswer is what a login or refresh answer carried.
type tokenAnswer struct {
	access    string
	refresh   string
	idToken   string // OpenID Connect's id_token, verified by start
	expiresIn int64  // seconds; 0 when not given
	nonce     string // the nonce the authorization request sent, which the ID token must echo
}

// answer is a read HTTP answer.
type answer struct {
	status  int
	header  http.Header
	body    []byte
	cookies []*http.Cookie
}

func (c *Client) url(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return c.server + path
}

// send performs one exchange with the auth endpoints and reads its answer.
func (c *Client) send(req *http.Request, why string) (answer, error) {
	c.emit(Event{Kind: EventRequest, Method: req.Method, URL: req.URL.Redacted(), Detail: why})
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, unreachable(c.server, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return answer{}, fmt.Errorf("the answer from %s broke off: %w", req.URL.Host, err)
	}
	if len(body) > maxAnswer {
		return answer{}, fmt.Errorf("the answer from %s %s is larger than %d bytes; is this the right server?", req.Method, req.URL.Path, maxAnswer)
	}
	c.emit(Event{Kind: EventResponse, Method: req.Method, URL: req.URL.Redacted(), Status: resp.StatusCode, Exchange: record(req, resp, body)})
	c.observeDate(resp.Header)
	return answer{status: resp.StatusCode, header: resp.Header, body: body, cookies: resp.Cookies()}, nil
}

// unreachable words a transport failure.
func unreachable(server string, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%s did not answer in time: %w", server, err)
	case untrusted(err):
		return fmt.Errorf("%w: %s (%v)", ErrUntrustedCertificate, server, certReason(err))
	}
	return fmt.Errorf("cannot reach %s (is the server running?): %w", server, err)
}

func (c *Client) jsonRequest(ctx context.Context, path string, body map[string]string) (*http.Request, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(path), rd)
	if err != nil {
		return nil, fmt.Errorf("bad endpoint %q: %w", path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

func (c *Client) formRequest(ctx context.Context, endpoint string, form url.Values) (*http.Request, error) {
	id, secret := c.oauthClient()
	post := c.profile.OAuth.ClientAuth == "post"
	if id != "" && (secret == "" || post) {
		form.Set("client_id", id)
		if secret != "" {
			form.Set("client_secret", secret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("bad endpoint %q: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if id != "" && secret != "" && !post {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) // RFC 6749 §2.3.1
	}
	return req, nil
}

func (c *Client) loginExchange(ctx context.Context, password string) (tokenAnswer, error) {
	var req *http.Request
	var err error
	p := c.profile
	if p.Dialect == DialectOAuth2 {
		ep, derr := c.endpoints(ctx)
		if derr != nil {
			return tokenAnswer{}, derr
		}
		form := c.grantForm("password")
		form.Set("username", c.Username())
		form.Set("password", password)
		req, err = c.formRequest(ctx, ep.Token, form)
	} else {
		req, err = c.jsonRequest(ctx, p.Paths.Login, map[string]string{p.Fields.Username: c.Username(), p.Fields.Password: password})
	}
	if err != nil {
		return tokenAnswer{}, err
	}
	a, err := c.send(req, "log in as "+c.Username())
	if err != nil {
		return tokenAnswer{}, err
	}
	if a.status/100 != 2 {
		return tokenAnswer{}, apiError(a)
	}
	return c.parseTokens(a)
}

// refreshExchange trades the session's refresh token for new tokens and
// keeps the result in the store before returning it. A refused token (401,
// 403, or OAuth's invalid_grant) ends the session: the error then wraps
// ErrLoginRequired.
func (c *Client) refreshExchange(ctx context.Context, s Session, why string) (Session, error) {
	req, err := c.refreshRequest(ctx, s.RefreshToken)
	if err != nil {
		return Session{}, err
	}
	c.emit(Event{Kind: EventRefresh, Detail: why})
	a, err := c.send(req, "refresh: "+why)
	if err != nil {
		return Session{}, err
	}
	if a.status/100 != 2 {
		ae := apiError(a)
		if sessionEnded(ae) {
			return Session{}, loginRequired{ae}
		}
		return Session{}, ae
	}
	ans, err := c.parseTokens(a)
	if err != nil {
		return Session{}, err
	}
	next := s
	next.AccessToken, next.AccessExpiry, next.AccessIssued = ans.access, c.expiry(ans), c.now()
	next.ServerClockOffset = c.ServerClockOffset()
	next.Refreshes++
	rotated := ans.refresh != "" && ans.refresh != s.RefreshToken
	if rotated {
		next.RefreshToken, next.RefreshExpiry = ans.refresh, jwtExpiry(ans.refresh)
	}
	// The rotated refresh token is saved before the new access token is
	// used: the old one is spent, and losing the new one ends the session.
	if err := c.saveRotated(ctx, next, "refresh: the new tokens are kept before use"); err != nil {
		return Session{}, err
	}
	if rotated {
		c.emit(Event{Kind: EventRotation, Detail: "the server rotated the refresh token; the old one is now spent"})
	}
	return next, nil
}

// refreshRequest builds the request that trades a refresh token, in the
// profile's dialect.
func (c *Client) refreshRequest(ctx context.Context, token string) (*http.Request, error) {
	p := c.profile
	switch {
	case p.Dialect == DialectOAuth2:
		ep, err := c.endpoints(ctx)
		if err != nil {
			return nil, err
		}
		return c.formRequest(ctx, ep.Token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}})
	case p.Transport == ViaCookie:
		req, err := c.jsonRequest(ctx, p.Paths.Refresh, nil)
		if req != nil {
			req.AddCookie(&http.Cookie{Name: p.Cookies.Refresh, Value: token})
		}
		return req, err
	}
	return c.jsonRequest(ctx, p.Paths.Refresh, map[string]string{p.Fields.RefreshRequest: token})
}

// Replay sends a refresh token to the refresh endpoint as an attacker who
// copied it would, without touching the session: nil when the server
// accepted it, an *APIError when it refused. Teaching tools use it to show
// reuse detection.
func (c *Client) Replay(ctx context.Context, refreshToken string) error {
	req, err := c.refreshRequest(ctx, refreshToken)
	if err != nil {
		return err
	}
	a, err := c.send(req, "replay a refresh token, as an attacker who copied it would")
	if err != nil {
		return err
	}
	if a.status/100 != 2 {
		return apiError(a)
	}
	return nil
}

// sessionEnded tells a refused refresh token (the session is over) from a
// request the server could not take (a wrong profile, a missing client
// secret), which must not cost the user the session.
func sessionEnded(e *APIError) bool {
	switch e.Code {
	case "invalid_request", "invalid_client", "unauthorized_client", "unsupported_grant_type", "invalid_scope":
		return false
	}
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return true
	case http.StatusBadRequest:
		return e.Code == "invalid_grant" // RFC 6749 §5.2: the refresh token is invalid, expired or revoked
	}
	return false
}

func (c *Client) logoutExchange(ctx context.Context, s Session) error {
	var req *http.Request
	var err error
	p := c.profile
	switch {
	case p.Dialect == DialectOAuth2:
		ep, derr := c.endpoints(ctx)
		if derr != nil {
			return derr
		}
		if ep.Revocation == "" {
			return errors.New("the server publishes no revocation_endpoint")
		}
		req, err = c.formRequest(ctx, ep.Revocation, url.Values{"token": {s.RefreshToken}, "token_type_hint": {"refresh_token"}})
	case p.Paths.Logout == "":
		return errors.New("the profile has no logout path")
	case p.Transport == ViaCookie:
		req, err = c.jsonRequest(ctx, p.Paths.Logout, nil)
		if req != nil {
			req.AddCookie(&http.Cookie{Name: p.Cookies.Refresh, Value: s.RefreshToken})
		}
	default:
		req, err = c.jsonRequest(ctx, p.Paths.Logout, map[string]string{p.Fields.RefreshRequest: s.RefreshToken})
	}
	if err != nil {
		return err
	}
	a, err := c.send(req, "log out: revoke the session on the server")
	if err != nil {
		return err
	}
	if a.status/100 != 2 {
		return apiError(a)
	}
	return nil
}

// parseTokens reads tokens from a 2xx answer: the body's fields, or the
// profile's cookies.
func (c *Client) parseTokens(a answer) (tokenAnswer, error) {
	p := c.profile
	accessF, refreshF, expF := p.Fields.AccessToken, p.Fields.RefreshToken, p.Fields.ExpiresIn
	if p.Dialect == DialectOAuth2 {
		accessF, refreshF, expF = "access_token", "refresh_token", "expires_in"
	}
	var ans tokenAnswer
	var body map[string]any
	if len(bytes.TrimSpace(a.body)) > 0 {
		if err := json.Unmarshal(a.body, &body); err != nil {
			if mayHoldTokens(a.body) { // a token answer in another format: never quoted
				return ans, fmt.Errorf("the server answered %d with something that is not a JSON object (%d bytes); is this the right server and profile?", a.status, len(a.body))
			}
			return ans, fmt.Errorf("the server answered %d with something that is not a JSON object: %s", a.status, snippet(a.body))
		}
	}
	ans.access, _ = body[accessF].(string)
	ans.refresh, _ = body[refreshF].(string)
	ans.idToken, _ = body["id_token"].(string)
	switch v := body[expF].(type) {
	case float64:
		ans.expiresIn = int64(v)
	case string: // some APIs send "900"
		fmt.Sscan(v, &ans.expiresIn)
	}
	for _, ck := range a.cookies {
		switch {
		case ans.access == "" && ck.Name == p.Cookies.Access && p.Cookies.Access != "":
			ans.access = ck.Value
		case ans.refresh == "" && ck.Name == p.Cookies.Refresh && p.Cookies.Refresh != "":
			ans.refresh = ck.Value
		}
	}
	if ans.access == "" {
		return ans, fmt.Errorf("the answer holds no access token (field %q); check the profile", accessF)
	}
	return ans, nil
}

// apiError reads the error of a non-2xx answer: the seed's {error,
// message}, OAuth's {error, error_description}, or a description of
// whatever came back.
func apiError(a answer) *APIError {
	e := &APIError{Status: a.status}
	var body struct {
		Error       any    `json:"error"`
		Message     string `json:"message"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(a.body, &body) == nil {
		switch v := body.Error.(type) {
		case string:
			e.Code = v
		case map[string]any: // {"error": {"code": ..., "message": ...}}
			e.Code, _ = v["code"].(string)
			e.Message, _ = v["message"].(string)
		}
		if body.Message != "" {
			e.Message = body.Message
		}
		if body.Description != "" {
			e.Message = body.Description
		}
	}
	if e.Code == "" && e.Message == "" {
		e.Message = http.StatusText(a.status)
		if s := snippet(a.body); s != "" {
			e.Message += " (" + s + ")"
		}
	}
	return e
}

// mayHoldTokens reports whether an answer looks like it carries a token
// (a JWT, or a field named like one), so it must not be quoted.
func mayHoldTokens(b []byte) bool {
	lower := bytes.ToLower(b)
	return bytes.Contains(lower, []byte("eyj")) || bytes.Contains(lower, []byte("token"))
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if r := []rune(s); len(r) > 80 {
		s = string(r[:80]) + "…"
	}
	return s
}

// jwtExpiry reads the exp claim of a JWT without verifying it (the client
// only reads its own tokens' exp, it does not trust them); zero when the
// token is not a JWT or has no exp.
func jwtExpiry(tok string) time.Time {
	d, err := Decode(tok)
	if err != nil {
		return time.Time{}
	}
	return d.Expiry()
}
