package auth

import "time"

// Family is one login session: the chain of refresh tokens rotated from a
// single login. Revoking it ends every token in it.
type Family struct {
	ID           string
	UserID       int64
	Username     string
	ClientID     string
	Scope        string
	Resource     string // RFC 8707 resource indicator: the access tokens' aud
	CreatedAt    time.Time
	ExpiresAt    time.Time // absolute session lifetime, however often it rotates
	RevokedAt    time.Time
	RevokeReason string
	// AccessRevokedAt: the access tokens issued up to this time were
	// revoked by a token-only revocation (the family lives on).
	AccessRevokedAt time.Time
}

// Revoked reports whether the family has been revoked.
func (f Family) Revoked() bool { return !f.RevokedAt.IsZero() }

// RefreshToken is what the store knows of an issued refresh token: its
// SHA-256, never the token.
type RefreshToken struct {
	JTI       string
	FamilyID  string
	Hash      []byte
	ParentJTI string
	IssuedAt  time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
	RevokedAt time.Time // revoked on its own (RFC 7009 in a preset that revokes the token only)
	Replays   int       // replays inside the grace window so far
}

// Token states reported by Sessions.
const (
	StateActive  = "active"
	StateUsed    = "used"
	StateRevoked = "revoked"
	StateExpired = "expired"
)

// State is the token's state at now within its family.
func (t RefreshToken) State(f Family, now time.Time) string {
	switch {
	case f.Revoked() || !t.RevokedAt.IsZero():
		return StateRevoked
	case !t.UsedAt.IsZero():
		return StateUsed
	case !now.Before(t.ExpiresAt) || !now.Before(f.ExpiresAt):
		return StateExpired
	}
	return StateActive
}

// RedeemRequest asks to exchange a refresh token for a successor.
//
// The token is identified by its jti alone: the caller has verified its
// signature, and only the server can sign. Its exact bytes do not matter
// (an ES256 token has many valid spellings), so a re-encoded copy of a
// spent token is a reuse like the original.
type RedeemRequest struct {
	JTI         string
	Now         time.Time
	Rotate      bool          // mark the token used and mint a successor
	DetectReuse bool          // a used token revokes its family
	Grace       time.Duration // a used token replayed this soon gets its successor again
	// The grace rule of a vendor preset: GraceForever keeps a spent token
	// good until it expires (Keycloak without Revoke Refresh Token, Entra);
	// GracePrevious lets only the immediately previous token back in (its
	// successor is unused: Auth0's overlap period); GraceReplays, when
	// above 0, is how many replays the grace allows (Keycloak's Refresh
	// Token Max Reuse).
	GraceForever  bool
	GracePrevious bool
	GraceReplays  int
	// ReuseCheckOnly is for a token whose signature is genuine but not in
	// canonical form (a high-s ECDSA twin): it is never redeemed
	// (ErrNotFound), but when the token is spent its replay is a reuse.
	ReuseCheckOnly bool
	// Mint signs a new successor; it runs inside the transaction and only
	// when a successor is due. Its record is stored before Redeem returns.
	Mint func(Family) (RefreshToken, error)
	// Resign signs the existing successor again (same jti, issued and
	// expiry times) for a replay inside the grace window, so replays
	// share one chain instead of starting one each.
	Resign func(Family, RefreshToken) error
}

// Redeemed is the outcome of a successful redeem.
type Redeemed struct {
	Family    Family
	Old       RefreshToken
	Successor RefreshToken // zero when rotation is off
	Grace     bool         // the successor was given (again) inside the reuse grace window
}
