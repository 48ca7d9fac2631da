package tui

// The inspector's debugger parts: checking a signature against the
// embedded server's key, editing a claim, and sending the forged token to
// the API to watch it be refused.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/client/jwtx"
	"github.com/tokenlab/tokenlab/mockserver"
	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// Secrets are the embedded server's HS256 secrets when the lab chose them
// and started the server with them (Configure): then the inspector can
// check an HS256 signature as the server does. Against another API the
// secret is that server's alone, and the inspector says so.
type Secrets struct{ Access, Refresh string }

// NewSecrets makes two random 32-byte secrets.
func NewSecrets() Secrets {
	r := func() string {
		b := make([]byte, 32)
		rand.Read(b) // never fails
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return Secrets{Access: r(), Refresh: r()}
}

// Configure gives the server these secrets when it signs with HS256.
func (s Secrets) Configure(cfg *mockserver.Config) {
	if cfg.Alg == "HS256" {
		cfg.AccessSecret, cfg.RefreshSecret = s.Access, s.Refresh
	}
}

// jwksMsg is the server's JWKS as fetched for the inspector.
type jwksMsg struct {
	jwks []byte
	err  error
}

func jwksCmd(ctx context.Context, server string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/.well-known/jwks.json", nil)
		if err != nil {
			return jwksMsg{err: err}
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			return jwksMsg{err: err}
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET /.well-known/jwks.json answered %d", resp.StatusCode)
		}
		return jwksMsg{jwks: body, err: err}
	}
}

// sigCheck is the outcome of checking a signature: ok, bad, or not
// checked (and why).
type sigCheck struct {
	mark string // ✓, ✗ or –
	text string
	tone string
}

// checkSignature checks tok's signature with what the lab has of the
// server's keys: the HS256 secret it started the embedded server with,
// or the server's published JWKS.
func (in inspectorModel) checkSignature(tok string, refresh bool) sigCheck {
	d, err := client.Decode(tok)
	if err != nil {
		return sigCheck{"✗", sentence(err), "bad"}
	}
	var verr error
	from := ""
	switch alg := d.Alg(); {
	case strings.HasPrefix(alg, "HS"):
		secret := in.c.opts.Secrets.Access
		if refresh {
			secret = in.c.opts.Secrets.Refresh
		}
		if secret == "" {
			return sigCheck{"–", alg + ": the secret is the server's; not checked. Only the server can check an HMAC.", "warn"}
		}
		from = "the embedded server's " + alg + " secret, which the lab gave it at start"
		verr = jwtx.VerifyHMAC(tok, secret)
	case in.jwksErr != "":
		return sigCheck{"–", "The server's JWKS could not be read (" + in.jwksErr + "): not checked.", "warn"}
	case in.jwks == nil:
		return sigCheck{"–", "Reading the server's JWKS…", "info"}
	default:
		from = "the public key the server publishes at /.well-known/jwks.json"
		verr = jwtx.VerifyJWKS(tok, in.jwks)
	}
	if verr != nil {
		return sigCheck{"✗", "Signature invalid: " + trimDot(verr.Error()) + ". Checked with " + from + ".", "bad"}
	}
	return sigCheck{"✓", "Signature valid: checked with " + from + ". Nobody without that key could have made it.", "good"}
}

// timeClaims are the claims holding NumericDates: an edit may move them
// by a duration (+1d, -16m).
var timeClaims = map[string]bool{"exp": true, "iat": true, "nbf": true}

// forge returns tok with one claim set to value (JSON when it parses as
// JSON, a string otherwise; for a time claim, ±duration moves it). The
// header and signature stay: the signature no longer matches.
func forge(tok, claim, value string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", errors.New("not a JWT: it does not have three parts")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("the payload is not base64url: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		return "", fmt.Errorf("the payload is not a JSON object: %w", err)
	}
	v, err := claimValue(claims[claim], claim, strings.TrimSpace(value))
	if err != nil {
		return "", err
	}
	claims[claim] = v
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, "."), nil
}

