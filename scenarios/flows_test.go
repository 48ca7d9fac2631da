package scenarios

import (
	"testing"
	"time"

)

// oauthRunner is a runner in the oauth2 dialect on embedded servers.
func oauthRunner() *Runner {
	r := NewRunner()
	r.Profile = profiled("oauth2")
	return r
}

// The client lives through a refresh that times out: the token endpoint
// answers after 1 s, the client gives up after 200 ms, keeps its session,
// and refreshes once the endpoint is quick again. This takes about 1 s of
// real time: the fault's delay is real (the server sleeps), and the
// embedded server waits for the late answer before it closes.
func TestRefreshTimeoutKeepsTheSession(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 1 s of real time")
	}
	r := NewRunner()
	r.RequestTimeout = 200 * time.Millisecond
	res := r.Run(t.Context(), mustParse(t, "timeout.yaml", `name: refresh-timeout
steps:
  - login: {}
  - advance: 16m
  - fault: {route: token, delay: 1s}
  - refresh:
    say: The refresh times out on the client's side.
    expect: {error: timeout, login_required: false}
  - request: /protected
    say: The endpoint is quick again; the client refreshes with the refresh token it kept.
    expect: {status: 200, refreshes: 1}
`))
	for _, st := range res.Steps {
		t.Logf("%s %d %s: %s %v", st.Status, st.N, st.Kind, st.Summary, st.Failures)
	}
	if res.Status != Passed {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
}
