package tui

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/client"
)

// TestRequestView (issue 17, point 17): enter on the timeline shows the
// row's HTTP request and answer as the real server answered them, with
// the token shortened and the password hidden; ←/→ step between requests.
func TestRequestView(t *testing.T) {
	l := newLab(t)
	l.login()
	access, refresh := l.m.dash.session.AccessToken, l.m.dash.session.RefreshToken
	l.key("p", "enter")
	if l.m.screen != screenRequest {
		t.Fatalf("enter on the dashboard: screen %d, want the request view", l.m.screen)
	}
	l.wantView("Request 2 of 2", "→ GET "+l.e.URL+"/protected", "Authorization: Bearer "+access[:8]+"…", "← 200 OK", `"sub": "1"`)
	if v := l.view(); strings.Contains(v, access) {
		t.Errorf("the request view shows the whole access token:\n%s", v)
	}
	l.key("left") // the login
	l.wantView("Request 1 of 2", "→ POST "+l.e.URL+"/login", `"password": "`+client.Hidden+`"`, `"username": "alice"`,
		"← 200 OK", `"accessToken": "`+access[:8]+`…`, `"refreshToken": "`+refresh[:8]+`…`)
	for _, secret := range []string{"password123", access, refresh} {
		if strings.Contains(l.view(), secret) {
			t.Errorf("the request view shows a secret %q…", secret[:8])
		}
	}
	l.key("esc")
	if l.m.screen != screenDashboard {
		t.Fatalf("esc: screen %d, want the dashboard", l.m.screen)
	}

	// An expired access token: the API's 401 and its WWW-Authenticate, as sent.
	l.key("f", "p", "enter")
	for !strings.Contains(l.view(), "← 401") {
		if l.m.req.at == 0 {
			t.Fatalf("no 401 among the requests:\n%s", l.timelineText())
		}
		l.key("left")
	}
	l.wantView("→ GET "+l.e.URL+"/protected", "WWW-Authenticate: Bearer", `error="invalid_token"`)
	resp := protectedAnswer(t, l.e.URL, access)
	if got := resp.Header.Get("WWW-Authenticate"); got == "" || !strings.Contains(flat(l.view()), got[:20]) {
		t.Errorf("the server's WWW-Authenticate %q is not the one shown:\n%s", got, l.view())
	}

	// tab: the last login's sequence diagram.
	l.key("tab")
	l.wantView("Login sequence", "client", "authorization server", "API", "POST /login", "200 access + refresh")
	l.wantFits("request view")
}

// TestSequenceDiagramFillsIn: while a device login runs, tab shows its
// sequence diagram, which grows with each step of the real flow.
func TestSequenceDiagramFillsIn(t *testing.T) {
	for _, flow := range []string{client.FlowDevice, client.FlowPKCE} {
		t.Run(flow, func(t *testing.T) {
			l := newLab(t)
			events, _ := recordFlowAll(l, flow)
			l.key("down", "right")
			if flow == client.FlowDevice {
				l.key("right")
			}
			l.m.login.run, l.m.login.busy = flowRun{flow: flow}, "waiting"
			l.key("tab")
			l.wantView("Login sequence", "authorization server")
			before := strings.Count(l.view(), "\n")
			for _, e := range events {
				l.send(clientEventMsg(labEvent{Event: e}))
			}
			if after := strings.Count(strings.TrimRight(l.view(), "\n"), "\n"); after <= before {
				t.Errorf("the diagram did not grow with the flow's %d events:\n%s", len(events), l.view())
			}
			want := map[string][]string{
				client.FlowDevice: {"POST /oauth/device_authorization", "200 device code + user code"},
				client.FlowPKCE:   {"PKCE verifier", "browser: log in, approve"},
			}[flow]
			l.wantView(want...)
			l.wantFits("diagram " + flow)
			l.key("tab")
			l.wantView("tab diagram")
		})
	}
}

// protectedAnswer is the real server's answer to tok on /protected.
func protectedAnswer(t *testing.T, server, tok string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, server+"/protected", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
