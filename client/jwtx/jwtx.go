// Package jwtx reads JWTs without trusting them (header, claims, times in
// words) and verifies their signatures with a shared secret or a JWK set.
// It never talks to a server and never holds a session: the auth client
// (package client) and the CLI, TUI and scenarios use it to show tokens.
package jwtx

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tokenlab/tokenlab/internal/termtext"
)

// Sentinels of decoding and verification.
var (
	// ErrMalformed means the text is not a JWT that can be read at all.
	ErrMalformed = errors.New("malformed JWT")
	// ErrInvalidSignature means the token is readable but its signature
	// does not hold: changed, unsigned, signed with another key or with an
	// algorithm the key does not allow.
	ErrInvalidSignature = errors.New("invalid signature")
	// ErrBadJWKS means the key set cannot be used to verify anything.
	ErrBadJWKS = errors.New("unusable JWKS")
)

// tokenError carries a message for people and a sentinel for callers.
type tokenError struct {
	kind  error // ErrMalformed, ErrInvalidSignature or ErrBadJWKS
	msg   string
	cause error
}

func (e *tokenError) Error() string { return e.msg }
func (e *tokenError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

func malformedf(format string, args ...any) error {
	return &tokenError{kind: ErrMalformed, msg: fmt.Sprintf(format, args...)}
}

func invalidf(format string, args ...any) error {
	return &tokenError{kind: ErrInvalidSignature, msg: fmt.Sprintf(format, args...)}
}

func badJWKSf(format string, args ...any) error {
	return &tokenError{kind: ErrBadJWKS, msg: fmt.Sprintf(format, args...)}
}

// Decoded is a JWT's header and claims, read without checking the signature.
type Decoded struct {
	Header map[string]any // numbers as json.Number
	Claims map[string]any // numbers as json.Number
	// RawHeader and RawClaims are the JSON as the issuer wrote it, in its
	// key order, for display.
	RawHeader, RawClaims json.RawMessage
	Signature            []byte
}

// Decode reads a JWT's header and claims without verifying it. The error
// wraps ErrMalformed and says which part is wrong.
func Decode(token string) (Decoded, error) {
	var d Decoded
	if token == "" {
		return d, malformedf("the token is empty")
	}
	parts := strings.Split(token, ".")
	switch n := len(parts); {
	case n == 5:
		return d, malformedf("this is an encrypted JWT (JWE, five parts); it cannot be read without the recipient's key")
	case n != 3:
		return d, malformedf("not a JWT: it has %d dot-separated part%s, and a JWT has three (header.claims.signature)", n, plural(n))
	}
	var err error
	if d.RawHeader, d.Header, err = decodeObject("header", parts[0]); err != nil {
		return d, err
	}
	if d.RawClaims, d.Claims, err = decodeObject("claims", parts[1]); err != nil {
		return d, err
	}
	if d.Signature, err = decodeSegment(parts[2]); err != nil {
		return d, malformedf("malformed JWT: the signature is not base64url (%v)", err)
	}
	return d, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// decodeSegment reads base64url, with or without padding.
func decodeSegment(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// decodeObject reads one base64url JSON-object part of a JWT.
func decodeObject(name, seg string) (json.RawMessage, map[string]any, error) {
	if seg == "" {
		return nil, nil, malformedf("malformed JWT: the %s part is empty", name)
	}
	is, has, its := "is", "has", "its"
	if name == "claims" {
		is, has, its = "are", "have", "their"
	}
	raw, err := decodeSegment(seg)
	if err != nil {
		return nil, nil, malformedf("malformed JWT: the %s %s not base64url (%v)", name, is, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, malformedf("malformed JWT: the %s %s not JSON (it ends too early)", name, is)
		}
		return nil, nil, malformedf("malformed JWT: the %s %s not JSON (%v)", name, is, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, malformedf("malformed JWT: the %s %s more after %s JSON object", name, has, its)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, nil, malformedf("malformed JWT: the %s %s a JSON %s, not an object", name, is, jsonKind(v))
	}
	return json.RawMessage(raw), obj, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return "value"
}

// Alg is the header's alg, or "" when there is none.
func (d Decoded) Alg() string { return d.headerString("alg") }

// Kid is the header's kid, or "".
func (d Decoded) Kid() string { return d.headerString("kid") }

// Typ is the header's typ, or "".
func (d Decoded) Typ() string { return d.headerString("typ") }

func (d Decoded) headerString(name string) string {
	s, _ := d.Header[name].(string)
	return s
}

// Kind says what the header's typ makes of the token: "access token"
// (at+jwt, RFC 9068), "refresh token" (rt+jwt), "JWT" (a generic typ), or
// "" when typ is missing or unknown.
func (d Decoded) Kind() string {
	typ := strings.ToLower(d.Typ())
	typ = strings.TrimPrefix(typ, "application/") // RFC 8725 §3.11 allows the full media type
	switch typ {
	case "at+jwt":
		return "access token"
	case "rt+jwt":
		return "refresh token"
	case "jwt":
		return "JWT"
	}
	return ""
}

// TimeClaim is one of a token's time claims judged against a moment.
type TimeClaim struct {
	Claim    string    // "iat", "nbf" or "exp"
	At       time.Time // in UTC; zero when Problem is set
	Relative string    // "expires in 14m 52s", "expired 3m ago", "issued 5s ago", ...
	Problem  string    // set when the claim is not a usable NumericDate
}

// maxNumericDate is the end of year 9999, beyond which a date is nonsense.
const maxNumericDate = 253402300799

// Times returns the iat, nbf and exp claims that are present, in that
// order, described relative to now.
func (d Decoded) Times(now time.Time) []TimeClaim {
	var out []TimeClaim
	for _, name := range []string{"iat", "nbf", "exp"} {
		v, ok := d.Claims[name]
		if !ok {
			continue
		}
		tc := TimeClaim{Claim: name}
		sec, ok := numericDate(v)
		if !ok {
			tc.Problem = fmt.Sprintf("%s is not a NumericDate (seconds since 1970): %s", name, jsonText(v))
			out = append(out, tc)
			continue
		}
		if math.Abs(sec) > maxNumericDate {
			tc.Problem = fmt.Sprintf("%s is out of range: %s", name, jsonText(v))
			out = append(out, tc)
			continue
		}
		whole, frac := math.Modf(sec)
		tc.At = time.Unix(int64(whole), int64(frac*1e9)).UTC()
		tc.Relative = relative(name, tc.At, now)
		out = append(out, tc)
	}
	return out
}

// Expiry is the token's exp as a time; zero when it has none usable.
func (d Decoded) Expiry() time.Time {
	for _, t := range d.Times(time.Time{}) {
		if t.Claim == "exp" && t.Problem == "" {
			return t.At
		}
	}
	return time.Time{}
}

func numericDate(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// relative phrases a time claim for a person.
func relative(claim string, at, now time.Time) string {
	ahead := at.Sub(now) // > 0: at is in the future
	past := ahead <= 0
	d := HumanDuration(ahead.Abs())
	soon := ahead.Abs() < time.Second
	switch claim {
	case "exp":
		switch {
		case past && soon:
			return "expired just now"
		case past:
			return "expired " + d + " ago"
		case soon:
			return "expires in under a second"
		}
		return "expires in " + d
	case "iat":
		switch {
		case soon:
			return "issued just now"
		case past:
			return "issued " + d + " ago"
		}
		return "issued in the future (" + d + " from now)"
	case "nbf":
		switch {
		case past && soon:
			return "valid from just now"
		case past:
			return "valid from " + d + " ago"
		case soon:
			return "not valid yet (valid in under a second)"
		}
		return "not valid yet (valid in " + d + ")"
	}
	return ""
}

// HumanDuration writes d, rounded down to the second, in its two largest
// units, leaving out a zero second one: "14m 52s", "3m", "2h 5m", "7d",
// "1d 3h", "45s", "0s".
func HumanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	secs := int64(d / time.Second)
	units := []struct {
		name string
		size int64
	}{{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}}
	for i, u := range units {
		if secs < u.size && u.size > 1 {
			continue
		}
		out := fmt.Sprintf("%d%s", secs/u.size, u.name)
		if i+1 < len(units) {
			next := units[i+1]
			if rest := secs % u.size / next.size; rest > 0 {
				out += fmt.Sprintf(" %d%s", rest, next.name)
			}
		}
		return out
	}
	return "0s"
}

// hmacAlgs are the algorithms a shared secret may verify.
var hmacAlgs = []string{"HS256", "HS384", "HS512"}

// VerifyHMAC checks the token's signature with a shared secret. It does
// not check exp or any other claim. A token signed some other way, unsigned
// or changed gives an error wrapping ErrInvalidSignature; an unreadable
// one, ErrMalformed.
func VerifyHMAC(token, secret string) error {
	d, err := Decode(token)
	if err != nil {
		return err
	}
	if err := checkSigned(token, d); err != nil {
		return err
	}
	alg := d.Alg()
	if !slices.Contains(hmacAlgs, alg) {
		return invalidf("the token says alg %s, which a shared secret cannot verify (a secret verifies only HS256, HS384 or HS512)", alg)
	}
	if secret == "" {
		return invalidf("the secret is empty")
	}
	return verifyWith(token, alg, []byte(secret))
}

// checkSigned rejects what no key may verify: alg none, empty signatures,
// and text that is not the one encoding of its bytes. Base64url leaves a
// few bits unused in a part's last character, so changing it there would
// otherwise go unnoticed; a JWS is compared as text, so it must not.
func checkSigned(token string, d Decoded) error {
	alg, ok := d.Header["alg"].(string)
	switch {
	case !ok || alg == "":
		return invalidf("the header has no alg, so nothing says how the token was signed")
	case strings.EqualFold(alg, "none"):
		return invalidf("the token says alg %q: it is unsigned, and an unsigned token is never accepted", alg)
	case len(d.Signature) == 0:
		return invalidf("the signature is missing (the token ends with a dot and nothing after it)")
	}
	strict := base64.RawURLEncoding.Strict()
	for i, part := range strings.Split(token, ".") {
		name := [...]string{"header", "claims", "signature"}[i]
		if strings.Contains(part, "=") {
			return invalidf("the %s part has base64 padding (=), which a signed JWT never has", name)
		}
		if _, err := strict.DecodeString(part); err != nil {
			return invalidf("the %s part is not in canonical base64url: its last character has stray bits set, so it was changed", name)
		}
	}
	return nil
}

// verifyWith checks the signature with one key for one pinned algorithm.
func verifyWith(token, alg string, key any) error {
	p := jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithoutClaimsValidation())
	_, err := p.Parse(token, func(*jwt.Token) (any, error) { return key, nil })
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return &tokenError{kind: ErrInvalidSignature, cause: err,
			msg: "the signature does not match: the token was changed after signing, or signed with another key"}
	case errors.Is(err, jwt.ErrTokenMalformed):
		return &tokenError{kind: ErrInvalidSignature, cause: err, msg: "the token cannot be checked: " + err.Error()}
	}
	return &tokenError{kind: ErrInvalidSignature, cause: err, msg: err.Error()}
}

// jwk is one usable (or not) key of a JWKS.
type jwk struct {
	kid, kty string
	algs     []string // the algorithms this key may verify
	key      any      // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	problem  string   // why the key cannot be used, when it cannot
}

// rawJWK is a JWK as JSON (RFC 7517, 7518, 8037).
type rawJWK struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// VerifyJWKS checks the token's signature with the key of its kid in a JWK
// set (or with each key when the token has no kid). The algorithm is
// pinned to the key: its alg when the JWK has one, otherwise what its type
// and curve allow. It does not check exp or any other claim. Errors wrap
// ErrInvalidSignature (the token does not verify), ErrMalformed (the token
// cannot be read) or ErrBadJWKS (the key set cannot be read).
func VerifyJWKS(token string, jwks []byte) error {
	d, err := Decode(token)
	if err != nil {
		return err
	}
	keys, err := parseJWKS(jwks)
	if err != nil {
		return err
	}
	if err := checkSigned(token, d); err != nil {
		return err
	}
	alg, kid := d.Alg(), d.Kid()
	candidates := keys
	if _, has := d.Header["kid"]; has {
		candidates = nil
		for _, k := range keys {
			if k.kid == kid {
				candidates = append(candidates, k)
			}
		}
		if len(candidates) == 0 {
			return invalidf("no key in the JWKS has the token's kid %q (it has %s)", kid, kidList(keys))
		}
	}
	var reasons []string
	for _, k := range candidates {
		switch {
		case k.problem != "":
			reasons = append(reasons, k.problem)
		case !slices.Contains(k.algs, alg):
			reasons = append(reasons, fmt.Sprintf("the token says alg %s, but key %s is %s and verifies only %s",
				alg, keyName(k), article(k.kty), strings.Join(k.algs, ", ")))
		default:
			err := verifyWith(token, alg, k.key)
			if err == nil {
				return nil
			}
			if len(candidates) == 1 {
				return err
			}
			reasons = append(reasons, fmt.Sprintf("key %s: %v", keyName(k), err))
		}
	}
	if len(reasons) == 1 {
		return invalidf("%s", reasons[0])
	}
	return invalidf("no key in the JWKS verifies the token: %s", strings.Join(reasons, "; "))
}

func article(kty string) string {
	switch kty {
	case "RSA":
		return "an RSA key"
	case "EC":
		return "an EC key"
	case "OKP":
		return "an OKP key"
	}
	return "a " + kty + " key"
}

func keyName(k jwk) string {
	if k.kid == "" {
		return "(no kid)"
	}
	return fmt.Sprintf("%q", k.kid)
}

func kidList(keys []jwk) string {
	var kids []string
	for _, k := range keys {
		kids = append(kids, keyName(k))
	}
	if len(kids) > 5 {
		kids = append(kids[:5], "…")
	}
	return strings.Join(kids, ", ")
}

// parseJWKS reads {"keys":[...]} or a single JWK object.
func parseJWKS(data []byte) ([]jwk, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
		Kty  string            `json:"kty"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, &tokenError{kind: ErrBadJWKS, cause: err, msg: fmt.Sprintf("the JWKS is not a JSON object with a keys array (%v)", err)}
	}
	if set.Keys == nil && set.Kty != "" {
		set.Keys = []json.RawMessage{data}
	}
	if len(set.Keys) == 0 {
		return nil, badJWKSf("the JWKS has no keys")
	}
	keys := make([]jwk, 0, len(set.Keys))
	for i, raw := range set.Keys {
		var r rawJWK
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, &tokenError{kind: ErrBadJWKS, cause: err, msg: fmt.Sprintf("key %d of the JWKS is not a JWK object (%v)", i+1, err)}
		}
		keys = append(keys, r.parse())
	}
	return keys, nil
}

// parse turns a JWK into a public key with the algorithms it may verify.
// A key that cannot be used carries the reason instead.
func (r rawJWK) parse() jwk {
	k := jwk{kid: r.Kid, kty: r.Kty}
	fail := func(format string, args ...any) jwk {
		k.problem = fmt.Sprintf("key %s: ", keyName(k)) + fmt.Sprintf(format, args...)
		k.key, k.algs = nil, nil
		return k
	}
	if r.Use != "" && r.Use != "sig" {
		return fail("it is for %q, not for signatures", r.Use)
	}
	switch r.Kty {
	case "RSA":
		n, err1 := decodeSegment(r.N)
		e, err2 := decodeSegment(r.E)
		if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return fail("its n or e is not a base64url number")
		}
		if bits := new(big.Int).SetBytes(n).BitLen(); bits < 1024 || bits > 16384 {
			return fail("its modulus has %d bits; an RSA key needs 1024 to 16384 (2048 or more is safe)", bits)
		}
		exp := new(big.Int).SetBytes(e).Int64()
		if exp < 3 || exp%2 == 0 {
			return fail("its exponent %d is not a usable RSA exponent", exp)
		}
		k.key = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp)}
		k.algs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	case "EC":
		curves := map[string]struct {
			curve elliptic.Curve
			alg   string
		}{"P-256": {elliptic.P256(), "ES256"}, "P-384": {elliptic.P384(), "ES384"}, "P-521": {elliptic.P521(), "ES512"}}
		c, ok := curves[r.Crv]
		if !ok {
			return fail("its curve %q is not P-256, P-384 or P-521", r.Crv)
		}
		size := (c.curve.Params().BitSize + 7) / 8
		x, err1 := decodeSegment(r.X)
		y, err2 := decodeSegment(r.Y)
		if err1 != nil || err2 != nil || len(x) > size || len(y) > size {
			return fail("its x or y is not a base64url coordinate of %s", r.Crv)
		}
		point := append([]byte{4}, leftPad(x, size)...)
		point = append(point, leftPad(y, size)...)
		pub, err := ecdsa.ParseUncompressedPublicKey(c.curve, point)
		if err != nil {
			return fail("its point is not on %s", r.Crv)
		}
		k.key, k.algs = pub, []string{c.alg}
	case "OKP":
		if r.Crv != "Ed25519" {
			return fail("its curve %q is not Ed25519", r.Crv)
		}
		x, err := decodeSegment(r.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return fail("its x is not a 32-byte Ed25519 public key")
		}
		k.key, k.algs = ed25519.PublicKey(x), []string{"EdDSA"}
	case "oct":
		return fail("it is a shared secret (kty oct), which has no place in a published JWKS")
	case "":
		return fail("it has no kty")
	default:
		return fail("its type %q is not RSA, EC or OKP", r.Kty)
	}
	if r.Alg != "" {
		if !slices.Contains(k.algs, r.Alg) {
			return fail("its alg %s does not fit %s", r.Alg, article(r.Kty))
		}
		k.algs = []string{r.Alg}
	}
	return k
}

func leftPad(b []byte, size int) []byte {
	if len(b) >= size {
		return b
	}
	return append(make([]byte, size-len(b)), b...)
}

// Printable makes untrusted text (a token's header, claims, kid) safe to
// show in a terminal: control characters (which could move the cursor,
// rewrite lines or set the title) and bidirectional overrides and
// isolates (which could make text read differently from what it is,
// CVE-2021-42574) are written as \uXXXX escapes. Everything else, and so
// valid JSON, is left as it is.
// The rule is termtext's, shared by everything that shows such text.
func Printable(s string) string { return termtext.Escape(s) }
