package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

const decodeSecret = "decode-test-secret-of-32-bytes!!"

// weakSecret is shorter than HS256's 32 bytes: decode marks it.
const weakSecret = "decode-test-secret"

// decodeNow is the pinned clock of these tests: 8s after iat.
const decodeNow = "2026-01-02T03:04:13Z"

// decodeAccessToken is an access token as the mock server issues them,
// with its claims in the issuer's order: iat 2026-01-02T03:04:05Z, exp 15m later.
func decodeAccessToken(tb testing.TB, secret string) string {
	tb.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	signing := enc([]byte(`{"alg":"HS256","kid":"a-5f2c0e1d","typ":"at+jwt"}`)) + "." +
		enc([]byte(`{"iss":"http://127.0.0.1:8080","sub":"1","aud":"tokenlab","exp":1767323945,"iat":1767323045,"nbf":1767323045,"jti":"3f9a","username":"alice"}`))
	sig, err := jwt.SigningMethodHS256.Sign(signing, []byte(secret))
	if err != nil {
		tb.Fatal(err)
	}
	return signing + "." + enc(sig)
}

type decodeResult struct {
	code        int
	out, errOut string
}

// runDecode runs `tokenlab decode ARGS` with stdin and the pinned clock.
func runDecode(t *testing.T, stdin string, args ...string) decodeResult {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append([]string{"decode", "--now", decodeNow}, args...)
	code := run(t.Context(), args, strings.NewReader(stdin), &out, &errOut)
	return decodeResult{code, out.String(), errOut.String()}
}

func TestDecodeCommandText(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	got := runDecode(t, "", "--secret-file", secretFile(t, decodeSecret), decodeAccessToken(t, decodeSecret))
	want := `header
  {
    "alg": "HS256",
    "kid": "a-5f2c0e1d",
    "typ": "at+jwt"
  }
  typ at+jwt = an access token (RFC 9068): short-lived, sent with every API request

claims
  {
    "iss": "http://127.0.0.1:8080",
    "sub": "1",
    "aud": "tokenlab",
    "exp": 1767323945,
    "iat": 1767323045,
    "nbf": 1767323045,
    "jti": "3f9a",
    "username": "alice"
  }

times (now 2026-01-02 03:04:13 UTC)
  iat  2026-01-02 03:04:05 UTC  (issued 8s ago)
  nbf  2026-01-02 03:04:05 UTC  (valid from 8s ago)
  exp  2026-01-02 03:19:05 UTC  (expires in 14m 52s)

signature: valid (HS256 with the given secret)
`
	if got.code != 0 || got.errOut != "" {
		t.Fatalf("exit %d, stderr %q", got.code, got.errOut)
	}
	if got.out != want {
		t.Errorf("output:\n%s\nwant:\n%s", got.out, want)
	}
}

func TestDecodeCommandRefreshAndExpired(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	enc := base64.RawURLEncoding.EncodeToString
	tok := enc([]byte(`{"alg":"HS256","typ":"rt+jwt"}`)) + "." + enc([]byte(`{"sub":"1","exp":1767322800,"fid":"f1"}`)) + "." + enc([]byte("sig"))
	got := runDecode(t, "", tok)
	for _, want := range []string{
		"typ rt+jwt = a refresh token",
		"exp  2026-01-02 03:00:00 UTC  (expired 4m 13s ago)",
		"signature: not checked (pass --secret-file or --jwks to verify it)",
	} {
		if !strings.Contains(got.out, want) {
			t.Errorf("output lacks %q:\n%s", want, got.out)
		}
	}
	if got.code != 0 {
		t.Errorf("exit %d; an expired token still decodes", got.code)
	}
}

