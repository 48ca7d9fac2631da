package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTUIWatchNeedsServerAndAdminToken: --watch takes the admin token from
// --admin-token-file or TOKENLAB_ADMIN_TOKEN (no plain flag exists), and
// says what is missing in one sentence.
func TestTUIWatchNeedsServerAndAdminToken(t *testing.T) {
	file := filepath.Join(t.TempDir(), "admin.txt")
	if err := os.WriteFile(file, []byte("from-the-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(vals map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vals[k]; return v, ok }
	}
	for _, tt := range []struct {
		name    string
		o       tuiOptions
		env     map[string]string
		want    string
		wantErr string
	}{
		{"file", tuiOptions{server: "http://127.0.0.1:1", watch: "app", adminTokenFile: file}, nil, "from-the-file", ""},
		{"environment", tuiOptions{server: "http://127.0.0.1:1", watch: "app"}, map[string]string{"TOKENLAB_ADMIN_TOKEN": "from-env"}, "from-env", ""},
		{"no token", tuiOptions{server: "http://127.0.0.1:1", watch: "app"}, nil, "", "--admin-token-file or TOKENLAB_ADMIN_TOKEN"},
		{"no server", tuiOptions{watch: "app"}, map[string]string{"TOKENLAB_ADMIN_TOKEN": "x"}, "", "give its URL with --server"},
		{"embedded ignores the env", tuiOptions{}, map[string]string{"TOKENLAB_ADMIN_TOKEN": "x"}, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tuiAdminToken(streams{env: env(tt.env)}, tt.o)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("token %q, err %v; want %q", got, err, tt.want)
			}
		})
	}
	cmd := newTUICmd(streams{})
	if cmd.Flags().Lookup("admin-token") != nil {
		t.Error("tui has a plain --admin-token flag: a secret in argv")
	}
	if cmd.Flags().Lookup("watch") == nil || cmd.Flags().Lookup("admin-token-file") == nil {
		t.Error("tui lacks --watch or --admin-token-file")
	}
}
