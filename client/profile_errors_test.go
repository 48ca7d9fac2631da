package client

import (
	"strings"
	"testing"
)

// Issue 18.9: profile errors named Go types ("field client_id not found in
// type client.Profile"); they name the key, and where an OAuth key goes.
func TestProfileErrorsNameKeysNotGoTypes(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"extends: oauth2\nclient_id: x\n", "line 2: unknown key client_id (the oauth2 dialect's client settings go under oauth:, as oauth: {client_id: …})"},
		{"extends: seed-json\nrefersh_path: /renew\n", "line 2: unknown key refersh_path"},
	} {
		_, err := ParseProfile([]byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "client.Profile") {
			t.Errorf("%q: %v, want %q", tc.src, err, tc.want)
		}
	}
}
