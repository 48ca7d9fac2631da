package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// serve refuses introspection without client authentication by default;
// --open-introspection answers anyone, for teaching.
func TestServeE2EIntrospectionNeedsClient(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		args   []string
		status int
	}{
		{"default", nil, http.StatusUnauthorized},
		{"open", []string{"--open-introspection"}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := startServe(t, append([]string{"--quiet"}, tc.args...)...)
			hc := &http.Client{Timeout: httpTimeout}
			resp, err := hc.PostForm(p.banner.URL+"/oauth/token", url.Values{"grant_type": {"password"},
				"username": {"alice"}, "password": {"password123"}, "client_id": {"tokenlab"}})
			if err != nil {
				t.Fatal(err)
			}
			var tok struct {
				RefreshToken string `json:"refresh_token"`
			}
			json.NewDecoder(resp.Body).Decode(&tok)
			resp.Body.Close()
			resp, err = hc.PostForm(p.banner.URL+"/oauth/introspect", url.Values{"token": {tok.RefreshToken}})
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("introspection without a client: %d %v, want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status == http.StatusOK && body["active"] != true {
				t.Fatalf("open introspection of a live token: %v", body)
			}
			warned := strings.Contains(strings.Join(p.banner.Warnings, "\n"), "open introspection")
			if warned != (tc.status == http.StatusOK) {
				t.Fatalf("banner warnings %q: the open-introspection warning shown = %v", p.banner.Warnings, warned)
			}
		})
	}
}
