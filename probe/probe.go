// Package probe measures an OAuth 2.0 provider's refresh-token rules from
// outside, in real time: whether it rotates refresh tokens, how long a
// spent one stays good, what a reuse revokes and how it is refused, what
// five concurrent refreshes do, what revocation revokes, how it treats
// PKCE, and whether its authorization responses carry iss (RFC 9207).
//
// It works against any provider: it imports the client's helpers but never
// the mock server. Every wait is bounded by Config.MaxWait per trait.
package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Flows the probe logs in with (the names of `tokenlab login --flow`).
const (
	FlowPassword          = "password"
	FlowPKCE              = "pkce"
	FlowDevice            = "device"
	FlowClientCredentials = "client-credentials"
)

// DefaultMaxWait bounds each trait's waiting.
const DefaultMaxWait = 15 * time.Second

// DefaultScope is the scope of every login: offline_access asks OpenID
// providers for a refresh token.
const DefaultScope = "openid offline_access"

// Config says which provider to probe and how to log in to it.
type Config struct {
	Issuer       string // the provider's issuer URL (discovery base)
	ClientID     string
	ClientSecret string
	ClientAuth   string // "basic" (default with a secret) or "post"
	Flow         string // password, pkce, device or client-credentials
	Username     string
	Password     string
	Scope        string   // DefaultScope when empty
	Resources    []string // RFC 8707 resource indicators sent with every grant
	Protected    string   // a URL that answers 2xx to a good access token
	MaxWait      time.Duration

	// Authorize completes one login at the provider's authorization
	// endpoint (a login helper, a person, a test's browser). It gets the
	// authorize URL; the probe waits for the redirect to its loopback.
	// Without it, PKCE and iss are not measured unless Flow is pkce.
	Authorize func(ctx context.Context, authorizeURL string) error
	// Device shows a device login's verification URL (with the code when
	// the provider gives verification_uri_complete) and user code.
	Device func(ctx context.Context, verificationURL, userCode string) error
	// LoginTimeout bounds one login through Authorize or Device (5 min
	// when 0).
	LoginTimeout time.Duration

	// Progress, when set, hears what the probe is doing, in a few words.
	Progress func(string)
	// HTTP is the client for every request; a 10 s timeout when nil.
	HTTP *http.Client
}

// Validate says what is missing or wrong, before anything is sent.
func (c Config) Validate() error {
	switch {
	case c.Issuer == "":
		return errors.New("the provider's URL is missing")
	case c.MaxWait < 0:
		return errors.New("--max-wait must not be negative")
	}
	switch c.Flow {
	case FlowPassword:
		if c.Username == "" || c.Password == "" {
			return errors.New("the password flow needs --username and a password (--password-file)")
		}
	case FlowPKCE:
		if c.Authorize == nil {
			return errors.New("the pkce flow needs a way to complete the login (a login helper or a person)")
		}
	case FlowDevice:
		if c.Device == nil {
			return errors.New("the device flow needs a way to approve the login (a login helper or a person)")
		}
	case FlowClientCredentials:
	default:
		return fmt.Errorf("unknown flow %q: use password, pkce, device or client-credentials", c.Flow)
	}
	if c.Flow != FlowClientCredentials && c.ClientID == "" {
		return errors.New("a client id is needed (--client-id)")
	}
	return nil
}

// Report is a probe's result. Its JSON is the contract of `tokenlab probe
// --json`: traits under "traits" with exactly the issue's keys.
type Report struct {
	Target        string            `json:"target"`
	Flow          string            `json:"flow"`
	MaxWaitS      float64           `json:"max_wait_s"`
	Traits        Traits            `json:"traits"`
	ClosestPreset Match             `json:"closest_preset"`
	Evidence      map[string][]Step `json:"evidence"`
	Logins        int               `json:"logins"`
	ElapsedS      float64           `json:"elapsed_s"`
	// AccessCheck is how access tokens were checked: introspection,
	// userinfo, protected URL, or empty when none could be used.
	AccessCheck string `json:"access_check"`
}

