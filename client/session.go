package client

import (
	"encoding/json"
	"fmt"
	"time"
)

// Session is what a login leaves behind: the tokens and when they expire.
// It is stored as one small JSON value (under 2 KB, below Windows
// Credential Manager's 2,560-byte limit).
type Session struct {
	Server        string    `json:"server"`
	Profile       string    `json:"profile"`
	Username      string    `json:"user"`
	AccessToken   string    `json:"at"`
	AccessExpiry  time.Time `json:"atExp,omitzero"`
	RefreshToken  string    `json:"rt"`
	RefreshExpiry time.Time `json:"rtExp,omitzero"`
	// Refreshes counts the refreshes since login, for status and reports.
	Refreshes int `json:"n,omitempty"`
	// AccessIssued is when the access token arrived, by the server's
	// clock as the client knows it: with AccessExpiry it gives the token's lifetime, which scales
	// the proactive refresh skew down for short-lived tokens.
	AccessIssued time.Time `json:"atIat,omitzero"`
	// Grant is the OAuth grant the session logged in with (FlowPKCE,
	// FlowDevice, FlowClientCredentials; empty for a password login).
	// A client-credentials session has no refresh token: renewing it
	// re-runs the grant.
	Grant string `json:"grant,omitempty"`
	// IDToken is the login's OpenID Connect ID token, verified at login
	// (signature, iss, aud, nonce, exp). When it does not fit the 2 KB
	// beside the other tokens, IDClaims keeps its main claims instead.
	IDToken  string          `json:"idt,omitempty"`
	IDClaims json.RawMessage `json:"idc,omitempty"`
	// ClientID and ClientSecret are the OAuth client the session belongs
	// to. A confidential client's secret is kept here, in the same store
	// as the tokens, so refresh and logout work later without it being
	// given again.
	ClientID     string `json:"cid,omitempty"`
	ClientSecret string `json:"cs,omitempty"`
	// ServerClockOffset is the server's clock minus the client's, as the
	// latest answer's Date header said: the times above are the server's,
	// and the next process judges them by it before it hears from the
	// server again.
	ServerClockOffset time.Duration `json:"skew,omitempty"`
}

// MaxSessionBytes bounds a stored session.
const MaxSessionBytes = 2048

// Key names a session in a store: one per profile, server and user.
func Key(profile, server, username string) string {
	return profile + "|" + server + "|" + username
}

// Key returns the session's store key.
func (s Session) Key() string { return Key(s.Profile, s.Server, s.Username) }

func (s Session) marshal() ([]byte, error) {
	data, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSessionBytes {
		return nil, fmt.Errorf("the session is %d bytes, more than the %d a keyring entry may hold", len(data), MaxSessionBytes)
	}
	return data, nil
}

func unmarshalSession(data []byte) (Session, error) {
	var s Session
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("the stored session is unreadable: %w", err)
	}
	return s, nil
}