func TestDecodeCommandInputs(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	tok := decodeAccessToken(t, decodeSecret)
	want := runDecode(t, "", tok).out
	tests := []struct {
		name, stdin string
		args        []string
	}{
		{"stdin", tok, nil},
		{"stdin with newline", tok + "\n", nil},
		{"stdin dash", "  " + tok + "\r\n", []string{"-"}},
		{"bearer argument", "", []string{"Bearer " + tok}},
		{"bearer stdin", "bearer " + tok + "\n", nil},
		{"authorization header", "Authorization: Bearer " + tok, nil},
		{"quoted", `"` + tok + `"`, nil},
	}
	if got := runDecode(t, "", "--secret-file", secretFile(t, decodeSecret), tok); got.code != 0 || strings.Contains(got.out, "WEAK") {
		t.Errorf("a 32-byte secret is marked weak or fails (exit %d):\n%s", got.code, got.out)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runDecode(t, tt.stdin, tt.args...)
			if got.code != 0 || got.out != want {
				t.Errorf("exit %d, stderr %q, output:\n%s\nwant the argument's output:\n%s", got.code, got.errOut, got.out, want)
			}
		})
	}
}

// decodeJSON is the --json output.
type decodeJSON struct {
	Header map[string]any `json:"header"`
	Claims map[string]any `json:"claims"`
	Kind   string         `json:"kind"`
	Now    string         `json:"now"`
	Times  map[string]struct {
		Time     string `json:"time"`
		Unix     int64  `json:"unix"`
		Relative string `json:"relative"`
	} `json:"times"`
	Signature string  `json:"signature"`
	Reason    *string `json:"reason"`
}

func TestDecodeCommandJSON(t *testing.T) {
	tok := decodeAccessToken(t, decodeSecret)
	tests := []struct {
		name      string
		args      []string
		code      int
		signature string
		reason    string
	}{
		{"unchecked", []string{tok}, 0, "unchecked", ""},
		{"valid", []string{"--secret-file", secretFile(t, decodeSecret), tok}, 0, "valid", ""},
		{"invalid", []string{"--secret-file", secretFile(t, "wrong"), tok}, 1, "invalid", "the signature does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runDecode(t, "", append([]string{"--json"}, tt.args...)...)
			if got.code != tt.code {
				t.Fatalf("exit %d, want %d (stderr %q)", got.code, tt.code, got.errOut)
			}
			var v decodeJSON
			dec := json.NewDecoder(strings.NewReader(got.out))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("output is not the documented JSON: %v\n%s", err, got.out)
			}
			if v.Header["typ"] != "at+jwt" || v.Claims["username"] != "alice" || v.Kind != "access token" || v.Now != decodeNow {
				t.Errorf("header, claims, kind, now = %v, %v, %q, %q", v.Header, v.Claims, v.Kind, v.Now)
			}
			exp := v.Times["exp"]
			if exp.Time != "2026-01-02T03:19:05Z" || exp.Unix != 1767323945 || exp.Relative != "expires in 14m 52s" {
				t.Errorf("times.exp = %+v", exp)
			}
			if v.Times["iat"].Relative != "issued 8s ago" || v.Times["nbf"].Relative != "valid from 8s ago" {
				t.Errorf("times = %+v", v.Times)
			}
			if v.Signature != tt.signature {
				t.Errorf("signature = %q, want %q", v.Signature, tt.signature)
			}
			switch {
			case tt.reason == "" && v.Reason != nil:
				t.Errorf("reason = %q, want none", *v.Reason)
			case tt.reason != "" && (v.Reason == nil || !strings.Contains(*v.Reason, tt.reason)):
				t.Errorf("reason = %v, want %q", v.Reason, tt.reason)
			}
		})
	}
}

