package jwtx

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var b64 = base64.RawURLEncoding.EncodeToString

// decToken builds header.claims.signature from JSON text and raw signature.
func decToken(header, claims string, sig []byte) string {
	return b64([]byte(header)) + "." + b64([]byte(claims)) + "." + b64(sig)
}

func TestDecodeErrors(t *testing.T) {
	obj := b64([]byte(`{"alg":"HS256"}`))
	tests := []struct {
		name, token, want string
	}{
		{"empty", "", "the token is empty"},
		{"one part", "abc", "it has 1 dot-separated part,"},
		{"two parts", "abc.def", "it has 2 dot-separated parts"},
		{"four parts", "a.b.c.d", "it has 4 dot-separated parts"},
		{"JWE", "a.b.c.d.e", "encrypted JWT (JWE"},
		{"empty header", "." + obj + ".c2ln", "the header part is empty"},
		{"empty claims", obj + "..c2ln", "the claims part is empty"},
		{"header not base64url", "!!!." + obj + ".c2ln", "the header is not base64url"},
		{"claims not base64url", obj + ".a*b." + "c2ln", "the claims are not base64url"},
		{"signature not base64url", obj + "." + obj + ".@@", "the signature is not base64url"},
		{"header not JSON", b64([]byte("hello")) + "." + obj + ".", "the header is not JSON"},
		{"claims truncated JSON", obj + "." + b64([]byte(`{"sub":`)) + ".", "the claims are not JSON (it ends too early)"},
		{"header array", b64([]byte(`["HS256"]`)) + "." + obj + ".", "the header is a JSON array, not an object"},
		{"claims string", obj + "." + b64([]byte(`"sub"`)) + ".", "the claims are a JSON string, not an object"},
		{"claims number", obj + "." + b64([]byte(`42`)) + ".", "the claims are a JSON number, not an object"},
		{"claims null", obj + "." + b64([]byte(`null`)) + ".", "the claims are a JSON null, not an object"},
		{"claims trailing data", obj + "." + b64([]byte(`{}{}`)) + ".", "the claims have more after their JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.token)
			if err == nil {
				t.Fatalf("Decode(%q) = nil error, want %q", tt.token, tt.want)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDecodeReadsHeaderAndClaims(t *testing.T) {
	header := `{"alg":"HS256","typ":"at+jwt","kid":"a-1"}`
	claims := `{"sub":"42","username":"alice","exp":1767323945,"big":12345678901234567890}`
	tok := decToken(header, claims, []byte("sig"))
	for _, variant := range []string{tok, strings.Replace(tok, ".", "==.", 2)} { // padding is tolerated
		d, err := Decode(variant)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if d.Alg() != "HS256" || d.Typ() != "at+jwt" || d.Kid() != "a-1" || d.Kind() != "access token" {
			t.Errorf("alg, typ, kid, kind = %q, %q, %q, %q", d.Alg(), d.Typ(), d.Kid(), d.Kind())
		}
		if d.Claims["username"] != "alice" || d.Claims["big"] != json.Number("12345678901234567890") {
			t.Errorf("claims = %v (numbers must stay exact)", d.Claims)
		}
		if string(d.RawClaims) != claims || string(d.RawHeader) != header {
			t.Errorf("raw JSON changed: %s %s", d.RawHeader, d.RawClaims)
		}
		if string(d.Signature) != "sig" {
			t.Errorf("signature = %q", d.Signature)
		}
	}
}

func TestDecodeKind(t *testing.T) {
	tests := []struct{ typ, want string }{
		{`"at+jwt"`, "access token"},
		{`"application/at+JWT"`, "access token"},
		{`"rt+jwt"`, "refresh token"},
		{`"JWT"`, "JWT"},
		{`"dpop+jwt"`, ""},
		{`7`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			d, err := Decode(decToken(`{"alg":"HS256","typ":`+tt.typ+`}`, `{}`, []byte("s")))
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Kind(); got != tt.want {
				t.Errorf("Kind() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecodeHumanDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{999 * time.Millisecond, "0s"},
		{45 * time.Second, "45s"},
		{14*time.Minute + 52*time.Second + 900*time.Millisecond, "14m 52s"},
		{3 * time.Minute, "3m"},
		{3*time.Minute + 59*time.Second, "3m 59s"},
		{time.Hour + 5*time.Second, "1h"},
		{2*time.Hour + 5*time.Minute + 7*time.Second, "2h 5m"},
		{24 * time.Hour, "1d"},
		{27 * time.Hour, "1d 3h"},
		{7 * 24 * time.Hour, "7d"},
		{-90 * time.Second, "1m 30s"},
	}
	for _, tt := range tests {
		t.Run(tt.in.String(), func(t *testing.T) {
			if got := HumanDuration(tt.in); got != tt.want {
				t.Errorf("HumanDuration(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDecodeTimes(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 13, 0, time.UTC)
	unix := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	tests := []struct {
		name, claim, value string
		want               string // Relative, or Problem when prefixed with "!"
	}{
		{"exp ahead", "exp", unix(14*time.Minute + 52*time.Second), "expires in 14m 52s"},
		{"exp past", "exp", unix(-3 * time.Minute), "expired 3m ago"},
		{"exp now", "exp", unix(0), "expired just now"},
		{"exp days ahead", "exp", unix(7 * 24 * time.Hour), "expires in 7d"},
		{"iat past", "iat", unix(-5 * time.Second), "issued 5s ago"},
		{"iat now", "iat", unix(0), "issued just now"},
		{"iat future", "iat", unix(2 * time.Minute), "issued in the future (2m from now)"},
		{"nbf past", "nbf", unix(-8 * time.Second), "valid from 8s ago"},
		{"nbf future", "nbf", unix(90 * time.Second), "not valid yet (valid in 1m 30s)"},
		{"fractional exp", "exp", unix(time.Minute) + ".5", "expires in 1m"},
		{"string exp", "exp", `"tomorrow"`, `!exp is not a NumericDate (seconds since 1970): "tomorrow"`},
		{"huge exp", "exp", "1e300", "!exp is out of range: 1e300"},
		{"negative exp", "exp", "-1e30", "!exp is out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Decode(decToken(`{"alg":"HS256"}`, `{"`+tt.claim+`":`+tt.value+`}`, []byte("s")))
			if err != nil {
				t.Fatal(err)
			}
			times := d.Times(now)
			if len(times) != 1 || times[0].Claim != tt.claim {
				t.Fatalf("Times = %+v, want one %s", times, tt.claim)
			}
			tc := times[0]
			if problem, ok := strings.CutPrefix(tt.want, "!"); ok {
				if !strings.HasPrefix(tc.Problem, problem) || !tc.At.IsZero() {
					t.Errorf("Problem = %q (At %v), want %q", tc.Problem, tc.At, problem)
				}
				return
			}
			if tc.Relative != tt.want || tc.Problem != "" {
				t.Errorf("Relative = %q (Problem %q), want %q", tc.Relative, tc.Problem, tt.want)
			}
			if tc.At.Location() != time.UTC {
				t.Errorf("At = %v, want UTC", tc.At)
			}
		})
	}
}

func TestDecodeTimesOrderAndAbsence(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 13, 0, time.UTC)
	d, err := Decode(decToken(`{"alg":"HS256"}`, `{"exp":1767323945,"sub":"1","nbf":1767323045,"iat":1767323045}`, []byte("s")))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tc := range d.Times(now) {
		got = append(got, tc.Claim+"="+tc.At.Format(time.RFC3339)+" "+tc.Relative)
	}
	want := []string{
		"iat=2026-01-02T03:04:05Z issued 8s ago",
		"nbf=2026-01-02T03:04:05Z valid from 8s ago",
		"exp=2026-01-02T03:19:05Z expires in 14m 52s",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Times =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	d, _ = Decode(decToken(`{"alg":"HS256"}`, `{"sub":"1"}`, []byte("s")))
	if times := d.Times(now); len(times) != 0 {
		t.Errorf("Times of a token without time claims = %+v", times)
	}
}

// decKeys are one key of each public-key kind the verifier supports.
type decKeys struct {
	rsa  *rsa.PrivateKey
	ec   *ecdsa.PrivateKey
	ed   ed25519.PrivateKey
	jwks []byte
}

func newDecKeys(tb testing.TB) decKeys {
	tb.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	_, dk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	k := decKeys{rsa: rk, ec: ek, ed: dk}
	k.jwks = k.set(tb, true)
	return k
}

// set is the JWKS of the keys, with or without each key's alg.
func (k decKeys) set(tb testing.TB, withAlg bool) []byte {
	tb.Helper()
	raw, err := k.ec.PublicKey.Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	keys := []map[string]string{
		{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "rsa-1", "n": b64(k.rsa.N.Bytes()), "e": b64(big.NewInt(int64(k.rsa.E)).Bytes())},
		{"kty": "EC", "use": "sig", "alg": "ES256", "kid": "ec-1", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])},
		{"kty": "OKP", "use": "sig", "alg": "EdDSA", "kid": "ed-1", "crv": "Ed25519", "x": b64(k.ed.Public().(ed25519.PublicKey))},
	}
	if !withAlg {
		for _, key := range keys {
			delete(key, "alg")
		}
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func decSign(tb testing.TB, m jwt.SigningMethod, kid string, key any) string {
	tb.Helper()
	tok := jwt.NewWithClaims(m, jwt.MapClaims{"sub": "42", "username": "alice", "role": "user",
		"exp": time.Now().Add(-time.Hour).Unix()}) // expired: verification must not care
	tok.Header["typ"] = "at+jwt"
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// tamperClaims changes a byte of the claims and keeps the old signature.
func tamperClaims(tb testing.TB, tok string) string {
	tb.Helper()
	parts := strings.Split(tok, ".")
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	changed := strings.Replace(string(claims), `"role":"user"`, `"role":"root"`, 1)
	if changed == string(claims) {
		tb.Fatalf("nothing to tamper with in %s", claims)
	}
	return parts[0] + "." + b64([]byte(changed)) + "." + parts[2]
}

// tamperSignature flips a bit of the signature.
func tamperSignature(tb testing.TB, tok string) string {
	tb.Helper()
	i := strings.LastIndex(tok, ".")
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		tb.Fatal(err)
	}
	sig[len(sig)/2] ^= 1
	return tok[:i+1] + b64(sig)
}

// algNone rewrites the header to alg none, with or without a signature.
func algNone(tb testing.TB, tok string, keepSig bool) string {
	tb.Helper()
	parts := strings.Split(tok, ".")
	d, err := Decode(tok)
	if err != nil {
		tb.Fatal(err)
	}
	d.Header["alg"] = "none"
	h, _ := json.Marshal(d.Header)
	if !keepSig {
		parts[2] = ""
	}
	return b64(h) + "." + parts[1] + "." + parts[2]
}

// tamperLastChar changes only the unused low bits of the signature's last
// character: the bytes stay the same, the text does not.
func tamperLastChar(tb testing.TB, tok string) string {
	tb.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	v := strings.IndexByte(alphabet, tok[len(tok)-1])
	changed := tok[:len(tok)-1] + string(alphabet[v^1])
	a, _ := base64.RawURLEncoding.DecodeString(tok[strings.LastIndex(tok, ".")+1:])
	b, _ := base64.RawURLEncoding.DecodeString(changed[strings.LastIndex(changed, ".")+1:])
	if string(a) != string(b) {
		tb.Fatalf("the signature has no unused bits in its last character")
	}
	return changed
}

func stripSignature(tok string) string { return tok[:strings.LastIndex(tok, ".")+1] }

func publicPEM(tb testing.TB, pub crypto.PublicKey) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func wantInvalid(tb testing.TB, err error, contains string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("verification passed; want invalid (%s)", contains)
	}
	if !errors.Is(err, ErrInvalidSignature) {
		tb.Fatalf("error %q does not wrap ErrInvalidSignature", err)
	}
	if !strings.Contains(err.Error(), contains) {
		tb.Errorf("error = %q, want it to contain %q", err, contains)
	}
}

func TestDecodeVerifyHMAC(t *testing.T) {
	const secret = "s3cret-s3cret-s3cret-s3cret-s3cret"
	good := decSign(t, jwt.SigningMethodHS256, "a-1", []byte(secret))
	if err := VerifyHMAC(good, secret); err != nil {
		t.Fatalf("VerifyHMAC(good) = %v", err)
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name, token, secret, want string
	}{
		{"wrong secret", good, "other", "does not match"},
		{"changed claims byte", tamperClaims(t, good), secret, "does not match"},
		{"changed signature byte", tamperSignature(t, good), secret, "does not match"},
		{"changed unused bits", tamperLastChar(t, good), secret, "signature part is not in canonical base64url"},
		{"padded", good + "=", secret, "signature part has base64 padding"},
		{"alg none without signature", algNone(t, good, false), secret, `alg "none"`},
		{"alg none with old signature", algNone(t, good, true), secret, `alg "none"`},
		{"stripped signature", stripSignature(good), secret, "signature is missing"},
		{"public-key token", decSign(t, jwt.SigningMethodEdDSA, "", ed), secret, "alg EdDSA, which a shared secret cannot verify"},
		{"empty secret", good, "", "secret is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantInvalid(t, VerifyHMAC(tt.token, tt.secret), tt.want)
		})
	}
	if err := VerifyHMAC("a.b", secret); !errors.Is(err, ErrMalformed) {
		t.Errorf("VerifyHMAC(malformed) = %v, want ErrMalformed", err)
	}
}

func TestDecodeVerifyJWKS(t *testing.T) {
	k := newDecKeys(t)
	signed := map[string]string{
		"RS256": decSign(t, jwt.SigningMethodRS256, "rsa-1", k.rsa),
		"ES256": decSign(t, jwt.SigningMethodES256, "ec-1", k.ec),
		"EdDSA": decSign(t, jwt.SigningMethodEdDSA, "ed-1", k.ed),
	}
	noAlgJWKS := k.set(t, false)
	for alg, tok := range signed {
		t.Run(alg+"/valid", func(t *testing.T) {
			if err := VerifyJWKS(tok, k.jwks); err != nil {
				t.Errorf("VerifyJWKS = %v", err)
			}
			if err := VerifyJWKS(tok, noAlgJWKS); err != nil {
				t.Errorf("VerifyJWKS with JWKs without alg = %v", err)
			}
		})
		tampered := []struct{ name, token, want string }{
			{"changed claims byte", tamperClaims(t, tok), "does not match"},
			{"changed signature byte", tamperSignature(t, tok), "does not match"},
			{"changed unused bits", tamperLastChar(t, tok), "not in canonical base64url"},
			{"alg none", algNone(t, tok, false), `alg "none"`},
			{"alg none with old signature", algNone(t, tok, true), `alg "none"`},
			{"stripped signature", stripSignature(tok), "signature is missing"},
		}
		for _, tt := range tampered {
			t.Run(alg+"/"+tt.name, func(t *testing.T) {
				wantInvalid(t, VerifyJWKS(tt.token, k.jwks), tt.want)
				wantInvalid(t, VerifyJWKS(tt.token, noAlgJWKS), tt.want)
			})
		}
	}

	// The classic confusion: HS256 "signed" with the public key, which the
	// attacker knows, under the RSA key's kid. A verifier that took the
	// algorithm from the token would accept it.
	pemKey := publicPEM(t, &k.rsa.PublicKey)
	confused := decSign(t, jwt.SigningMethodHS256, "rsa-1", pemKey)
	if err := VerifyHMAC(confused, string(pemKey)); err != nil {
		t.Fatalf("the forged token is not even a good HS256 token: %v", err)
	}
	others := []struct{ name, token, want string }{
		{"HS256 with RSA public key PEM", confused, `alg HS256, but key "rsa-1" is an RSA key and verifies only RS256`},
		{"HS256 with RSA PEM, JWK without alg", confused, "verifies only RS256, RS384, RS512, PS256, PS384, PS512"},
		{"HS256 with EC PEM", decSign(t, jwt.SigningMethodHS256, "ec-1", publicPEM(t, &k.ec.PublicKey)), `key "ec-1" is an EC key and verifies only ES256`},
		{"wrong kid", decSign(t, jwt.SigningMethodRS256, "rsa-2", k.rsa), `no key in the JWKS has the token's kid "rsa-2"`},
		{"kid of another key", decSign(t, jwt.SigningMethodES256, "rsa-1", k.ec), "alg ES256, but key \"rsa-1\""},
		{"right alg, other key of same type", decSign(t, jwt.SigningMethodEdDSA, "ed-1", ed25519.NewKeyFromSeed(make([]byte, 32))), "does not match"},
		{"no kid, signed by a stranger", decSign(t, jwt.SigningMethodES256, "", mustEC(t)), "no key in the JWKS verifies the token"},
	}
	for _, tt := range others {
		t.Run(tt.name, func(t *testing.T) {
			set := k.jwks
			if strings.Contains(tt.name, "without alg") {
				set = noAlgJWKS
			}
			wantInvalid(t, VerifyJWKS(tt.token, set), tt.want)
		})
	}

	t.Run("no kid, key found by trying", func(t *testing.T) {
		if err := VerifyJWKS(decSign(t, jwt.SigningMethodES256, "", k.ec), k.jwks); err != nil {
			t.Errorf("VerifyJWKS = %v", err)
		}
	})
	t.Run("single JWK instead of a set", func(t *testing.T) {
		var set struct{ Keys []json.RawMessage }
		json.Unmarshal(k.jwks, &set)
		if err := VerifyJWKS(signed["EdDSA"], set.Keys[2]); err != nil {
			t.Errorf("VerifyJWKS = %v", err)
		}
	})
}

func mustEC(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func TestDecodeVerifyJWKSUnusableKeys(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	tok := decSign(t, jwt.SigningMethodEdDSA, "k", ed)
	x := b64(ed.Public().(ed25519.PublicKey))
	tests := []struct {
		name, jwks string
		bad        bool // ErrBadJWKS rather than ErrInvalidSignature
		want       string
	}{
		{"not JSON", `nope`, true, "the JWKS is not a JSON object"},
		{"no keys", `{"keys":[]}`, true, "the JWKS has no keys"},
		{"keys not an array", `{"keys":{}}`, true, "not a JSON object with a keys array"},
		{"key not an object", `{"keys":[1]}`, true, "key 1 of the JWKS is not a JWK object"},
		{"encryption key", `{"keys":[{"kty":"OKP","crv":"Ed25519","use":"enc","kid":"k","x":"` + x + `"}]}`, false, `it is for "enc"`},
		{"alg that does not fit", `{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"HS256","kid":"k","x":"` + x + `"}]}`, false, "its alg HS256 does not fit an OKP key"},
		{"secret key", `{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"}]}`, false, "shared secret (kty oct)"},
		{"short x", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"AAAA"}]}`, false, "not a 32-byte Ed25519 public key"},
		{"point off the curve", `{"keys":[{"kty":"EC","crv":"P-256","kid":"k","x":"AQ","y":"AQ"}]}`, false, "its point is not on P-256"},
		{"small RSA", `{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]}`, false, "its modulus has 17 bits"},
		{"no kty", `{"keys":[{"kid":"k"}]}`, false, "it has no kty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyJWKS(tok, []byte(tt.jwks))
			if tt.bad {
				if !errors.Is(err, ErrBadJWKS) || errors.Is(err, ErrInvalidSignature) {
					t.Fatalf("error %v: want ErrBadJWKS only", err)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error = %q, want %q", err, tt.want)
				}
				return
			}
			wantInvalid(t, err, tt.want)
		})
	}
}

func FuzzDecode(f *testing.F) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	good := decSign(f, jwt.SigningMethodEdDSA, "ed-1", ed)
	jwks := `{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"ed-1","x":"` + b64(ed.Public().(ed25519.PublicKey)) + `"}]}`
	for _, s := range []string{good, stripSignature(good), algNone(f, good, false), "", ".", "..", "a.b.c", "e30.e30.",
		decToken(`{"alg":"HS256"}`, `{"exp":1e400,"iat":"x","nbf":-1e20}`, nil), "a.b.c.d.e", "eyJ.eyJ.x=="} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Decode(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode error %v does not wrap ErrMalformed", err)
			}
			return
		}
		_ = d.Kind()
		for _, tc := range d.Times(now) {
			if tc.Problem == "" && tc.Relative == "" {
				t.Fatalf("time claim %s has neither a phrase nor a problem", tc.Claim)
			}
		}
		for _, err := range []error{VerifyHMAC(s, "secret"), VerifyJWKS(s, []byte(jwks))} {
			if err != nil && !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("verification error %v is not ErrInvalidSignature", err)
			}
		}
	})
}

func TestPrintable(t *testing.T) {
	cases := map[string]string{
		"alice":                   "alice",
		"é ü 日本":                  "é ü 日本",
		"a\x1b[2Jb":               `a\u001b[2Jb`,
		"\u202eevil\u202c":        `\u202eevil\u202c`,
		"x\u009b2Jy":              `x\u009b2Jy`,
		"l\u2066i\u2069r\u200em":  `l\u2066i\u2069r\u200em`,
		"line\nbreak\ttab\r":      `line\u000abreak\u0009tab\u000d`,
		string([]byte{0xff, 'a'}): `\ufffda`,
	}
	for in, want := range cases {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}
