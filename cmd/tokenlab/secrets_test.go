package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every command that takes a password refuses it given two ways, with the
// same sentence, before anything is read or sent.
func TestPasswordGivenTwoWays(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("password123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const want = "tokenlab: give the password one way: --password-file or --password-stdin, not both.\n"
	for _, args := range [][]string{
		{"load", "http://127.0.0.1:1", "--password-file", pw, "--password-stdin"},
		{"run", "--password-file", pw, "--password-stdin", "basic-login"},
		{"login", "--server", "http://127.0.0.1:1", "--username", "alice", "--token-store", "memory", "--password-file", pw, "--password-stdin"},
	} {
		var out, errOut bytes.Buffer
		code := run(t.Context(), args, strings.NewReader("password123\n"), &out, &errOut)
		if code != exitUsage || errOut.String() != want {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", args[0], code, errOut.String(), exitUsage, want)
		}
	}
}

func TestReadSecretFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct{ name, body, want, err string }{
		{"crlf", "s3cret\r\nsecond line\n", "s3cret", ""},
		{"no newline", "s3cret", "s3cret", ""},
		{"empty", "", "", "the file's first line is empty"},
		{"blank first line", "\nsecond\n", "", "the file's first line is empty"},
	} {
		got, err := readSecretFile("--password-file", write(tc.name, tc.body))
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %q, %v; want %q, %q", tc.name, got, err, tc.want, tc.err)
		}
	}
	if _, err := readSecretFile("--password-file", filepath.Join(dir, "missing")); err == nil || !strings.HasPrefix(err.Error(), "--password-file: ") {
		t.Errorf("a missing file: %v; want an error naming the flag", err)
	}
}
