package main

// Interop tests of tokenlab's client package against an OAuth server it
// did not write (oidc-provider from npm). interop_cli_test.go does the
// same through the binary, and with a real browser.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/internal/interoptest"
)

const interopTimeout = 90 * time.Second

// oidcProviderClient is tokenlab's client for oidc-provider's public
// client, asking for a JWT access token for the test API.
func oidcProviderClient(t *testing.T, p *interoptest.OIDCProvider, events func(client.Event)) *client.Client {
	t.Helper()
	profile := client.BuiltinProfiles()["oauth2"]
	profile.OAuth.ClientID = interoptest.PublicClientID
	profile.OAuth.Scope = "openid offline_access " + interoptest.APIScope
	profile.OAuth.Resources = []string{interoptest.APIResource}
	opts := []client.Option{}
	if events != nil {
		opts = append(opts, client.WithEvents(events))
	}
	c, err := client.New(p.Issuer, "", profile, client.NewMemoryStore(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signInInBackground is a client.Opener that plays the user's browser
// with a plain HTTP client: it signs in on the server's pages, and the
// redirect reaches the client's loopback listener. Its error arrives on
// the returned channel.
// It uses ctx, not the opener's, which ends as soon as the code arrives.
func signInInBackground(t *testing.T, ctx context.Context, p *interoptest.OIDCProvider) (client.Opener, <-chan error) {
	errs := make(chan error, 1)
	open := func(_ context.Context, authorizeURL string) error {
		b := interoptest.NewFormBrowser(t)
		go func() {
			page, err := p.SignIn(ctx, b, authorizeURL, interoptest.Username, interoptest.Password, true)
			if err == nil && !strings.Contains(page.Body, "tokenlab has the code") {
				err = &unexpectedPage{page}
			}
			errs <- err
		}()
		return nil
	}
	return open, errs
}

type unexpectedPage struct{ page interoptest.Page }

func (e *unexpectedPage) Error() string {
	return "the browser ended on " + e.page.URL.String() + ": " + e.page.Body
}

// TestInteropClientPKCEWithOIDCProvider: the client package logs in to
// oidc-provider with PKCE (its loopback listener receives the code),
// refreshes with rotation, and logs out, which revokes the refresh token
// on the server.
func TestInteropClientPKCEWithOIDCProvider(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), interopTimeout)
	defer cancel()
	p := interoptest.StartOIDCProvider(t, interoptest.OIDCProviderOptions{})
	c := oidcProviderClient(t, p, nil)

	open, browserErr := signInInBackground(t, ctx, p)
	sess, err := c.LoginPKCE(ctx, client.PKCEOptions{Open: open, Timeout: time.Minute})
	if err != nil {
		t.Fatalf("LoginPKCE: %v (browser: %v)", err, <-browserErr)
	}
	if err := <-browserErr; err != nil {
		t.Fatalf("browser: %v", err)
	}
	if sess.Username != interoptest.Username {
		t.Errorf("session user %q, want %q (the access token's sub)", sess.Username, interoptest.Username)
	}
	wantAPIToken(t, sess.AccessToken, p.Issuer)

	rotated, err := c.Refresh(ctx)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if rotated.RefreshToken == sess.RefreshToken || rotated.AccessToken == sess.AccessToken {
		t.Fatal("the refresh did not rotate the tokens")
	}
	if p.Introspect(t, ctx, sess.RefreshToken) {
		t.Error("the server still accepts the rotated-out refresh token")
	}
	if !p.Introspect(t, ctx, rotated.RefreshToken) {
		t.Fatal("the server does not know the new refresh token")
	}

	if err := c.Logout(ctx); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if p.Introspect(t, ctx, rotated.RefreshToken) {
		t.Error("after logout the server still accepts the refresh token: it was not revoked")
	}
}

// TestInteropClientDeviceWithOIDCProvider: the client package's device
// flow against oidc-provider; the test approves the code on the server's
// verification page.
func TestInteropClientDeviceWithOIDCProvider(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), interopTimeout)
	defer cancel()
	p := interoptest.StartOIDCProvider(t, interoptest.OIDCProviderOptions{})
	c := oidcProviderClient(t, p, nil)

	approved := make(chan error, 1)
	sess, err := c.LoginDevice(ctx, client.DeviceOptions{
		Show: func(_ context.Context, code client.DeviceCode) error {
			go func() {
				page, err := p.ApproveDevice(ctx, interoptest.NewFormBrowser(t), code.VerificationURIComplete, interoptest.Username, interoptest.Password, true)
				if err == nil && !strings.Contains(page.Body, "Sign-in Success") {
					err = &unexpectedPage{page}
				}
				approved <- err
			}()
			return nil
		},
		// Poll again as soon as the approval is in: no real waiting.
		Sleep: func(ctx context.Context, _ time.Duration) error {
			select {
			case err := <-approved:
				approved <- err
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})
	if err != nil {
		t.Fatalf("LoginDevice: %v", err)
	}
	if err := <-approved; err != nil {
		t.Fatalf("approval: %v", err)
	}
	wantAPIToken(t, sess.AccessToken, p.Issuer)
	if sess.RefreshToken == "" {
		t.Error("no refresh token from the device flow")
	}
}

// TestInteropClientCredentialsWithOIDCProvider: a confidential client's
// token, and a wrong secret refused with a sentence.
func TestInteropClientCredentialsWithOIDCProvider(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), interopTimeout)
	defer cancel()
	p := interoptest.StartOIDCProvider(t, interoptest.OIDCProviderOptions{})
	for _, tc := range []struct {
		name, secret string
		ok           bool
	}{{"right secret", p.MachineSecret(), true}, {"wrong secret", "wrong", false}} {
		t.Run(tc.name, func(t *testing.T) {
			profile := client.BuiltinProfiles()["oauth2"]
			profile.OAuth.ClientID = interoptest.MachineClientID
			profile.OAuth.ClientSecret = tc.secret
			profile.OAuth.Scope = interoptest.APIScope
			profile.OAuth.Resources = []string{interoptest.APIResource}
			c, err := client.New(p.Issuer, "", profile, client.NewMemoryStore())
			if err != nil {
				t.Fatal(err)
			}
			sess, err := c.LoginClientCredentials(ctx)
			if !tc.ok {
				if err == nil || !strings.Contains(err.Error(), "invalid_client") {
					t.Fatalf("wrong secret: %v, want an error naming invalid_client", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoginClientCredentials: %v", err)
			}
			if sess.Username != interoptest.MachineClientID || sess.RefreshToken != "" {
				t.Errorf("session user %q, refresh token %t; want %q and none", sess.Username, sess.RefreshToken != "", interoptest.MachineClientID)
			}
			wantAPIToken(t, sess.AccessToken, p.Issuer)
		})
	}
}

// wantAPIToken checks that the access token is oidc-provider's JWT for
// the test API (RFC 9068, audience = the resource indicator).
func wantAPIToken(t *testing.T, token, issuer string) {
	t.Helper()
	d, err := client.Decode(token)
	if err != nil {
		t.Fatalf("the access token is not a JWT (was --resource sent?): %v", err)
	}
	if d.Typ() != "at+jwt" || d.Claims["iss"] != issuer || d.Claims["aud"] != interoptest.APIResource {
		t.Errorf("access token typ %q iss %v aud %v; want at+jwt, %s, %s", d.Typ(), d.Claims["iss"], d.Claims["aud"], issuer, interoptest.APIResource)
	}
}
