package mockserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// errInvalidCredentials is a failed password check; each dialect words it.
var errInvalidCredentials = refused("invalid_credentials", "wrong username or password")

// grant is what a login or refresh hands the client.
type grant struct {
	Access     string
	AccessExp  time.Time
	ExpiresIn  int64 // seconds, as the answer says it
	Refresh    string
	RefreshExp time.Time
	Scope      string
	Rotated    bool
	// family is the session (zero for client credentials), and nonce the
	// authorization request's: what an ID token says (oidc.go).
	family auth.Family
	nonce  string
}

// Limits on what a user may choose.
const (
	maxUsernameRunes = 64
	minPasswordBytes = 8
	maxPasswordBytes = 72 // bcrypt ignores the rest
)

func validateCredentials(username, password string) error {
	switch n := utf8.RuneCountInString(username); {
	case username == "":
		return badRequest("username is required")
	case !utf8.ValidString(username):
		return badRequest("username must be valid UTF-8")
	case n > maxUsernameRunes:
		return badRequest("username must be at most %d characters, not %d", maxUsernameRunes, n)
	case strings.IndexFunc(username, unicode.IsControl) >= 0 || strings.TrimSpace(username) != username:
		return badRequest("username must not contain control characters or surrounding spaces")
	case password == "":
		return badRequest("password is required")
	case len(password) > maxPasswordBytes:
		return badRequest("password must be at most %d bytes", maxPasswordBytes)
	}
	return nil
}

func (s *Server) register(ctx context.Context, username, password string) (auth.User, error) {
	if err := validateCredentials(username, password); err != nil {
		return auth.User{}, err
	}
	username, err := canonicalUsername(username)
	if err != nil {
		return auth.User{}, err
	}
	if len(password) < minPasswordBytes {
		return auth.User{}, badRequest("password must be at least %d bytes", minPasswordBytes)
	}
	hash, err := s.generateHash(ctx, password)
	if err != nil {
		return auth.User{}, err
	}
	now := s.clock.Now()
	u, err := s.db.CreateUser(ctx, username, hash, now)
	if errors.Is(err, auth.ErrUserExists) {
		return u, &Error{Status: http.StatusConflict, Code: "username_taken", Message: fmt.Sprintf("the username %q is taken", username)}
	}
	if err != nil {
		return u, err
	}
	return u, s.db.AddEvents(ctx, auth.Event{At: now, Kind: auth.EventRegister, Username: username})
}

// login checks a password and starts a new refresh-token family.
func (s *Server) login(ctx context.Context, username, password, clientID, scope, resource string) (grant, error) {
	u, err := s.checkPassword(ctx, username, password, "")
	if err != nil {
		return grant{}, err
	}
	now := s.clock.Now()
	fam, first, rt, err := s.newFamily(u.ID, u.Username, clientID, scope, resource, now)
	if err != nil {
		return grant{}, err
	}
	if err := s.db.StartSession(ctx, fam, first, now); err != nil {
		return grant{}, err
	}
	return s.sessionGrant(fam, rt, first.ExpiresAt, now)
}

// checkPassword returns the user when the password is right, and logs
// login_failed (with where, e.g. "on the authorize page") when not.
func (s *Server) checkPassword(ctx context.Context, username, password, where string) (auth.User, error) {
	if err := validateCredentials(username, password); err != nil {
		return auth.User{}, err
	}
	username = lookupUsername(username)
	u, err := s.db.UserByName(ctx, username)
	known := err == nil
	if err != nil && !errors.Is(err, auth.ErrNotFound) {
		return auth.User{}, err
	}
	hash := s.dummyHash
	if known {
		hash = u.PasswordHash
	}
	matched, err := s.compareHash(ctx, hash, password)
	if err != nil {
		return auth.User{}, err
	}
	if !matched || !known {
		// People type passwords into the user field: an unknown name is
		// not stored, only that it was unknown.
		ev := auth.Event{At: s.clock.Now(), Kind: auth.EventLoginFailed, Username: username, Reason: "wrong password"}
		if !known {
			ev.Username, ev.Reason = "", "unknown user"
		}
		if where != "" {
			ev.Reason += " " + where
		}
		s.event(ctx, ev)
		return auth.User{}, errInvalidCredentials
	}
	return u, nil
}

