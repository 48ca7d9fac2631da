package client

import (
	"context"
	"errors"
)

// LoginClientCredentials logs in as the OAuth client itself (RFC 6749
// §4.4): a confidential client's id and secret buy an access token whose
// subject is the client. There is no refresh token; when the access token
// expires, the refresh protocol runs the grant again. The session is
// named after the client id unless New was given a username.
func (c *Client) LoginClientCredentials(ctx context.Context) (Session, error) {
	id, secret := c.oauthClient()
	if id == "" || secret == "" {
		return Session{}, errors.New("the client-credentials flow needs a confidential client: a client id and its secret")
	}
	if err := c.CheckFlow(ctx, FlowClientCredentials); err != nil {
		return Session{}, err
	}
	ans, err := c.clientCredentialsExchange(ctx, "client credentials: log in as the client "+id)
	if err != nil {
		return Session{}, err
	}
	if c.Username() == "" {
		c.setUsername(id)
	}
	return c.start(ctx, ans, FlowClientCredentials, "logged in as the client itself (client credentials)")
}

func (c *Client) clientCredentialsExchange(ctx context.Context, why string) (tokenAnswer, error) {
	d, err := c.endpoints(ctx)
	if err != nil {
		return tokenAnswer{}, err
	}
	c.emit(Event{Kind: EventClientCredentials, URL: d.Token, Detail: "the client proves who it is with its secret; no user and no refresh token are involved"})
	ans, err := c.grantExchange(ctx, d.Token, c.grantForm(grantClientCredentials), why)
	if err != nil {
		return tokenAnswer{}, err
	}
	ans.refresh = "" // never kept: the grant is re-run instead
	return ans, nil
}

// rerunClientCredentials renews a client-credentials session, which has
// no refresh token, by running the grant again. A refused client
// (invalid_client: the secret changed or the client is gone) ends the
// session.
func (c *Client) rerunClientCredentials(ctx context.Context, s Session, why string) (Session, error) {
	c.emit(Event{Kind: EventRefresh, Detail: why + "; a client-credentials session has no refresh token, so the grant runs again"})
	ans, err := c.clientCredentialsExchange(ctx, "client credentials: run the grant again")
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && (ae.Code == "invalid_client" || ae.Code == "unauthorized_client" || ae.Code == "invalid_grant") {
			return Session{}, loginRequired{ae}
		}
		return Session{}, err
	}
	next := s
	next.AccessToken, next.AccessExpiry, next.AccessIssued = ans.access, c.expiry(ans), c.clock.Now()
	next.Refreshes++
	if err := c.saveRotated(ctx, next, "client credentials: the new access token is kept"); err != nil {
		return Session{}, err
	}
	return next, nil
}
