package tui

import (
	"errors"

	"github.com/tokenlab/tokenlab/client"
)

// sessionEnd is how a session ended: it decides what each card says, since
// an expired refresh token is not a revoked one, and an access token
// outlives its session unless the API checks a denylist.
type sessionEnd string

const (
	endNone    sessionEnd = ""
	endLogout  sessionEnd = "logout"
	endRevoked sessionEnd = "revoked" // reuse detection, or the server revoked the family
	endExpired sessionEnd = "expired" // the refresh token or the session ran out of time
)

// endOf reads why the server refused a refresh.
func endOf(err error) sessionEnd {
	var ae *client.APIError
	if errors.As(err, &ae) && (ae.Code == "token_expired" || ae.Code == "session_expired") {
		return endExpired
	}
	return endRevoked
}

// endSession marks the session over and says in the timeline what the
// API will do with the access token still in hand.
func (d *dashboardModel) endSession(how sessionEnd) {
	d.ended, d.kept = how, keptChecking // the client forgets an ended session: checkStore reads where it is now
	if fate := d.accessFate(); fate != "" {
		why := map[string]string{
			"refused: past its exp": "The access token is past its exp too: the API refuses it.",
			"refused (denylist)":    "The API checks a denylist of ended sessions: the access token is refused (denylist) from now on, though its exp is still ahead.",
			"still accepted until exp (stateless)": "The API checks signature, exp, nbf, iss, aud and typ, no database: still accepted until exp (stateless) at " +
				d.c.stamp(expiry(d.session.AccessToken)) + ", by whoever holds it.",
		}[fate]
		if why == "" {
			why = "This API's policy is unknown here: a stateless API accepts the access token until its exp, one with a denylist refuses it now."
		}
		d.afterServer(entry{At: d.c.now, Source: "lab", What: "old access token", Tone: "warn", Why: why})
	}
}
