package mockserver

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// The authorization endpoint (RFC 6749 §4.1 with PKCE, RFC 7636): GET
// shows a login page; POST (the page's form) checks the password and
// redirects to the client with a code, or with an error.

// authzRequest is an authorization request's parameters.
type authzRequest struct {
	ResponseType, ClientID, RedirectURI, State, Scope, Challenge, Method, Resource string
	Nonce                                                                          string // OIDC: echoed in the ID token
}

// hiddenField is a form field the page carries back unchanged.
type hiddenField struct{ Name, Value string }

// fields lists the request as the page's hidden fields, in a fixed order.
func (a authzRequest) fields() []hiddenField {
	return []hiddenField{{"response_type", a.ResponseType}, {"client_id", a.ClientID}, {"redirect_uri", a.RedirectURI},
		{"state", a.State}, {"scope", a.Scope}, {"code_challenge", a.Challenge}, {"code_challenge_method", a.Method},
		{"resource", a.Resource}, {"nonce", a.Nonce}}
}

// maxParam bounds each parameter of the authorization request.
const maxParam = 2048

// authzFrom reads the parameters; each may appear once (RFC 6749 §3.1).
func authzFrom(get func(string) []string) (authzRequest, error) {
	var a authzRequest
	for _, f := range []struct {
		name string
		dst  *string
	}{{"response_type", &a.ResponseType}, {"client_id", &a.ClientID}, {"redirect_uri", &a.RedirectURI}, {"state", &a.State},
		{"scope", &a.Scope}, {"code_challenge", &a.Challenge}, {"code_challenge_method", &a.Method}, {"resource", &a.Resource},
		{"nonce", &a.Nonce}} {
		v := get(f.name)
		switch {
		case len(v) > 1:
			return a, badRequest("parameter %s appears more than once", f.name)
		case len(v) == 1 && len(v[0]) > maxParam:
			return a, badRequest("parameter %s is longer than %d bytes", f.name, maxParam)
		case len(v) == 1:
			*f.dst = v[0]
		}
	}
	return a, nil
}

// authzClient checks what must hold before anything may be redirected:
// a known client and one of its redirect URIs (RFC 6749 §4.1.2.1).
func (s *Server) authzClient(ctx context.Context, a authzRequest) (auth.Client, error) {
	if a.ClientID == "" {
		return auth.Client{}, badRequest("client_id is missing, so there is no application to send you back to")
	}
	c, err := s.db.ClientByID(ctx, a.ClientID)
	if errors.Is(err, auth.ErrNotFound) {
		return c, &Error{Status: http.StatusBadRequest, Code: "invalid_client", Message: "no application is registered as " + quote(a.ClientID)}
	}
	if err != nil {
		return c, err
	}
	switch {
	case a.RedirectURI == "":
		return c, badRequest("redirect_uri is missing; tokenlab needs it on every authorization request")
	case !redirectAllowed(c, a.RedirectURI):
		return c, badRequest("the redirect URI %s is not registered for %s, so the login cannot send you there "+
			"(the public client %s allows http://127.0.0.1:PORT/... and http://[::1]:PORT/... on any port, not localhost)",
			quote(a.RedirectURI), a.ClientID, DefaultClientID)
	}
	return c, nil
}

