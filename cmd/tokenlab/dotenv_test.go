package main

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
)

func TestParseDotEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    map[string]string
		wantErr string // the whole error, naming file and line
	}{
		{name: "empty", in: "", want: map[string]string{}},
		{name: "plain", in: "ACCESS_TOKEN_EXPIRY=15m\nREFRESH_TOKEN_EXPIRY=7d\n",
			want: map[string]string{"ACCESS_TOKEN_EXPIRY": "15m", "REFRESH_TOKEN_EXPIRY": "7d"}},
		{name: "no final newline", in: "A=1", want: map[string]string{"A": "1"}},
		{name: "comments and blank lines", in: "# tokens\n\n   # indented comment\nA=1\n\n",
			want: map[string]string{"A": "1"}},
		{name: "export", in: "export A=1\nexport B=\"two\"\n", want: map[string]string{"A": "1", "B": "two"}},
		{name: "double quotes", in: `A="hello world"`, want: map[string]string{"A": "hello world"}},
		{name: "single quotes", in: `A='hello world'`, want: map[string]string{"A": "hello world"}},
		{name: "hash inside quotes is kept", in: `A="not # a comment"`, want: map[string]string{"A": "not # a comment"}},
		{name: "trailing comment", in: "A=15m # minutes\n", want: map[string]string{"A": "15m"}},
		{name: "trailing comment after quotes", in: `A="15m" # minutes`, want: map[string]string{"A": "15m"}},
		{name: "hash without a space is part of the value", in: "A=abc#def", want: map[string]string{"A": "abc#def"}},
		{name: "spaces around key and value", in: "  A = 1  \n", want: map[string]string{"A": "1"}},
		{name: "equals sign in value", in: "SECRET=a=b==", want: map[string]string{"SECRET": "a=b=="}},
		{name: "empty value", in: "A=\nB=\"\"", want: map[string]string{"A": "", "B": ""}},
		{name: "CRLF line ends", in: "A=1\r\nB=2\r\n", want: map[string]string{"A": "1", "B": "2"}},
		{name: "last one wins", in: "A=1\nA=2\n", want: map[string]string{"A": "2"}},
		{name: "one quote is not quoting", in: `A="x`, want: map[string]string{"A": `"x`}},
		{name: "line without equals sign", in: "A=1\n# fine\nJUST_A_NAME\n", wantErr: "test.env:3: expected KEY=VALUE"},
		{name: "empty key", in: "=value", wantErr: "test.env:1: expected KEY=VALUE"},
		{name: "space in key", in: "A=1\nMY KEY=1", wantErr: "test.env:2: expected KEY=VALUE"},
		{name: "quoted key", in: `"A"=1`, wantErr: "test.env:1: expected KEY=VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDotEnv("test.env", []byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("parseDotEnv(%q) = %v, %v; want error %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseDotEnv(%q): %v", tc.in, err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("parseDotEnv(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestReadDotEnvMissingFile(t *testing.T) {
	got, err := readDotEnv(filepath.Join(t.TempDir(), ".env"))
	if err != nil || len(got) != 0 {
		t.Fatalf("readDotEnv(missing) = %v, %v; want an empty map and no error", got, err)
	}
}

func TestReadDotEnvNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte("A=1\nbroken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := readDotEnv(path)
	if want := path + ":2: expected KEY=VALUE"; err == nil || err.Error() != want {
		t.Fatalf("readDotEnv = %v, want %q", err, want)
	}
}
