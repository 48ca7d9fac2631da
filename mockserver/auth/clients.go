package auth

import "time"

// Client is a registered OAuth client. A public client has no secret.
type Client struct {
	ID           string
	SecretHash   []byte // bcrypt of the secret's SHA-256; nil for public clients
	GrantTypes   []string
	RedirectURIs []string // "loopback" stands for any loopback http URI on any port
	Scopes       []string // empty: any scope
	CreatedAt    time.Time
	// RegisteredAt is set for a client that registered itself (RFC 7591),
	// which the configuration's sync leaves alone; Name is its client_name.
	RegisteredAt time.Time
	Name         string
}

// Public reports whether the client has no secret.
func (c Client) Public() bool { return len(c.SecretHash) == 0 }

// AuthCode is what the store knows of an authorization code: its SHA-256.
type AuthCode struct {
	Hash        []byte
	ID          string // a random name for events, never the code
	ClientID    string
	RedirectURI string
	Challenge   string // the S256 code_challenge; empty when none was sent
	UserID      int64
	Username    string
	Scope       string
	Resource    string
	Nonce       string // OIDC: echoed in the ID token
	IssuedAt    time.Time
	ExpiresAt   time.Time
	UsedAt      time.Time
	FamilyID    string
}

// Starter mints the first refresh token of a new family for a login that
// a code completes; it runs inside the transaction.
type Starter func(userID int64, username, scope, resource string) (Family, RefreshToken, error)

// CodeRedeem asks to exchange an authorization code for a session.
type CodeRedeem struct {
	Hash []byte
	Now  time.Time
	// Check refuses a code that does not match the request (client,
	// redirect URI, verifier); a refused code stays unused.
	Check func(AuthCode) error
	Start Starter
}