// newFamily makes a family and its first refresh token (not yet stored).
func (s *Server) newFamily(userID int64, username, clientID, scope, resource string, now time.Time) (auth.Family, auth.RefreshToken, string, error) {
	pol := s.Policy()
	fam := auth.Family{ID: newID(), UserID: userID, Username: username, ClientID: clientID, Scope: scope, Resource: resource,
		CreatedAt: now, ExpiresAt: now.Add(pol.SessionMax)}
	refreshExp := earliest(now.Add(s.refreshTTL(pol, clientID)), fam.ExpiresAt)
	rt, rc, err := s.tokens().signRefresh(userID, fam.ID, now, refreshExp)
	if err != nil {
		return fam, auth.RefreshToken{}, "", err
	}
	first := auth.RefreshToken{JTI: rc.ID, FamilyID: fam.ID, Hash: hashToken(rt), IssuedAt: now, ExpiresAt: refreshExp}
	return fam, first, rt, nil
}

// minted is the first refresh token a Starter made.
type minted struct {
	raw string
	exp time.Time
}

// starter adapts newFamily to the store's Starter, keeping the raw token.
func (s *Server) starter(clientID string, now time.Time, out *minted) auth.Starter {
	return func(userID int64, username, scope, resource string) (auth.Family, auth.RefreshToken, error) {
		fam, first, rt, err := s.newFamily(userID, username, clientID, scope, resource, now)
		*out = minted{rt, first.ExpiresAt}
		return fam, first, err
	}
}

// sessionGrant signs the access token of a freshly started family; its exp
// never passes the family's deadline.
func (s *Server) sessionGrant(fam auth.Family, refresh string, refreshExp, now time.Time) (grant, error) {
	s.wrote(1)
	at, ac, err := s.tokens().signAccess(strconv.FormatInt(fam.UserID, 10), fam.Username, s.refOf(fam), now, s.accessTTL(s.Policy(), fam.ClientID))
	if err != nil {
		return grant{}, err
	}
	return grant{Access: at, AccessExp: ac.ExpiresAt.Time, ExpiresIn: expiresIn(ac, now),
		Refresh: refresh, RefreshExp: refreshExp, Scope: fam.Scope, family: fam}, nil
}

func (s *Server) refOf(f auth.Family) familyRef {
	return familyRef{f.ID, f.ClientID, f.Scope, f.Resource, f.ExpiresAt, s.accessTokenClaims(f.Username)}
}

