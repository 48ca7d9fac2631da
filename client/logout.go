package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// LogoutReport says what a logout did on the server and here.
type LogoutReport struct {
	// Server is what happened on the server, in words: "the session is
	// revoked on the server", or, for a client-credentials session, what
	// became of its access token.
	Server string
	// Revoked says the server accepted a revocation.
	Revoked bool
	// Store is where the session was removed from ("OS keyring", …).
	Store string
}

// LogoutReport revokes the session on the server and removes it from the
// store, and says what happened. The local session is removed even when
// the server cannot be told. A session with a refresh token has it
// revoked (RFC 7009); a client-credentials session has none, so its
// access token is revoked where the server offers revocation, and the
// report says when it stays valid.
func (c *Client) LogoutReport(ctx context.Context) (LogoutReport, error) {
	// No refresh may save a session after it is deleted, here or in
	// another process.
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	unlock, err := c.lock(ctx)
	if err != nil {
		return LogoutReport{}, err
	}
	defer unlock()
	s, _, err := c.current(ctx)
	if err != nil {
		return LogoutReport{}, err
	}
	rep := LogoutReport{Store: storeName(c.store)}
	var serverErr error
	if s.RefreshToken == "" && c.profile.Dialect == DialectOAuth2 {
		rep.Server, rep.Revoked, serverErr = c.revokeAccessToken(ctx, s)
	} else {
		serverErr = c.logoutExchange(ctx, s)
		rep.Server, rep.Revoked = "the session is revoked on the server", serverErr == nil
	}
	if err := c.store.Delete(ctx, c.Key()); err != nil {
		return rep, fmt.Errorf("the session could not be removed from the store: %w", err)
	}
	c.forget()
	if serverErr != nil {
		c.emit(Event{Kind: EventLogout, Detail: "the session is removed from the " + rep.Store + ", but the server could not be told"})
		return rep, fmt.Errorf("the session was removed here, but the server could not revoke it: %w", serverErr)
	}
	c.emit(Event{Kind: EventLogout, Detail: rep.Server + " and removed from the " + rep.Store})
	return rep, nil
}

// revokeAccessToken is the server's part of logging out a session
// without a refresh token (client credentials, or a server that gave
// none): it revokes the access token (RFC 7009 §2.1, token_type_hint
// access_token) when the server offers revocation, and checks with
// introspection, when offered, that the server now calls it inactive (a
// server may accept the revocation of a JWT it cannot revoke). It says
// what happened in words.
func (c *Client) revokeAccessToken(ctx context.Context, s Session) (what string, revoked bool, err error) {
	d, err := c.endpoints(ctx)
	if err != nil {
		return "", false, err
	}
	until := "until it expires"
	if !s.AccessExpiry.IsZero() {
		until = "until " + s.AccessExpiry.UTC().Format(time.RFC3339)
	}
	if d.Revocation == "" {
		return "there is no refresh token, and the server offers no token revocation, so the access token stays valid " + until, false, nil
	}
	req, err := c.formRequest(ctx, d.Revocation, url.Values{"token": {s.AccessToken}, "token_type_hint": {"access_token"}})
	if err != nil {
		return "", false, err
	}
	a, err := c.send(req, "log out: revoke the access token (there is no refresh token)")
	if err != nil {
		return "", false, err
	}
	if a.status/100 != 2 {
		return "", false, apiError(a)
	}
	switch active, known := c.introspectActive(ctx, d, s.AccessToken); {
	case !known:
		return "the server accepted the revocation of the access token (there is no refresh token)", true, nil
	case active:
		return "the server accepted the revocation of the access token, but its introspection still calls it active: it stays valid " + until, true, nil
	}
	return "the access token is revoked on the server (its introspection now calls it inactive)", true, nil
}

// introspectActive asks the introspection endpoint (RFC 7662) whether a
// token is active; known is false when the server has no such endpoint
// or does not answer it for this client.
func (c *Client) introspectActive(ctx context.Context, d discovery, token string) (active, known bool) {
	if d.Introspection == "" {
		return false, false
	}
	req, err := c.formRequest(ctx, d.Introspection, url.Values{"token": {token}})
	if err != nil {
		return false, false
	}
	a, err := c.send(req, "log out: ask whether the revoked access token is still active")
	if err != nil || a.status != http.StatusOK {
		return false, false
	}
	var got struct {
		Active *bool `json:"active"`
	}
	if json.Unmarshal(a.body, &got) != nil || got.Active == nil {
		return false, false
	}
	return *got.Active, true
}