// authzCheck checks the rest; its errors go back to the client by redirect.
// The policy's PKCE rule applies: with a preset whose PKCE is optional a
// public client may leave the challenge out.
func (s *Server) authzCheck(c auth.Client, a authzRequest) *Error {
	pkce := s.Policy().PKCE
	invalid := func(msg string) *Error {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_request", Message: msg}
	}
	switch {
	case a.ResponseType == "":
		return invalid("response_type is missing; use code")
	case a.ResponseType != "code":
		return &Error{Status: http.StatusBadRequest, Code: "unsupported_response_type", Message: "only response_type=code is supported"}
	case !slices.Contains(c.GrantTypes, grantAuthorizationCode):
		return &Error{Status: http.StatusBadRequest, Code: "unauthorized_client", Message: "this client may not use the authorization code flow"}
	case a.Challenge == "" && a.Method != "":
		return invalid("code_challenge_method without code_challenge")
	case a.Challenge == "" && c.Public() && (pkce == "" || pkce == PKCERequired || pkce == PKCEPlain):
		return invalid("code_challenge is missing; public clients must use PKCE with S256 (RFC 7636)")
	case a.Challenge != "" && isPlain(a, pkce) && !validVerifier(a.Challenge):
		return invalid("a plain code_challenge is the verifier itself: 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
	case a.Challenge != "" && a.Method != "S256" && !isPlain(a, pkce):
		return invalid("code_challenge_method must be S256; plain (the default when it is missing) is refused")
	case a.Challenge != "" && !isPlain(a, pkce) && (len(a.Challenge) != 43 || !validVerifier(a.Challenge)):
		return invalid("code_challenge must be the 43-character base64url SHA-256 of the verifier")
	}
	var ae *Error
	if err := errors.Join(checkScope(c, a.Scope), s.checkServedResource(a.Resource)); errors.As(err, &ae) {
		return ae
	}
	return nil
}

// isPlain: a plain challenge (method plain, or none: RFC 7636 §4.3's
// default) in a preset that allows it (PKCEPlain, the zitadel example OP).
func isPlain(a authzRequest, pkce string) bool {
	return pkce == PKCEPlain && (a.Method == "plain" || a.Method == "")
}

// storedChallenge is the challenge as a code keeps it: S256 always, so the
// token endpoint checks every verifier alike (a plain challenge is the
// verifier itself, so its S256 is what the verifier's S256 must be).
func storedChallenge(a authzRequest, pkce string) string {
	if a.Challenge != "" && isPlain(a, pkce) {
		return s256(a.Challenge)
	}
	return a.Challenge
}

// authorizePage is what the authorize template shows.
type authorizePage struct {
	ClientID, RedirectURI, Resource, Username string
	Scopes                                    []string
	Hidden                                    []hiddenField
	// Error is the problem shown above the form; ErrorCode names it for
	// programs (data-error), as on the error page.
	Error, ErrorCode string
}

func (s *Server) renderAuthorize(w http.ResponseWriter, a authzRequest, username string, problem *Error) {
	fields := a.fields()
	hidden := append(fields, hiddenField{"form_token", s.formToken(s.clock.Now(), fields)})
	s.renderForm(w, "authorize", &authorizePage{ClientID: a.ClientID, RedirectURI: a.RedirectURI,
		Resource: a.Resource, Username: username, Scopes: strings.Fields(a.Scope), Hidden: hidden}, problem)
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	a, err := authzFrom(func(k string) []string { return q[k] })
	if err != nil {
		return err
	}
	c, err := s.authzClient(r.Context(), a)
	if err != nil {
		return err
	}
	if ae := s.authzCheck(c, a); ae != nil {
		if !followsUnattended(c, a.RedirectURI) {
			shown := *ae // the error page says both what is wrong and why it stays here
			shown.Message += "; " + errUnattendedRedirect(a.RedirectURI).Message
			return &shown
		}
		s.redirectBack(w, a, url.Values{"error": {ae.Code}, "error_description": {ae.Message}})
		return nil
	}
	s.renderAuthorize(w, a, "", nil)
	return nil
}

func (s *Server) handleAuthorizeSubmit(w http.ResponseWriter, r *http.Request) error {
	form, err := readForm(w, r)
	if err != nil {
		return err
	}
	a, err := authzFrom(func(k string) []string {
		if v, ok := form[k]; ok {
			return []string{v}
		}
		return nil
	})
	if err != nil {
		return err
	}
	c, err := s.authzClient(r.Context(), a)
	if err != nil {
		return err
	}
	if !s.checkFormToken(form["form_token"], a.fields(), s.clock.Now()) {
		return badRequest("this login form is too old, was changed, or did not come from this server; start the login again from the application")
	}
	if ae := s.authzCheck(c, a); ae != nil {
		s.redirectBack(w, a, url.Values{"error": {ae.Code}, "error_description": {ae.Message}})
		return nil
	}
	switch form["action"] {
	case "deny":
		s.redirectBack(w, a, url.Values{"error": {"access_denied"}, "error_description": {"the user denied the request"}})
		return nil
	case "approve", "": // Enter in a text field submits without a button
	default:
		return badRequest("action must be approve or deny")
	}
	u, err := s.checkPassword(r.Context(), form["username"], form["password"], "on the authorize page")
	if err != nil {
		problem, err := loginProblem(err)
		if err != nil {
			return err
		}
		s.renderAuthorize(w, a, form["username"], problem)
		return nil
	}
	raw, err := s.issueCode(r.Context(), c, a, u)
	unavailable := func(why string) error {
		s.redirectBack(w, a, url.Values{"error": {"temporarily_unavailable"}, "error_description": {why}})
		return nil
	}
	switch {
	case errors.Is(err, auth.ErrTooMany):
		return unavailable("you have too many unredeemed codes of this client; redeem them or wait a minute")
	case errors.Is(err, auth.ErrCodesFull):
		return unavailable("the server has too many unredeemed codes; wait a minute")
	case err != nil:
		return err
	}
	s.redirectBack(w, a, url.Values{"code": {raw}})
	return nil
}

// issueCode stores a new code for the user and returns it.
func (s *Server) issueCode(ctx context.Context, c auth.Client, a authzRequest, u auth.User) (string, error) {
	now := s.clock.Now()
	raw := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	code := auth.AuthCode{Hash: hashToken(raw), ID: newID()[:16], ClientID: c.ID, RedirectURI: a.RedirectURI, Challenge: storedChallenge(a, s.Policy().PKCE),
		UserID: u.ID, Username: u.Username, Scope: a.Scope, Resource: a.Resource, Nonce: a.Nonce, IssuedAt: now, ExpiresAt: now.Add(s.cfg.CodeTTL)}
	return raw, s.db.CreateCode(ctx, code, codeLimits)
}

// redirectBack sends the browser to the (already validated) redirect URI
// with the answer, the state, and iss (RFC 9207).
func (s *Server) redirectBack(w http.ResponseWriter, a authzRequest, answer url.Values) {
	u, _ := url.Parse(a.RedirectURI) // validated by authzClient
	q := u.Query()
	for k, v := range answer {
		q[k] = v
	}
	if a.State != "" {
		q.Set("state", a.State)
	}
	if !s.Policy().OmitIss { // a preset of a provider that does not send it
		q.Set("iss", s.cfg.Issuer)
	}
	u.RawQuery = q.Encode()
	pageHeaders(w)
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}
