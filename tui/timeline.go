package tui

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// entry is one line of the timeline: what happened, and why.
type entry struct {
	At     time.Time
	Source string // "client" (you), "attacker", "server" or "lab"
	What   string
	Why    string // the narration
	Tone   string // good, warn, bad or info
	// Exchange is the HTTP request and answer of a client's row (masked by
	// the client): the request view shows it.
	Exchange *client.Exchange
}

// clientEntry turns a client event into a timeline entry; ok is false for
// events not worth a line (outgoing requests: their answers are shown).
// The source is who acted: the client (you) or the attacker.
func clientEntry(e labEvent, n narration) (entry, bool) {
	en := entry{At: e.At, Source: e.actor, Tone: "info"}
	if en.Source == "" {
		en.Source = "client"
	}
	attacker := en.Source == "attacker"
	switch e.Kind {
	case client.EventResponse:
		en.What = fmt.Sprintf("%s %s %d", e.Method, pathOf(e.URL), e.Status)
		en.Exchange = e.Exchange
		en.Why, en.Tone = responseWhy(e.Event, attacker, n.profile)
	case client.EventLogin:
		en.What, en.Why, en.Tone = "login", "The server checked the password and issued an access token and a refresh token.", "good"
		if strings.Contains(e.Detail, "browser") || strings.Contains(e.Detail, "device") {
			en.Why = upperFirst(trimDot(e.Detail)) + ": the server issued an access token and a refresh token; the password went only to the server's own page."
		}
	case client.EventRefresh:
		en.What, en.Why, en.Tone = "refresh", refreshWhy(e, n.accessExpiry), "warn"
	case client.EventRotation:
		en.What, en.Why, en.Tone = "rotation", "The server sent a new refresh token; the old one is spent and must never come back.", "info"
	case client.EventStoreWrite:
		en.What, en.Why = "saved", "Saved in "+n.store+" before being used."
	case client.EventLogout:
		en.What, en.Why = "logout", "Logged out: "+e.Detail+"."
	case client.EventSessionEnded:
		en.What, en.Why, en.Tone = "session ended", "The server refused the refresh token, so the local session is gone: log in again.", "bad"
	default:
		if what, tone, ok := flowStep(e.Event); ok {
			why := e.Detail
			if e.Kind == client.EventDevicePoll { // the What names the answer already
				if _, rest, found := strings.Cut(why, ": "); found {
					why = rest
				}
			}
			en.What, en.Why, en.Tone = what, upperFirst(trimDot(why))+".", tone
			return en, true
		}
		return en, false
	}
	return en, true
}

// flowStep names a step of a PKCE or device login; the client's Detail
// is its why-line.
func flowStep(e client.Event) (what, tone string, ok bool) {
	switch e.Kind {
	case client.EventFlowChosen:
		return "flow chosen", "info", true
	case client.EventPKCEVerifier:
		return "PKCE verifier", "info", true
	case client.EventPKCEChallenge:
		return "S256 challenge", "info", true
	case client.EventAuthorizeURL:
		return "authorize URL", "info", true
	case client.EventBrowserWait:
		return "waiting for browser", "warn", true
	case client.EventCodeReceived:
		return "code received", "good", true
	case client.EventCodeExchange:
		return "code exchange", "info", true
	case client.EventBrowserRefused:
		return "browser refused", "bad", true
	case client.EventDeviceCode:
		return "device code", "info", true
	case client.EventDevicePoll:
		if strings.HasPrefix(e.Detail, "slow_down") {
			return "poll: slow_down", "warn", true
		}
		return "poll: pending", "info", true
	case client.EventDeviceApproved:
		return "device approved", "good", true
	case client.EventDeviceDenied:
		return "device denied", "bad", true
	case client.EventDeviceExpired:
		return "device code expired", "bad", true
	}
	return "", "", false
}

// apiRefused matches the client's reason for a reactive refresh.
var apiRefused = regexp.MustCompile(`^the API rejected the access token with (\d{3})`)

// narration is what the timeline's words need besides the event: where
// tokens are kept, the profile's routes, and the access token's exp.
type narration struct {
	store        string
	profile      client.Profile
	accessExpiry time.Time // of the access token in hand when the event came
}

// expiresWithin matches the client's reason for a proactive refresh,
// which names its skew (a raw duration), not the time left.
var expiresWithin = regexp.MustCompile(`^the access token expires within (\S+)$`)

// refreshWhy is the true cause of a refresh: the key you pressed, the
// API's 401, or the access token about to expire (said with the time it
// had left, and the margin rounded).
func refreshWhy(e labEvent, accessExpiry time.Time) string {
	if m := expiresWithin.FindStringSubmatch(e.Detail); m != nil {
		margin, err := time.ParseDuration(m[1])
		if err == nil && !accessExpiry.IsZero() && accessExpiry.After(e.At) {
			return "Refreshing because the access token expires in " + client.HumanDuration(accessExpiry.Sub(e.At).Round(time.Second)) +
				": the client renews it " + client.HumanDuration(margin.Round(time.Second)) + " before exp."
		}
	}
	if m := apiRefused.FindStringSubmatch(e.Detail); m != nil {
		return "Refreshing because the API answered " + m[1] + ": it refused the access token (expired, revoked or forged)."
	}
	if e.Detail == "a refresh was asked for" && e.why != "" {
		return "Refreshing because " + e.why + "."
	}
	return "Refreshing because " + lowerFirst(e.Detail) + "."
}

// serverEntry narrates an event of the embedded server.
func serverEntry(e auth.Event) entry {
	en := entry{At: e.At, Source: "server", What: e.Kind, Tone: "info"}
	switch e.Kind {
	case auth.EventLogin:
		en.Why = "A new family of refresh tokens started with this login."
	case auth.EventLoginFailed:
		en.Why, en.Tone = "Wrong username or password ("+e.Reason+").", "bad"
	case auth.EventRefresh:
		en.Why = "The refresh token was checked against the database and marked used."
		if e.Reason == "reuse_grace" {
			en.Why, en.Tone = "A spent token came back inside the grace window: a fresh pair, no revocation.", "warn"
		}
	case auth.EventRotation:
		en.Why = "A successor refresh token was issued in the same family."
	case auth.EventReuseDetected:
		en.Why, en.Tone = "A spent refresh token came back: the server cannot tell thief from owner.", "bad"
	case auth.EventFamilyRevoked:
		en.Why, en.Tone = "Every refresh token of this login is now dead ("+e.Reason+").", "bad"
	case auth.EventLogout:
		en.Why = "The session was ended at the client's request."
	case auth.EventAccessRejected:
		en.Why, en.Tone = "An access token was refused: "+e.Reason+".", "bad"
	case auth.EventRefreshRejected:
		en.Why, en.Tone = "A refresh was refused: "+e.Reason+".", "bad"
	case auth.EventClock:
		en.Why = "The server's clock moved: " + e.Reason + "."
	default:
		en.Why = e.Reason
	}
	return en
}

func pathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Path == "" {
		return raw
	}
	return u.Path
}

func lowerFirst(s string) string {
	if s == "" {
		return "it was asked for"
	}
	return strings.ToLower(s[:1]) + s[1:]
}
