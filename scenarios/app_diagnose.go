package scenarios

import (
	"fmt"
	"slices"
)

// diagnose names the app's bug behind a failed app step, from what the
// server saw of the app's client: a sentence for the developer, after the
// expected/got pairs.
func (a *appRun) diagnose(st Step, o Observed) []string {
	if a == nil || (st.Kind != KindHTTP && st.Kind != KindBrowse) {
		return nil
	}
	refreshes, reuses := count(o.Events, "refresh"), count(o.Events, "reuse_detected")
	rejected := count(o.Events, "refresh_rejected")
	calls := refreshes + reuses + rejected // every refresh the token endpoint heard
	n := st.App.HTTP.Concurrent
	expect := st.Expect
	switch {
	case n > 1 && calls > 1:
		why := fmt.Sprintf("the app refreshed %d times for %d concurrent requests", calls, n)
		if reuses > 0 {
			why += fmt.Sprintf("; the server saw the same refresh token %d times after rotation and revoked the family", calls-1)
		}
		return []string{why + ": concurrent requests must share one refresh"}
	case reuses > 0 && a.restarted:
		return []string{"after its restart the app sent a refresh token it had already used: it kept the rotated refresh token in memory only, so the restart replayed a spent one and the server revoked the family (golang/oauth2#84)"}
	case reuses > 0 && !a.lost:
		return []string{"the server saw a spent refresh token come back and revoked the family"}
	case a.lost && o.Status >= 500:
		return []string{fmt.Sprintf("the answer to the app's refresh was lost and the app answered %d: it gave up instead of retrying the refresh once with the same refresh token", o.Status)}
	case rejected > 0 && expect != nil && slices.Contains(expect.NoEvents, "refresh_rejected"):
		return []string{fmt.Sprintf("the app called the token endpoint again with a refresh token the server had refused (%s): it kept the dead session instead of sending the user to log in", plural(rejected, "time"))}
	case o.Status == 401 && calls == 0 && wantsStatus(expect, 200):
		return []string{"the app never refreshed: it passed the API's 401 to the user instead of refreshing the expired access token"}
	case st.App.HTTP.Path == "logout" && !slices.Contains(o.Events, "logout"):
		return []string{"the app's logout did not revoke the session at the server (no call to its revocation endpoint): its refresh token stays valid for whoever holds a copy"}
	}
	return nil
}

func wantsStatus(e *Expect, code int) bool {
	return e != nil && e.Status != nil && e.Status.Match(code)
}