// refresh redeems a refresh token for a new access token and, with
// rotation, a new refresh token.
func (s *Server) refresh(ctx context.Context, raw string) (grant, error) {
	now, tk := s.clock.Now(), s.tokens() // one set of keys for the whole request
	c, err := tk.verifyRefresh(raw)
	if errors.Is(err, errHighS) {
		return grant{}, s.refuseHighS(ctx, c, now)
	}
	if err != nil {
		code := ErrorCode(err)
		if code == codeTokenExpired && c.FamilyID != "" {
			if fam, ferr := s.db.Family(ctx, c.FamilyID); ferr == nil && !now.Before(fam.ExpiresAt) {
				err, code = errSessionExpired(), codeSessionExpired
			}
		}
		ev := auth.Event{At: now, Kind: auth.EventRefreshRejected, Reason: code}
		if code == codeTokenExpired || code == codeSessionExpired { // the signature was verified
			ev.FamilyID, ev.JTI = c.FamilyID, c.ID
		}
		s.event(ctx, ev)
		return grant{}, err
	}
	var next string
	pol := s.Policy()
	res, err := s.db.Redeem(ctx, auth.RedeemRequest{
		JTI: c.ID, Now: now,
		Rotate: pol.Rotation, DetectReuse: pol.ReuseDetection, Grace: pol.ReuseGrace,
		// A preset's grace rule (presets.go): forever, the previous token only, a replay count.
		GraceForever: pol.GraceForever, GracePrevious: pol.GracePrevious, GraceReplays: pol.GraceReplays,
		Mint: func(f auth.Family) (auth.RefreshToken, error) {
			exp := earliest(now.Add(s.refreshTTL(pol, f.ClientID)), f.ExpiresAt)
			tok, rc, err := tk.signRefresh(f.UserID, f.ID, now, exp)
			next = tok
			return auth.RefreshToken{JTI: rc.ID, Hash: hashToken(tok), IssuedAt: now, ExpiresAt: exp}, err
		},
		Resign: func(f auth.Family, again auth.RefreshToken) error {
			tok, _, err := tk.signRefreshAs(again.JTI, f.UserID, f.ID, again.IssuedAt, again.ExpiresAt)
			next = tok
			return err
		},
	})
	if err != nil {
		te := redeemFailure(err)
		if te == nil {
			return grant{}, err
		}
		if te.Code == codeTokenReused && !pol.ReuseDetection {
			te = refused(codeTokenReused, "this refresh token was already used; reuse detection is off, so the session stays")
		}
		if te.Code != codeTokenReused || !pol.ReuseDetection { // with detection on, the store logged the reuse and the revocation
			s.event(ctx, auth.Event{At: now, Kind: auth.EventRefreshRejected, Username: res.Family.Username,
				FamilyID: c.FamilyID, JTI: c.ID, Reason: te.Code})
		}
		return grant{}, te
	}
	s.wrote(2) // refresh and rotation
	fam := res.Family
	at, ac, err := tk.signAccess(strconv.FormatInt(fam.UserID, 10), fam.Username, s.refOf(fam), now, s.accessTTL(pol, fam.ClientID))
	if err != nil {
		return grant{}, err
	}
	g := grant{Access: at, AccessExp: ac.ExpiresAt.Time, ExpiresIn: expiresIn(ac, now),
		Refresh: raw, RefreshExp: res.Old.ExpiresAt, Scope: fam.Scope, family: fam}
	if next != "" {
		g.Refresh, g.RefreshExp, g.Rotated = next, res.Successor.ExpiresAt, true
	}
	return g, nil
}

// refuseHighS answers a refresh token whose ECDSA signature is genuine but
// in its second (high-s) spelling: never redeemed, but a replay of a spent
// token in that form is a reuse like the original, and revokes the family.
func (s *Server) refuseHighS(ctx context.Context, c *RefreshClaims, now time.Time) error {
	pol := s.Policy()
	res, err := s.db.Redeem(ctx, auth.RedeemRequest{JTI: c.ID, Now: now, DetectReuse: pol.ReuseDetection, ReuseCheckOnly: true})
	te := redeemFailure(err)
	if err != nil && te == nil {
		return err
	}
	if te == nil || te.Code == codeInvalidToken {
		te = errHighS
	}
	if te.Code != codeTokenReused || !pol.ReuseDetection {
		s.event(ctx, auth.Event{At: now, Kind: auth.EventRefreshRejected, Username: res.Family.Username,
			FamilyID: c.FamilyID, JTI: c.ID, Reason: te.Code})
	}
	return te
}

func errSessionExpired() *Error {
	return refused(codeSessionExpired, "the session reached its maximum lifetime; log in again")
}

