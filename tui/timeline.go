package tui

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// entry is one line of the timeline: what happened, and why.
type entry struct {
	At     time.Time
	Source string // "client", "server" or "lab"
	What   string
	Why    string // the narration
	Tone   string // good, warn, bad or info
}

// clientEntry turns a client event into a timeline entry; ok is false for
// events not worth a line (outgoing requests: their answers are shown).
func clientEntry(e client.Event, storeName string) (entry, bool) {
	en := entry{At: e.At, Source: "client", Tone: "info"}
	switch e.Kind {
	case client.EventResponse:
		en.What = fmt.Sprintf("%s %s %d", e.Method, pathOf(e.URL), e.Status)
		en.Why, en.Tone = responseWhy(e)
	case client.EventLogin:
		en.What, en.Why, en.Tone = "login", "The server checked the password and issued an access token and a refresh token.", "good"
	case client.EventRefresh:
		en.What, en.Why, en.Tone = "refresh", "Refreshing because "+lowerFirst(e.Detail)+".", "warn"
	case client.EventRotation:
		en.What, en.Why, en.Tone = "rotation", "The server sent a new refresh token; the old one is spent and must never come back.", "info"
	case client.EventStoreWrite:
		en.What, en.Why = "saved", "The tokens were saved ("+storeName+") before being used."
	case client.EventLogout:
		en.What, en.Why = "logout", "Logged out: "+e.Detail+"."
	case client.EventSessionEnded:
		en.What, en.Why, en.Tone = "session ended", "The server refused the refresh token, so the local session is gone: log in again.", "bad"
	default:
		return en, false
	}
	return en, true
}

func responseWhy(e client.Event) (string, string) {
	path := pathOf(e.URL)
	switch {
	case strings.Contains(path, "well-known"):
		return "The client discovered the OAuth endpoints.", "info"
	case e.Status >= 200 && e.Status < 300 && isAuthPath(path):
		return "The token endpoint answered.", "good"
	case e.Status >= 200 && e.Status < 300:
		return "The access token was valid, so the API answered.", "good"
	case e.Status == 401 || e.Status == 403:
		if isAuthPath(path) {
			return "The server refused the token.", "bad"
		}
		return "The API rejected the access token (expired, revoked or forged).", "bad"
	}
	return "The server answered " + fmt.Sprint(e.Status) + ".", "warn"
}

func isAuthPath(p string) bool {
	return p == "/token" || p == "/login" || p == "/logout" || strings.HasPrefix(p, "/oauth/")
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