// Traits are the measured rules. A nil field is JSON null: the trait could
// not be measured (the evidence says why).
type Traits struct {
	RotatesRefreshToken           *bool       `json:"rotates_refresh_token"`
	OldRefreshAfterRotation       *string     `json:"old_refresh_after_rotation"`
	GraceWindowS                  *Grace      `json:"grace_window_s"`
	ReuseOutsideGrace             *string     `json:"reuse_outside_grace"`
	ReuseRevokesAccessTokens      *bool       `json:"reuse_revokes_access_tokens"`
	ReuseError                    *ReuseError `json:"reuse_error"`
	ConcurrentRefresh             *string     `json:"concurrent_refresh"`
	Revocation                    *string     `json:"revocation"`
	RevocationRevokesAccessTokens *bool       `json:"revocation_revokes_access_tokens"`
	PKCE                          *string     `json:"pkce"`
	IssInAuthorizationResponse    *bool       `json:"iss_in_authorization_response"`
	IDToken                       *bool       `json:"id_token"`
}

// TraitKeys are the JSON keys of Traits, in the order.
var TraitKeys = []string{
	"rotates_refresh_token", "old_refresh_after_rotation", "grace_window_s", "reuse_outside_grace",
	"reuse_revokes_access_tokens", "reuse_error", "concurrent_refresh", "revocation",
	"revocation_revokes_access_tokens", "pkce", "iss_in_authorization_response", "id_token",
}

// Values of the string traits.
const (
	OldRefused         = "refused"
	OldAcceptedWithin  = "accepted_within_grace"
	OldAccepted        = "accepted"
	ReuseRevokesFamily = "revokes_family"
	ReuseRefusesToken  = "refuses_token"
	ReuseAccepted      = "accepted"
	ConcurrentOneWins  = "one_wins"
	ConcurrentAllWin   = "all_win"
	ConcurrentFamily   = "family_revoked"
	RevocationNone     = "none"
	RevocationToken    = "token"
	RevocationFamily   = "family"
	PKCERequiredS256   = "required_s256"
	PKCES256OrPlain    = "s256_or_plain"
	PKCEOptional       = "optional"
	PKCEUnsupported    = "unsupported"
)

// Grace is grace_window_s: seconds (0 when there is none), or Beyond: the
// window lasted past the probe's wait, written ">N".
type Grace struct {
	Seconds float64
	Beyond  bool // Seconds is then the wait it outlasted
}

// MarshalJSON writes a number, or the string ">N".
func (g Grace) MarshalJSON() ([]byte, error) {
	if g.Beyond {
		return []byte(strconv.Quote(">" + strconv.FormatFloat(g.Seconds, 'f', -1, 64))), nil
	}
	return []byte(strconv.FormatFloat(g.Seconds, 'f', -1, 64)), nil
}

// UnmarshalJSON reads either form.
func (g *Grace) UnmarshalJSON(b []byte) error {
	var s string
	if err := jsonUnmarshal(b, &s); err == nil {
		if len(s) < 2 || s[0] != '>' {
			return fmt.Errorf("grace_window_s %q is neither a number nor \">N\"", s)
		}
		n, err := strconv.ParseFloat(s[1:], 64)
		*g = Grace{Seconds: n, Beyond: true}
		return err
	}
	var n float64
	if err := jsonUnmarshal(b, &n); err != nil {
		return err
	}
	*g = Grace{Seconds: n}
	return nil
}

func (g Grace) String() string {
	if g.Beyond {
		return ">" + strconv.FormatFloat(g.Seconds, 'f', -1, 64) + " s"
	}
	return strconv.FormatFloat(g.Seconds, 'f', -1, 64) + " s"
}

// ReuseError is how the provider refused a spent refresh token.
type ReuseError struct {
	Status int    `json:"status"`
	Error  string `json:"error"`
}

// Step is one request and its answer, as evidence for a trait. It names
// tokens by label (R1, R2 … in the order the probe got them), never by value.
type Step struct {
	AtS     float64 `json:"at_s"` // seconds since the probe began
	Request string  `json:"request"`
	Status  int     `json:"status,omitempty"`
	Error   string  `json:"error,omitempty"`
	Outcome string  `json:"outcome,omitempty"` // what the probe read from it
}

func ptr[T any](v T) *T { return &v }

func secondsToDuration(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
