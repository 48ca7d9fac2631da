package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// hostileProvider is an OAuth provider that says hostile things: control
// sequences in its device codes, URIs and error descriptions. It records
// each request's path and Authorization header.
type hostileProvider struct {
	*httptest.Server
	verificationURI string

	mu    sync.Mutex
	auths []string
}

func newHostileProvider(t *testing.T, verificationURI string) *hostileProvider {
	t.Helper()
	p := &hostileProvider{verificationURI: verificationURI}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

func (p *hostileProvider) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.auths = append(p.auths, r.URL.Path+" "+r.Header.Get("Authorization"))
	p.mu.Unlock()
	r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		json.NewEncoder(w).Encode(map[string]any{"issuer": p.URL, "token_endpoint": p.URL + "/token",
			"revocation_endpoint": p.URL + "/revoke", "device_authorization_endpoint": p.URL + "/device_authorization",
			"grant_types_supported": []string{"password", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"}})
	case "/device_authorization":
		json.NewEncoder(w).Encode(map[string]any{"device_code": "dc", "user_code": "AB\x1b[2JCD",
			"verification_uri": p.verificationURI, "verification_uri_complete": "file:///etc/passwd", "expires_in": 5, "interval": 1})
	case "/token":
		if r.PostForm.Get("grant_type") != "password" {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": "no\x1b[2J\x1b[41mINJECTED\x1b]0;owned\x07"})
			return
		}
		payload := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"1","preferred_username":"bob","exp":4102444800}`))
		json.NewEncoder(w).Encode(map[string]any{"access_token": "eyJhbGciOiJIUzI1NiJ9." + payload + ".c2ln", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt"})
	case "/revoke":
		w.WriteHeader(http.StatusOK)
	case "/hostile":
		// A raw answer: C1 and bidi controls in the status line, a
		// header and the JSON body, which net/http would not write.
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		body := "{\"name\":\"a\u009b2Jb\u202ecod.exe\x7f\"}"
		buf.WriteString("HTTP/1.1 200 OK\u009b2J\u202e\x1b[31m\r\nX-Evil: x\u009by\u202ez\r\nContent-Type: application/json\r\n" +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body)
		buf.Flush()
	}
}

// basicAuths returns the requests that carried HTTP Basic credentials.
func (p *hostileProvider) basicAuths() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, a := range p.auths {
		if strings.Contains(a, " Basic ") {
			out = append(out, a)
		}
	}
	return out
}

// TestClientSecretGoesOnlyToItsClient: TOKENLAB_CLIENT_SECRET exported for
// one client is not sent with another session's requests; a secret given
// on the command line needs --client-id, which names the client it is for.
func TestClientSecretGoesOnlyToItsClient(t *testing.T) {
	privateDirs(t)
	idp := newHostileProvider(t, "https://idp.example/device")
	login := func(t *testing.T) {
		t.Helper()
		if code, _, stderr := runBuffered(t, "pw\n", "login", "--server", idp.URL, "--profile", "oauth2", "--client-id", "tokenlab",
			"--flow", "password", "--username", "bob", "--password-stdin", "--token-store", "file"); code != 0 {
			t.Fatalf("login: %d %s", code, stderr)
		}
	}
	t.Setenv("TOKENLAB_CLIENT_SECRET", "robot-secret-for-another-server")
	secretFile := writeFile(t, t.TempDir(), "robot.secret", "robot-secret\n")

	t.Run("the environment is not read without --client-id", func(t *testing.T) {
		t.Setenv("TOKENLAB_CLIENT_SECRET", "")
		login(t)
		t.Setenv("TOKENLAB_CLIENT_SECRET", "robot-secret-for-another-server")
		if code, _, stderr := runBuffered(t, "", "logout"); code != 0 {
			t.Fatalf("logout: %d %s", code, stderr)
		}
		if got := idp.basicAuths(); len(got) != 0 {
			t.Fatalf("another client's secret went to %v", got)
		}
	})
	t.Run("a secret file without --client-id is refused", func(t *testing.T) {
		t.Setenv("TOKENLAB_CLIENT_SECRET", "")
		login(t)
		code, _, stderr := runBuffered(t, "", "logout", "--client-secret-file", secretFile)
		if code != exitUsage || !strings.Contains(stderr, "need --client-id") {
			t.Fatalf("logout: %d %q; want a usage error asking for --client-id", code, stderr)
		}
		if got := idp.basicAuths(); len(got) != 0 {
			t.Fatalf("the secret went to %v", got)
		}
	})
	t.Run("with --client-id the environment names that client's secret", func(t *testing.T) {
		if code, _, stderr := runBuffered(t, "", "logout", "--client-id", "tokenlab"); code != 0 {
			t.Fatalf("logout: %d %s", code, stderr)
		}
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte("tokenlab:robot-secret-for-another-server"))
		if got := idp.basicAuths(); len(got) != 1 || !strings.HasSuffix(got[0], want) {
			t.Fatalf("Basic auths = %v, want the named client's secret once", got)
		}
	})
}

// TestServerTextReachesTerminalEscaped: what a provider says (device
// codes, verification URIs, error descriptions) and any error sentence
// reach stderr with control characters escaped, and a server-chosen
// file: URI is never opened.
func TestServerTextReachesTerminalEscaped(t *testing.T) {
	privateDirs(t)
	for _, tc := range []struct {
		name            string
		verificationURI string
		args            []string
		want            string // a piece of the escaped text that must appear
	}{
		{"device code and token error", "https://idp.example/device", nil, `no\u001b[2J\u001b[41mINJECTED`},
		{"verification_uri", "https://idp.example/device\x1b]0;owned\x07", nil, "is not an http(s) URL"},
		{"an error that quotes the command line", "https://idp.example/device", []string{"--scope", "x", "--profile", "evil\x1b[2J.yaml"}, `evil\u001b[2J.yaml`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := newHostileProvider(t, tc.verificationURI)
			args := append([]string{"login", "--server", idp.URL, "--profile", "oauth2", "--client-id", "tokenlab",
				"--flow", "device", "--no-browser", "--token-store", "memory"}, tc.args...)
			code, _, stderr := runBuffered(t, "", args...)
			if code == 0 {
				t.Fatalf("login succeeded: %s", stderr)
			}
			if strings.ContainsAny(stderr, "\x1b\x07") {
				t.Fatalf("stderr carries terminal control sequences: %q", stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Fatalf("stderr = %q, want %q", stderr, tc.want)
			}
		})
	}
}

// TestRequestOutputEscaped: request -i shows an answer's status line and
// headers, and request --json its whole answer, with C0, C1 and bidi
// controls escaped; the JSON still parses to the same body.
func TestRequestOutputEscaped(t *testing.T) {
	privateDirs(t)
	idp := newHostileProvider(t, "https://idp.example/device")
	if code, _, stderr := runBuffered(t, "pw\n", "login", "--server", idp.URL, "--profile", "oauth2", "--client-id", "tokenlab",
		"--flow", "password", "--username", "bob", "--password-stdin", "--token-store", "file"); code != 0 {
		t.Fatalf("login: %d %s", code, stderr)
	}
	raw := func(out string) bool { return strings.ContainsAny(out, "\x1b\u009b\u202e\x7f") }
	code, stdout, stderr := runBuffered(t, "", "request", "-i", "/hostile")
	if code != 0 {
		t.Fatalf("request -i: %d %s", code, stderr)
	}
	head, _, _ := strings.Cut(stdout, "\r\n\r\n")
	if raw(head) || !strings.Contains(head, `OK\u009b2J\u202e\u001b[31m`) || !strings.Contains(head, `x\u009by\u202ez`) {
		t.Errorf("request -i status line and headers = %q, want the controls escaped", head)
	}
	code, stdout, stderr = runBuffered(t, "", "request", "--json", "/hostile")
	if code != 0 {
		t.Fatalf("request --json: %d %s", code, stderr)
	}
	if raw(stdout) {
		t.Errorf("request --json lets controls through: %q", stdout)
	}
	var res struct {
		Body struct{ Name string } `json:"body"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Body.Name != "a\u009b2Jb\u202ecod.exe\x7f" {
		t.Errorf("request --json body = %+v (%v), want the same value, escaped only", res.Body, err)
	}
}
