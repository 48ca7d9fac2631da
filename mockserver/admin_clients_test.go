package mockserver

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// clientEventKinds reads GET /admin/events?client=ID.
func (ts *testServer) clientEventKinds(tb testing.TB, id string) []string {
	tb.Helper()
	r := ts.admin(tb, http.MethodGet, "/admin/events?client="+url.QueryEscape(id), nil)
	if r.Status != 200 {
		tb.Fatalf("events: %d %s", r.Status, r.Raw)
	}
	var kinds []string
	for _, e := range r.Body["events"].([]any) {
		ev := e.(map[string]any)
		if ev["clientId"] != id {
			tb.Fatalf("an event of client %v under ?client=%s: %v", ev["clientId"], id, ev)
		}
		kinds = append(kinds, ev["kind"].(string))
	}
	return kinds
}

func (ts *testServer) appLogin(tb testing.TB, id, secret string) (refresh string) {
	tb.Helper()
	r := ts.form(tb, "/oauth/token", "grant_type", "password", "username", "alice", "password", "password123", "client_id", id, "client_secret", secret)
	if r.Status != 200 {
		tb.Fatalf("login as client %s: %d %s", id, r.Status, r.Raw)
	}
	return r.str("refresh_token")
}

func TestAdminClientsRegisterScopeEventsAndRevoke(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.do(t, http.MethodPost, "/admin/clients", map[string]any{"id": "my-app", "secret": "s3cret-of-the-app"}); r.Status != 401 {
		t.Fatalf("without the admin token: %d %s", r.Status, r.Raw)
	}
	r := ts.admin(t, http.MethodPost, "/admin/clients", map[string]any{"id": "my-app", "secret": "s3cret-of-the-app",
		"redirect_uris": []string{"http://127.0.0.1:8080/callback"}})
	if r.Status != 200 || strings.Contains(string(r.Raw), "s3cret") {
		t.Fatalf("register: %d %s", r.Status, r.Raw)
	}
	if c, err := ts.DB.ClientByID(t.Context(), "my-app"); err != nil || len(c.SecretHash) == 0 || strings.Contains(string(c.SecretHash), "s3cret") {
		t.Fatalf("stored client %+v, %v: want the secret hashed", c, err)
	}
	for _, bad := range []map[string]any{{"id": ""}, {"id": DefaultClientID}, {"id": "a b"}, {"id": "x", "grant_types": []string{"nope"}}} {
		if r := ts.admin(t, http.MethodPost, "/admin/clients", bad); r.Status != 400 || r.str("error") == "" {
			t.Errorf("register %v: %d %s, want a JSON 400", bad, r.Status, r.Raw)
		}
	}

	rt := ts.appLogin(t, "my-app", "s3cret-of-the-app")
	ts.appLogin(t, DefaultClientID, "") // another client's session: not the app's events
	if r := ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", rt, "client_id", "my-app", "client_secret", "s3cret-of-the-app"); r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Raw)
	}
	if got := ts.clientEventKinds(t, "my-app"); !slices.Equal(got, []string{"login", "refresh", "rotation"}) {
		t.Errorf("the app's events: %v, want login, refresh, rotation", got)
	}

	r = ts.admin(t, http.MethodPost, "/admin/clients/my-app/revoke", nil)
	if r.Status != 200 || r.Body["revoked"] != 1.0 {
		t.Fatalf("revoke: %d %s", r.Status, r.Raw)
	}
	if got := ts.clientEventKinds(t, "my-app"); got[len(got)-1] != "family_revoked" {
		t.Errorf("after the revocation the app's events end with %v", got)
	}
	if r := ts.admin(t, http.MethodPost, "/admin/clients/nobody/revoke", nil); r.Status != 404 {
		t.Errorf("revoke an unknown client: %d %s", r.Status, r.Raw)
	}
	for _, tc := range []struct {
		id     string
		status int
	}{{"my-app", 200}, {"my-app", 404}, {DefaultClientID, 400}} {
		if r := ts.admin(t, http.MethodDelete, "/admin/clients/"+tc.id, nil); r.Status != tc.status || (tc.status != 200 && r.str("error") == "") {
			t.Errorf("DELETE %s: %d %s, want %d", tc.id, r.Status, r.Raw, tc.status)
		}
	}
}

