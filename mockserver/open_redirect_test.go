package mockserver

import (
	"net/url"
	"strings"
	"testing"
)

// TestSelfRegisteredClientIsNoOpenRedirect: anyone may register a client
// (RFC 7591, on by default) with an https redirect URI of their choosing,
// so such a URI must not be followed without a user's login: neither
// end_session (client_id alone, no session) nor an authorization error
// (RFC 9700 §4.11.2) may send a browser there. A loopback URI of the same
// client, and a configured client's URIs, are still followed.
func TestSelfRegisteredClientIsNoOpenRedirect(t *testing.T) {
	ts := newTestServer(t)
	reg := ts.do(t, "POST", registerPath, map[string]any{"token_endpoint_auth_method": "none",
		"redirect_uris": []string{"https://evil.example/landing", "http://127.0.0.1:9/cb"}})
	if reg.Status != 201 {
		t.Fatalf("register: %d %s", reg.Status, reg.Raw)
	}
	id := reg.str("client_id")

	logout := url.Values{"client_id": {id}, "post_logout_redirect_uri": {"https://evil.example/landing"}}
	if p := ts.browser(t, "GET", endSessionPath+"?"+logout.Encode(), nil); p.Status != 400 || !strings.Contains(p.Body, "registered itself") {
		t.Errorf("end_session to a self-registered https URI: %d %s", p.Status, p.Body)
	}
	authz := url.Values{"client_id": {id}, "redirect_uri": {"https://evil.example/landing"}, "response_type": {"token"}}
	if p := ts.browser(t, "GET", "/oauth/authorize?"+authz.Encode(), nil); p.Status != 400 || !strings.Contains(p.Body, "registered itself") {
		t.Errorf("an authorization error for a self-registered https URI: %d %s", p.Status, p.Body)
	}

	logout.Set("post_logout_redirect_uri", "http://127.0.0.1:9/cb")
	if loc := location(t, ts.browser(t, "GET", endSessionPath+"?"+logout.Encode(), nil)); loc.Host != "127.0.0.1:9" {
		t.Errorf("end_session to the client's loopback URI went to %s", loc)
	}
	authz.Set("redirect_uri", "http://127.0.0.1:9/cb")
	if loc := location(t, ts.browser(t, "GET", "/oauth/authorize?"+authz.Encode(), nil)); loc.Query().Get("error") != "unsupported_response_type" {
		t.Errorf("an authorization error for the loopback URI went to %s", loc)
	}
	// The login page itself is still shown for the https URI: the code
	// goes there only after the user logged in.
	authz.Set("redirect_uri", "https://evil.example/landing")
	authz.Set("response_type", "code")
	authz.Set("code_challenge", strings.Repeat("a", 43))
	authz.Set("code_challenge_method", "S256")
	if p := ts.browser(t, "GET", "/oauth/authorize?"+authz.Encode(), nil); p.Status != 200 {
		t.Errorf("the login page for a self-registered https URI: %d %s", p.Status, p.Body)
	}
}