func TestDecodeCommandExitCodes(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	tok := decodeAccessToken(t, decodeSecret)
	weakTok := decodeAccessToken(t, weakSecret)
	parts := strings.Split(tok, ".")
	enc := base64.RawURLEncoding.EncodeToString
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	changed := parts[0] + "." + enc(bytes.Replace(payload, []byte("alice"), []byte("admin"), 1)) + "." + parts[2]
	// Flip an unused low bit of the last character: same bytes, other text.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	lastChar := tok[:len(tok)-1] + string(alphabet[strings.IndexByte(alphabet, tok[len(tok)-1])^1])
	none := enc([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + parts[1] + "."

	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks := `{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","use":"sig","kid":"ed-1","x":"` + enc(pub) + `"}]}`
	edTok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"sub": "1", "exp": 1767323945})
	edTok.Header["kid"], edTok.Header["typ"] = "ed-1", "at+jwt"
	ed, err := edTok.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	confused := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "1"})
	confused.Header["kid"] = "ed-1"
	forged, err := confused.SignedString([]byte(jwks))
	if err != nil {
		t.Fatal(err)
	}
	jwksFile := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwksFile, []byte(jwks), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/jwks.json":
			w.Write([]byte(jwks))
		case "/huge":
			w.Write(bytes.Repeat([]byte(" "), maxJWKSBytes+10))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	tests := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string // a line the output must hold, if any
		stderr string // part of the one-line message, if any
	}{
		{"decoded, unchecked", "", []string{tok}, 0, "signature: not checked", ""},
		{"valid secret", "", []string{"--secret-file", secretFile(t, decodeSecret), tok}, 0, "signature: valid", ""},
		{"weak secret is marked", "", []string{"--secret-file", secretFile(t, weakSecret), weakTok}, 0,
			"WEAK SECRET: 18 bytes, under the 32 that HS256 needs (RFC 7518 §3.2)", ""},
		{"weak secret in JSON", "", []string{"--json", "--secret-file", secretFile(t, weakSecret), weakTok}, 0,
			`"warning": "18 bytes, under the 32 that HS256 needs`, ""},
		{"wrong secret", "", []string{"--secret-file", secretFile(t, "nope"), tok}, 1, "signature: INVALID — the signature does not match", "the signature is invalid"},
		{"changed payload byte", "", []string{"--secret-file", secretFile(t, decodeSecret), changed}, 1, "signature: INVALID — the signature does not match", ""},
		{"changed unused bits of the last character", "", []string{"--secret-file", secretFile(t, decodeSecret), lastChar}, 1, "signature: INVALID — the signature part is not in canonical base64url", ""},
		{"alg none", "", []string{"--secret-file", secretFile(t, decodeSecret), none}, 1, `signature: INVALID — the token says alg "none"`, ""},
		{"stripped signature", "", []string{"--secret-file", secretFile(t, decodeSecret), parts[0] + "." + parts[1] + "."}, 1, "signature: INVALID — the signature is missing", ""},
		{"JWKS file", "", []string{"--jwks", jwksFile, ed}, 0, `signature: valid (EdDSA with key "ed-1" from ` + jwksFile, ""},
		{"JWKS URL", "", []string{"--jwks", srv.URL + "/.well-known/jwks.json", ed}, 0, "signature: valid", ""},
		{"JWKS inline", "", []string{"--jwks", jwks, ed}, 0, "signature: valid", ""},
		{"JWKS, HS256 with the public key as secret", "", []string{"--jwks", jwksFile, forged}, 1,
			`signature: INVALID — the token says alg HS256, but key "ed-1" is an OKP key and verifies only EdDSA`, ""},
		{"JWKS, HS256 token", "", []string{"--jwks", jwksFile, tok}, 1, `no key in the JWKS has the token's kid "a-5f2c0e1d"`, ""},
		{"secret, EdDSA token", "", []string{"--secret-file", secretFile(t, decodeSecret), ed}, 1, "which a shared secret cannot verify", ""},
		{"malformed", "", []string{"abc.def"}, 2, "", "not a JWT: it has 2 dot-separated parts"},
		{"malformed base64", "", []string{"e30.%%%.x"}, 2, "", "the claims are not base64url"},
		{"malformed with --json", "", []string{"--json", "e30.W10.x"}, 2, "", "the claims are a JSON array, not an object"},
		{"JSON pasted", `{"accessToken":"x"}`, nil, 2, "", "this is JSON, not a JWT"},
		{"empty stdin", "  \n", nil, 2, "", "no token given"},
		{"two arguments", "", []string{tok, tok}, 2, "", "accepts at most 1 arg"},
		{"secret and jwks", "", []string{"--secret-file", secretFile(t, "s"), "--jwks", jwksFile, tok}, 2, "", "give --secret or --jwks, not both"},
		{"empty secret", "", []string{"--secret-file", secretFile(t, ""), tok}, 2, "", "the file's first line is empty"},
		{"missing JWKS file", "", []string{"--jwks", filepath.Join(t.TempDir(), "nope.json"), ed}, 2, "", "cannot read the JWKS file"},
		{"JWKS URL 404", "", []string{"--jwks", srv.URL + "/nope", ed}, 2, "", "answered 404 Not Found"},
		{"JWKS URL too large", "", []string{"--jwks", srv.URL + "/huge", ed}, 2, "", "larger than 1024 KiB"},
		{"JWKS not usable", "", []string{"--jwks", `{"keys":[]}`, ed}, 2, "", "the JWKS from --jwks cannot be used: the JWKS has no keys"},
		{"bad --now", "", []string{"--now", "yesterday", tok}, 2, "", "--now \"yesterday\" is not an RFC 3339 time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runDecode(t, tt.stdin, tt.args...)
			if got.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr: %s", got.code, tt.code, got.out, got.errOut)
			}
			if tt.stdout != "" && !strings.Contains(got.out, tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, got.out)
			}
			if tt.code != 2 { // valid, or invalid as the report on stdout already says
				if got.errOut != "" {
					t.Errorf("stderr = %q, want nothing", got.errOut)
				}
				return
			}
			if strings.Count(got.errOut, "\n") != 1 || !strings.HasPrefix(got.errOut, "tokenlab: ") || strings.Contains(got.errOut, "goroutine") {
				t.Errorf("stderr = %q, want one sentence", got.errOut)
			}
			if tt.stderr != "" && !strings.Contains(got.errOut, tt.stderr) {
				t.Errorf("stderr = %q, want %q", got.errOut, tt.stderr)
			}
			if tt.code == 2 && got.out != "" {
				t.Errorf("stdout = %q, want nothing for an unreadable token", got.out)
			}
		})
	}
}

