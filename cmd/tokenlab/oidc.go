package main

// What the client commands do with OpenID Connect and Protected Resource
// Metadata (RFC 9728): login --server at an API finds its authorization
// server, request says what a refusing API's metadata names, and status
// and decode show the session's ID token.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/client"
)

// discoveryTimeout bounds the metadata requests made before a login.
const discoveryTimeout = 30 * time.Second

// metadataHTTPClient reads metadata documents; it follows no redirect.
func metadataHTTPClient() *http.Client {
	return &http.Client{Timeout: discoveryTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// loginAtResource handles `login --server URL` where URL is an API, not
// an authorization server: when URL publishes no authorization server
// metadata but Protected Resource Metadata, the login goes to the
// authorization server it names, asks for the API as its resource (RFC
// 8707) and its scopes (unless --scope is given), and lets the API
// receive the token. It says in one line on stderr what it found. When
// URL is an authorization server, or publishes neither, nothing changes
// (the login then says what discovery found).
func loginAtResource(ctx context.Context, std streams, opts *loginOptions, p client.Profile) error {
	if p.Dialect != client.DialectOAuth2 || p.OAuth.Issuer != "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	hc := metadataHTTPClient()
	api := strings.TrimRight(opts.server, "/")
	if client.IsAuthorizationServer(ctx, hc, api) {
		return nil
	}
	md, err := client.DiscoverResource(ctx, hc, api)
	if errors.Is(err, client.ErrResourceMetadataRefused) {
		return fmt.Errorf("login failed: %s publishes no authorization server metadata, and %w", api, err)
	}
	if err != nil {
		return nil // neither kind of server, or unreachable: discovery says so
	}
	origin, err := client.Origin(api)
	if err != nil {
		return usageError{err}
	}
	if asOrigin, _ := client.Origin(md.AuthorizationServer()); asOrigin != origin && sendsSecret(std, opts) {
		// The API names any server it likes: a password or client secret
		// the user gave for the server they named goes to no other origin.
		// (In a browser flow the user sees the server's page before typing.)
		return usagef("%s names %s as its authorization server; tokenlab sends a password or client secret only to a server you name: "+
			"tokenlab login --server %s --resource %s --api %s", client.Printable(api), client.Printable(md.AuthorizationServer()),
			client.Printable(md.AuthorizationServer()), client.Printable(md.Resource), origin)
	}
	opts.server = md.AuthorizationServer()
	if !slices.Contains(opts.resources, md.Resource) {
		opts.resources = append(opts.resources, md.Resource)
	}
	if !slices.Contains(opts.apis, origin) {
		opts.apis = append(opts.apis, origin)
	}
	if opts.scope == "" && len(md.ScopesSupported) > 0 {
		opts.scope = strings.Join(md.ScopesSupported, " ")
	}
	fmt.Fprintf(std.err, "Discovered: %s; logging in there with resource %s.\n", md.Summary(api), client.Printable(md.Resource))
	return nil
}

// sendsSecret says whether the login sends the server a secret the user
// gave: the password (the password flow, named or implied by a piped
// password) or a client secret (a flag, its file, TOKENLAB_CLIENT_SECRET).
func sendsSecret(std streams, opts *loginOptions) bool {
	envSecret, _ := std.env("TOKENLAB_CLIENT_SECRET")
	return opts.flow == client.FlowPassword || opts.flow == "" && opts.password.given() ||
		opts.client.file != "" || opts.client.inline != "" || envSecret != ""
}

// sayResourceMetadata is request's word on a 401 whose challenge names
// Protected Resource Metadata: one line on stderr saying which
// authorization server and resource the API wants, and the login that
// gets a token for it.
func sayResourceMetadata(ctx context.Context, std streams, resp *http.Response, target string, sess client.Session, resources []string) {
	if resp.StatusCode != http.StatusUnauthorized {
		return
	}
	mdURL := client.ResourceMetadataURL(resp.Header)
	if mdURL == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	md, err := client.FetchResourceMetadata(ctx, metadataHTTPClient(), mdURL, target, "WWW-Authenticate")
	if err != nil {
		fmt.Fprintf(std.err, "tokenlab: the API's 401 names Protected Resource Metadata, but %v\n", err)
		return
	}
	origin, _ := client.Origin(target)
	line := "tokenlab: discovered: " + md.Summary(origin)
	if strings.TrimRight(sess.Server, "/") == md.AuthorizationServer() && slices.Contains(resources, md.Resource) {
		line += "; this session is already for it, so the API refused the token itself"
	} else {
		line += "; this session is not for it: log in for it with tokenlab login --server " + origin
	}
	fmt.Fprintln(std.err, line)
}

// notLoggedInForResource is request's answer when there is no session:
// when the target is an API that publishes Protected Resource Metadata,
// it says which authorization server the API names and the login that
// gets a token for it.
func notLoggedInForResource(ctx context.Context, target string, err error) error {
	if !errors.Is(err, client.ErrLoginRequired) || !(strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://")) {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	md, derr := client.DiscoverResource(ctx, metadataHTTPClient(), target)
	if derr != nil {
		return err
	}
	origin, _ := client.Origin(target)
	return notLoggedIn{"not logged in; discovered: " + md.Summary(origin) + "; log in for it with tokenlab login --server " + origin}
}

// idTokenRow is status's line on the session's ID token.
func idTokenRow(st authStyles, sess client.Session, now time.Time) string {
	claims := sess.IDTokenClaims()
	switch {
	case claims == nil && sess.Grant == client.FlowClientCredentials:
		return st.faint.Render("none: a client-credentials session has no user")
	case claims == nil:
		return st.faint.Render("none (the server offers no openid scope, or sent no ID token)")
	}
	who := claims.String("sub")
	if name := claims.String("name"); name != "" {
		who += " (" + name + ")"
	}
	line := "sub " + client.Printable(who) + " from " + client.Printable(claims.String("iss")) + ", verified at login"
	if exp := claims.Expiry(); !exp.IsZero() {
		line += "; " + st.expiry(exp, now).Render(expiresPhrase(exp, now))
	}
	if sess.IDToken == "" {
		line += st.faint.Render(" (claims kept, not the token: it did not fit the keyring's 2 KB)")
	}
	return line
}

// sessionIDToken is the current session's ID token for decode
// --id-token; printed is true when only its kept claims exist and they
// were printed instead.
func sessionIDToken(ctx context.Context, std streams) (token string, printed bool, err error) {
	s, err := sessionOptions{}.open()
	if err != nil {
		return "", false, err
	}
	sess, err := s.c.Session(ctx)
	if err != nil {
		return "", false, s.fail(err)
	}
	switch {
	case sess.IDToken != "":
		return sess.IDToken, false, nil
	case len(sess.IDClaims) > 0:
		fmt.Fprintln(std.err, "The session keeps only the ID token's claims (the token did not fit the keyring's 2 KB beside the others); they were verified at login:")
		_, err := io.WriteString(std.out, printableLines(string(sess.IDClaims))+"\n")
		return "", true, err
	}
	return "", false, usagef("the session of %s at %s has no ID token (the server offers no openid scope, or sent none)", sess.Username, sess.Server)
}