func claimValue(old any, claim, value string) (any, error) {
	if timeClaims[claim] && (strings.HasPrefix(value, "+") || strings.HasPrefix(value, "-")) {
		at, ok := old.(float64)
		if !ok {
			return nil, fmt.Errorf("%s has no time to move", claim)
		}
		d, err := mockserver.ParseDuration(value[1:])
		if err != nil {
			return nil, fmt.Errorf("%s: %w (try +1d or -16m)", claim, err)
		}
		if value[0] == '-' {
			d = -d
		}
		return math.Round(at + d.Seconds()), nil
	}
	return typedLike(old, claim, value)
}

// typedLike reads value as the JSON type the claim had, so an edit
// changes only what the signature protects: sub "1" edited to 2 stays the
// string "2" (as a number the server would refuse the token as malformed
// before it checked the signature). A new claim is JSON when it parses,
// a string otherwise.
func typedLike(old any, claim, value string) (any, error) {
	var parsed any
	isJSON := json.Unmarshal([]byte(value), &parsed) == nil
	switch old.(type) {
	case string:
		if s, ok := parsed.(string); ok && isJSON {
			return s, nil // typed with its quotes
		}
		return value, nil
	case float64:
		n, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("%s is a number: type a number (or, for a time, +1d or -16m)", claim)
		}
		return n, nil
	case bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return nil, fmt.Errorf("%s is true or false", claim)
		}
		return b, nil
	case []any:
		if _, ok := parsed.([]any); ok && isJSON {
			return parsed, nil
		}
		return []any{value}, nil // one more element would be typed as a JSON list
	case map[string]any:
		if _, ok := parsed.(map[string]any); !ok || !isJSON {
			return nil, fmt.Errorf("%s is a JSON object: type one, as {\"key\": \"value\"}", claim)
		}
		return parsed, nil
	}
	if isJSON {
		return parsed, nil
	}
	return value, nil
}

// forgedSentMsg is the API's answer to the forged token, and the server's
// account of it (its access_rejected event).
type forgedSentMsg struct {
	status      int
	description string // WWW-Authenticate's error_description
	code        string // its error
	reasons     []string
	err         error
}

var (
	challengeDescription = regexp.MustCompile(`error_description="((?:[^"\\]|\\.)*)"`)
	challengeError       = regexp.MustCompile(`error="([^"]*)"`)
)

// sendForgedCmd sends tok to the protected route with a plain HTTP client
// (the lab's client would refresh on a 401 and send a good token again),
// then reads the server's events after lastEvent for its reason.
func sendForgedCmd(ctx context.Context, admin *adminAPI, url, tok string, lastEvent int64) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return forgedSentMsg{err: err}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return forgedSentMsg{err: err}
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		msg := forgedSentMsg{status: resp.StatusCode}
		challenge := resp.Header.Get("WWW-Authenticate")
		if m := challengeDescription.FindStringSubmatch(challenge); m != nil {
			if s, err := strconv.Unquote(`"` + m[1] + `"`); err == nil {
				msg.description = jwtx.Printable(s)
			}
		}
		if m := challengeError.FindStringSubmatch(challenge); m != nil {
			msg.code = jwtx.Printable(m[1])
		}
		if admin != nil {
			evs, err := admin.events(ctx, lastEvent)
			if err == nil {
				for _, e := range evs {
					if e.Kind == auth.EventAccessRejected {
						msg.reasons = append(msg.reasons, e.Reason)
					}
				}
			}
		}
		return msg
	}
}

// result words the API's answer to the token sent; forged says whether
// it was edited.
func (m forgedSentMsg) result(path string, forged bool) status {
	if m.err != nil {
		return status{"bad", sentence(m.err)}
	}
	text := fmt.Sprintf("GET %s → %d", path, m.status)
	switch {
	case m.status < 300 && forged:
		return status{"bad", text + ": the API accepted the forged token!"}
	case m.status < 300:
		return status{"good", text + ": the API accepted the token as the server signed it. Press e to edit a claim and try again."}
	}
	if m.code != "" {
		text += " " + m.code
	}
	if m.description != "" {
		text += ": " + m.description
	}
	text = trimDot(text) + "."
	if len(m.reasons) > 0 {
		text += " Server log: access_rejected (" + m.reasons[len(m.reasons)-1] + ")."
	}
	return status{"good", text}
}