// The registry is bounded: POST /admin/clients refuses a new client past
// maxClients (a known one may still be replaced).
func TestAdminClientsBounded(t *testing.T) {
	ts := newTestServer(t)
	for i := 1; i < maxClients; i++ { // the built-in public client is the first
		if r := ts.admin(t, http.MethodPost, "/admin/clients", map[string]any{"id": "c" + strconv.Itoa(i)}); r.Status != 200 {
			t.Fatalf("client %d: %d %s", i, r.Status, r.Raw)
		}
	}
	if r := ts.admin(t, http.MethodPost, "/admin/clients", map[string]any{"id": "one-too-many"}); r.Status != 409 || r.str("error") != "too_many_clients" {
		t.Errorf("past the bound: %d %s", r.Status, r.Raw)
	}
	if r := ts.admin(t, http.MethodPost, "/admin/clients", map[string]any{"id": "c1", "secret": "now-confidential"}); r.Status != 200 {
		t.Errorf("replace a known client at the bound: %d %s", r.Status, r.Raw)
	}
}

func TestFaultLoseResponseForOneClient(t *testing.T) {
	ts := newTestServer(t)
	ts.admin(t, http.MethodPost, "/admin/clients", map[string]any{"id": "my-app", "secret": "app-secret"})
	rt := ts.appLogin(t, "my-app", "app-secret")
	if r := ts.admin(t, http.MethodPost, "/admin/faults", map[string]any{"route": "token", "lose_response": true, "client": "my-app"}); r.Status != 200 {
		t.Fatalf("fault: %d %s", r.Status, r.Raw)
	}
	if r := ts.admin(t, http.MethodPost, "/admin/faults", map[string]any{"route": "token", "lose_response": true, "status": 503}); r.Status != 400 {
		t.Errorf("lose_response with a status: %d %s", r.Status, r.Raw)
	}
	// Another client's refresh is answered: the fault waits for the app's.
	other := ts.appLogin(t, DefaultClientID, "")
	if r := ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", other, "client_id", DefaultClientID); r.Status != 200 {
		t.Fatalf("another client's refresh: %d %s", r.Status, r.Raw)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, ts.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("my-app", "app-secret")
	resp, err := ts.http.Do(req)
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("the app's refresh got an answer: %d %s", resp.StatusCode, body)
	}
	if errors.Is(err, http.ErrHandlerTimeout) {
		t.Fatal(err)
	}
	// The server did the refresh: its successor exists and was logged.
	if got := ts.clientEventKinds(t, "my-app"); !slices.Equal(got, []string{"login", "refresh", "rotation"}) {
		t.Errorf("the app's events after the lost answer: %v, want login, refresh, rotation", got)
	}
}

// Whatever a client sends to the new admin routes gets a JSON 4xx.
func TestAdminClientsHostile(t *testing.T) {
	ts := newTestServer(t)
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", "/admin/clients", "{not json", 400},
		{"POST", "/admin/clients", map[string]any{"id": "x", "colour": "blue"}, 400},
		{"POST", "/admin/clients", map[string]any{"id": strings.Repeat("x", 200)}, 400},
		{"POST", "/admin/clients", map[string]any{"id": "x", "secret": strings.Repeat("s", 600)}, 400},
		{"POST", "/admin/clients", map[string]any{"id": "x", "redirect_uris": []string{"not a uri#frag"}}, 400},
		{"POST", "/admin/clients", "", 400},
		{"POST", "/admin/clients/%00/revoke", nil, 404},
		{"GET", "/admin/events?client=" + strings.Repeat("c", 200), nil, 400},
		{"POST", "/admin/faults", map[string]any{"route": "token", "lose_response": true, "client": strings.Repeat("c", 200)}, 400},
	} {
		var r reply
		if s, ok := tc.body.(string); ok {
			r = ts.do(t, tc.method, tc.path, s, "Authorization", "Bearer "+testAdminToken, "Content-Type", "application/json")
		} else {
			r = ts.admin(t, tc.method, tc.path, tc.body)
		}
		if r.Status != tc.status || r.str("error") == "" {
			t.Errorf("%s %s %v: %d %s, want a JSON %d", tc.method, tc.path, tc.body, r.Status, r.Raw, tc.status)
		}
	}
}