// redeemFailure words the store's refusals; nil for internal errors.
func redeemFailure(err error) *Error {
	switch {
	case errors.Is(err, auth.ErrNotFound):
		return refused(codeInvalidToken, "the refresh token is unknown to this server")
	case errors.Is(err, auth.ErrRevoked):
		return refused(codeTokenRevoked, "the session of this refresh token was revoked (logout or reuse detection); log in again")
	case errors.Is(err, auth.ErrTokenRevoked):
		return refused(codeTokenRevoked, "this refresh token was revoked (RFC 7009); log in again")
	case errors.Is(err, auth.ErrReused):
		return refused(codeTokenReused, "this refresh token was already used; replaying it revoked the whole session")
	case errors.Is(err, auth.ErrSessionExpired):
		return errSessionExpired()
	case errors.Is(err, auth.ErrExpired):
		return refused(codeTokenExpired, "the refresh token has expired; log in again")
	}
	return nil
}

// logout revokes the family of a refresh token. An expired token may still
// end its session; a forged or unknown one may not.
func (s *Server) logout(ctx context.Context, raw string) error {
	c, err := s.tokens().verifyRefresh(raw)
	if err != nil && ErrorCode(err) != codeTokenExpired {
		return err
	}
	_, fam, err := s.db.MatchRefreshToken(ctx, c.ID, hashToken(raw))
	if errors.Is(err, auth.ErrNotFound) {
		return refused(codeInvalidToken, "the refresh token is unknown to this server")
	}
	if err != nil {
		return err
	}
	_, err = s.db.RevokeFamily(ctx, fam.ID, auth.EventLogout, "logout", s.clock.Now())
	return err
}

// authenticate checks the access token of a request to a protected route.
func (s *Server) authenticate(r *http.Request) (*AccessClaims, error) {
	raw, ok := accessToken(r)
	if !ok {
		return nil, &Error{Status: http.StatusUnauthorized, Code: "missing_token", Bearer: true,
			Message: "send an access token as Authorization: Bearer <token> or the AccessToken cookie"}
	}
	c, err := s.tokens().verifyAccess(raw)
	if pol := s.Policy(); err == nil && pol.checksAccess() && c.SessionID != "" {
		fam, ferr := s.db.Family(r.Context(), c.SessionID)
		if ferr != nil && !errors.Is(ferr, auth.ErrNotFound) {
			return nil, ferr
		}
		if ferr == nil && pol.accessRevoked(fam, issuedAt(c)) {
			err = refused(codeTokenRevoked, "the session of this access token was revoked ("+revokeReason(fam)+")")
		}
	}
	if err != nil {
		code := ErrorCode(err)
		ev := auth.Event{At: s.clock.Now(), Kind: auth.EventAccessRejected, Reason: code}
		if code == codeTokenExpired || code == codeTokenRevoked {
			// Only a verified signature makes the claims worth logging.
			ev.Username, ev.FamilyID, ev.JTI = c.Username, c.SessionID, c.ID
		}
		s.event(r.Context(), ev)
		return nil, withBearer(err)
	}
	return c, nil
}

// accessToken returns the request's access token: the Bearer header, or
// else the AccessToken cookie.
func accessToken(r *http.Request) (string, bool) {
	if raw, ok := bearer(r); ok {
		return raw, true
	}
	if ck, err := r.Cookie(cookieAccess); err == nil && ck.Value != "" {
		return ck.Value, true
	}
	return "", false
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	return tok, ok && strings.EqualFold(scheme, "Bearer") && tok != ""
}

// event logs an event; a failure to log must not fail the request.
// Rejections a client can repeat at will are coalesced: identical ones
// within a second share one row with a count. It is written even when the
// request has ended: a client that hangs up must not erase what it did.
func (s *Server) event(ctx context.Context, e auth.Event) {
	ctx = context.WithoutCancel(ctx)
	var err error
	if isRejection(e.Kind) {
		err = s.db.AddRejection(ctx, e, coalesceWindow)
	} else {
		err = s.db.AddEvents(ctx, e)
	}
	if err != nil {
		s.log.Error("could not record event", "kind", e.Kind, "err", err)
		return
	}
	s.wrote(1)
}

// expiresIn is the answer's expires_in: the token's real lifetime, which
// the session's deadline may have shortened.
func expiresIn(c AccessClaims, now time.Time) int64 {
	return int64(c.ExpiresAt.Sub(now).Seconds())
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