var ansiEscape = regexp.MustCompile("\x1b\\[")

func TestDecodeCommandNoColor(t *testing.T) {
	// A buffer is no terminal; force colour so that NO_COLOR has something to turn off.
	t.Setenv("TERM", "xterm-256color")
	t.Setenv("CLICOLOR_FORCE", "1")
	t.Setenv("NO_COLOR", "")
	tok := decodeAccessToken(t, decodeSecret)
	args := []string{"--secret-file", secretFile(t, "wrong"), tok}

	colored := runDecode(t, "", args...)
	if !ansiEscape.MatchString(colored.out) {
		t.Fatalf("forced colour gave no ANSI escapes; the test proves nothing:\n%q", colored.out)
	}
	for _, v := range []string{"1", "yes", "true"} { // any non-empty value, as no-color.org asks
		t.Run("NO_COLOR="+v, func(t *testing.T) {
			t.Setenv("NO_COLOR", v)
			plain := runDecode(t, "", args...)
			if ansiEscape.MatchString(plain.out) || ansiEscape.MatchString(plain.errOut) {
				t.Errorf("output holds ANSI escapes:\n%q", plain.out)
			}
			if plain.code != 1 || !strings.Contains(plain.out, "signature: INVALID") {
				t.Errorf("exit %d, output:\n%s", plain.code, plain.out)
			}
		})
	}
}

// secretFile writes a secret to a file for --secret-file.
func secretFile(t *testing.T, secret string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
