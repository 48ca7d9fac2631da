package mockserver

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// adminCall sends an admin request to an embedded server.
func adminCall(t *testing.T, e *Embedded, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, e.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.AdminToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(data, &m)
	return resp.StatusCode, m
}

func startForFaults(t *testing.T) *Embedded {
	t.Helper()
	e, err := StartEmbedded(t.Context(), EmbeddedOptions{Configure: func(c *Config) { c.BcryptCost = 4 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func loginStatus(t *testing.T, e *Embedded) int {
	t.Helper()
	resp, err := http.Post(e.URL+"/login", "application/json", strings.NewReader(`{"username":"alice","password":"password123"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestAdminFaults(t *testing.T) {
	e := startForFaults(t)
	if code, body := adminCall(t, e, "POST", "/admin/faults", `{"route":"login","status":503,"times":2}`); code != 200 {
		t.Fatalf("POST /admin/faults: %d %v", code, body)
	}
	for i, want := range []int{503, 503, 200} {
		if got := loginStatus(t, e); got != want {
			t.Errorf("login %d: %d, want %d", i+1, got, want)
		}
	}
	adminCall(t, e, "POST", "/admin/faults", `{"route":"login","status":500,"times":5}`)
	if code, _ := adminCall(t, e, "DELETE", "/admin/faults", ""); code != 200 || loginStatus(t, e) != 200 {
		t.Errorf("DELETE /admin/faults did not clear the fault")
	}
	for _, bad := range []string{`{"route":"orders","status":503}`, `{"route":"token"}`, `{"route":"token","status":200}`,
		`{"route":"token","status":503,"times":1001}`, `{"route":"token","delay":"2m"}`, `{"route":"token","delay":"soon"}`} {
		if code, body := adminCall(t, e, "POST", "/admin/faults", bad); code != 400 || body["message"] == "" {
			t.Errorf("%s: %d %v, want 400 with a sentence", bad, code, body)
		}
	}
	for range maxFaults {
		adminCall(t, e, "POST", "/admin/faults", `{"route":"logout","status":503}`)
	}
	if code, _ := adminCall(t, e, "POST", "/admin/faults", `{"route":"logout","status":503}`); code != 409 {
		t.Errorf("fault %d: %d, want 409: the table is bounded", maxFaults+1, code)
	}
	// Without the admin token nobody can inject faults.
	resp, _ := http.Post(e.URL+"/admin/faults", "application/json", strings.NewReader(`{"route":"login","status":503}`))
	if resp.StatusCode != 401 {
		t.Errorf("without the admin token: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

// Wrong today 2: a negative advance was accepted and moved the clock back.
func TestAdminClockRefusesNegativeAdvance(t *testing.T) {
	e := startForFaults(t)
	before := e.Clock.Now()
	code, body := adminCall(t, e, "POST", "/admin/clock", `{"advance":"-5m"}`)
	if msg, _ := body["message"].(string); code != 400 || !strings.Contains(msg, "negative") {
		t.Errorf("%d %v, want 400 saying it is negative", code, body)
	}
	if !e.Clock.Now().Equal(before) {
		t.Errorf("the clock moved")
	}
}

// After a rotation, tokens signed with the old keys are refused, access
// and refresh alike, in the server's own words; new logins work.
func TestAdminRotateKeys(t *testing.T) {
	for _, alg := range []string{"HS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			e, err := StartEmbedded(t.Context(), EmbeddedOptions{Configure: func(c *Config) { c.BcryptCost = 4; c.Alg = alg }})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			resp, err := http.Post(e.URL+"/login", "application/json", strings.NewReader(`{"username":"alice","password":"password123"}`))
			if err != nil {
				t.Fatal(err)
			}
			var pair struct{ AccessToken, RefreshToken string }
			json.NewDecoder(resp.Body).Decode(&pair)
			resp.Body.Close()
			if code, body := adminCall(t, e, "POST", "/admin/keys/rotate", ""); code != 200 {
				t.Fatalf("rotate: %d %v", code, body)
			}
			req, _ := http.NewRequest("GET", e.URL+"/protected", nil)
			req.Header.Set("Authorization", "Bearer "+pair.AccessToken)
			resp, _ = http.DefaultClient.Do(req)
			var refused map[string]any
			json.NewDecoder(resp.Body).Decode(&refused)
			resp.Body.Close()
			msg, _ := refused["message"].(string)
			if resp.StatusCode != 401 || !strings.Contains(msg, "signed with a key this server does not use") {
				t.Errorf("old access token: %d %v", resp.StatusCode, refused)
			}
			resp, _ = http.Post(e.URL+"/token", "application/json", strings.NewReader(`{"token":"`+pair.RefreshToken+`"}`))
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Errorf("old refresh token: %d, want 401", resp.StatusCode)
			}
			if loginStatus(t, e) != 200 {
				t.Errorf("login after the rotation failed")
			}
		})
	}
}

// Error answers say what is wrong in the server's words, never the JWT
// library's.
func TestTokenErrorsInOwnWords(t *testing.T) {
	e := startForFaults(t)
	for _, tok := range []string{
		"eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiIxIn0.",                                // alg none
		"eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Im5vcGUifQ.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", // unknown kid
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",                       // wrong typ
		"abc.def.ghi",
	} {
		req, _ := http.NewRequest("GET", e.URL+"/protected", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, internal := range []string{"token is unverifiable", "keyfunc", "signing method", "token signature is invalid", "illegal base64"} {
			if strings.Contains(string(data)+resp.Header.Get("WWW-Authenticate"), internal) {
				t.Errorf("%s: the answer carries the library's %q: %s", tok, internal, data)
			}
		}
	}
}