// TestClientEventsWithTracePage: ?client= with ?trace= pages over the
// events of both, so a page is never cut short by the other traces of
// the client. (The trace was applied to a page of the client's events, so
// limit=2 over two events of another trace answered none, which a reader
// takes for the end.)
func TestClientEventsWithTracePage(t *testing.T) {
	ts := newTestServer(t)
	login := func(trace string) {
		r := ts.do(t, http.MethodPost, "/oauth/token", formBody("grant_type", grantPassword, "username", "alice",
			"password", "password123", "client_id", DefaultClientID), "Content-Type", formType, "Tokenlab-Trace", trace)
		if r.Status != http.StatusOK {
			t.Fatalf("login: %d %s", r.Status, r.Raw)
		}
	}
	login("other")
	login("other")
	login("mine")
	r := ts.admin(t, http.MethodGet, "/admin/events?limit=1&client="+DefaultClientID+"&trace=mine", nil)
	list, _ := r.Body["events"].([]any)
	if r.Status != http.StatusOK || len(list) != 1 || list[0].(map[string]any)["trace"] != "mine" {
		t.Fatalf("the first page of client %s and trace mine: %d %s", DefaultClientID, r.Status, r.Raw)
	}
}

// TestDeletedClientsTokensDoNotRefresh: after DELETE /admin/clients/{id}
// (an administrator removing a leaked client; the runner removing an
// app's), the client's refresh tokens do not rotate any more, neither at
// /oauth/token without the client's credentials nor at the seed /token:
// the owner lookup found no client and let the refresh through without
// any client authentication. Revoking the token still works.
func TestDeletedClientsTokensDoNotRefresh(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.admin(t, http.MethodPost, "/admin/clients", map[string]any{"id": "web", "secret": "web-secret-123456"}); r.Status != http.StatusOK {
		t.Fatalf("add client: %d %s", r.Status, r.Raw)
	}
	login := func() string {
		r := ts.do(t, http.MethodPost, "/oauth/token", formBody("grant_type", grantPassword, "username", "alice", "password", "password123",
			"client_id", "web", "client_secret", "web-secret-123456"), "Content-Type", formType)
		if r.Status != http.StatusOK {
			t.Fatalf("login as web: %d %s", r.Status, r.Raw)
		}
		return r.str("refresh_token")
	}
	rt1, rt2, rt3 := login(), login(), login()
	if r := ts.admin(t, http.MethodDelete, "/admin/clients/web", nil); r.Status != http.StatusOK {
		t.Fatalf("delete client: %d %s", r.Status, r.Raw)
	}
	if r := ts.do(t, http.MethodPost, "/oauth/token", formBody("grant_type", grantRefreshToken, "refresh_token", rt1), "Content-Type", formType); r.Status/100 != 4 {
		t.Errorf("refresh of the deleted client's token without credentials: %d %s", r.Status, r.Raw)
	}
	if r := ts.do(t, http.MethodPost, "/token", map[string]string{"token": rt2}); r.Status/100 != 4 {
		t.Errorf("seed refresh of the deleted client's token: %d %s", r.Status, r.Raw)
	}
	if r := ts.do(t, http.MethodPost, "/oauth/revoke", formBody("token", rt3), "Content-Type", formType); r.Status != http.StatusOK {
		t.Errorf("revoke of the deleted client's token: %d %s", r.Status, r.Raw)
	}
}
