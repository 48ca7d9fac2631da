package mockserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// /protected's answer is built by hand (protectedBody); it must be the
// bytes writeJSON gave when it encoded the message and the raw payload.
func TestProtectedBodyIsWhatEncodingJSONGives(t *testing.T) {
	ts := newTestServer(t)
	access, _ := ts.login(t)
	got := ts.do(t, http.MethodGet, "/protected", nil, bearerHeader(access)...)
	if got.Status != http.StatusOK {
		t.Fatalf("status %d: %s", got.Status, got.Raw)
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Message string          `json:"message"`
		User    json.RawMessage `json:"user"`
	}{"you reached a protected route with a valid access token", payloadOf(access)}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Raw, want.Bytes()) {
		t.Errorf("GET /protected answered\n%s\nencoding/json gives\n%s", got.Raw, want.Bytes())
	}
	if got.str("message") == "" || got.Body["user"].(map[string]any)["sub"] == nil {
		t.Errorf("the answer lacks the message or the user's claims: %s", got.Raw)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

// A token whose payload is not base64url still answers with valid JSON
// (user null), as before; only a verified token reaches protectedBody.
func TestProtectedBodyOfAMalformedToken(t *testing.T) {
	for _, raw := range []string{"", "a.b", "a.!!!.c"} {
		body := protectedBody(raw)
		var v struct{ User any }
		if err := json.Unmarshal(body, &v); err != nil || v.User != nil {
			t.Errorf("protectedBody(%q) = %s (%v)", raw, body, err)
		}
	}
}
