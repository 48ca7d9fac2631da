package tokenlabtest

import (
	"context"
	"crypto/rand"

	"github.com/tokenlab/tokenlab/mockserver"
)

// Client is a registered OAuth client, as the code under test is
// configured with it.
type Client struct {
	ID     string
	Secret string // empty for a public client
	// RedirectURIs are the allowed redirect URIs; "loopback" allows any
	// http://127.0.0.1:PORT/... (RFC 8252 §7.3).
	RedirectURIs []string
}

// ClientOption configures a client that Server.Client registers.
type ClientOption func(*mockserver.ClientConfig)

// ClientSecret gives the client this secret instead of a generated one.
func ClientSecret(secret string) ClientOption {
	return func(c *mockserver.ClientConfig) { c.Secret = secret }
}

// PublicClient registers a public client (no secret; PKCE protects its
// codes), as a native or single-page app is.
func PublicClient() ClientOption { return func(c *mockserver.ClientConfig) { c.Secret = "" } }

// RedirectURIs sets the client's redirect URIs (default: loopback).
func RedirectURIs(uris ...string) ClientOption {
	return func(c *mockserver.ClientConfig) { c.RedirectURIs = uris }
}

// GrantTypes limits the grants the client may use (default: all a client
// of its type may use: authorization_code, refresh_token, password, the
// device grant, and client_credentials for a confidential client).
func GrantTypes(grants ...string) ClientOption {
	return func(c *mockserver.ClientConfig) { c.GrantTypes = grants }
}

// Scopes limits the scopes the client may ask for (default: any).
func Scopes(scopes ...string) ClientOption {
	return func(c *mockserver.ClientConfig) { c.Scopes = scopes }
}

// Client registers a client, by default a confidential one with a
// generated secret, and returns what the code under test needs to know
// of it. Registering an id again replaces that client.
func (s *Server) Client(id string, opts ...ClientOption) Client {
	s.helper()
	cc := mockserver.ClientConfig{ID: id, Secret: rand.Text()}
	for _, o := range opts {
		o(&cc)
	}
	if err := s.e.Server.RegisterClient(context.Background(), cc); err != nil {
		s.fail("tokenlabtest: register client %q: %v", id, err)
	}
	c := Client{ID: cc.ID, Secret: cc.Secret, RedirectURIs: cc.RedirectURIs}
	if len(c.RedirectURIs) == 0 {
		c.RedirectURIs = []string{"loopback"}
	}
	return c
}

// User is a user who can log in.
type User struct {
	Name, Password string
}

// User creates a user with this password (or gives an existing user this
// password).
func (s *Server) User(name, password string) User {
	s.helper()
	if err := s.e.Server.AddUser(context.Background(), mockserver.Credentials{Username: name, Password: password}); err != nil {
		s.fail("tokenlabtest: add user: %v", err)
	}
	return User{Name: name, Password: password}
}
