package mockserver

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// jwksKey is one key of a JWKS document as a client sees it (RFC 7517,
// 7518 §6, 8037). It is declared here, not borrowed from the server, so the
// test reads the document the way a stranger would.
type jwksKey struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// jwksPublicKey builds the public key of k from its JWK fields alone, with
// the standard library.
func jwksPublicKey(k jwksKey) (crypto.PublicKey, error) {
	b64 := base64.RawURLEncoding.Strict().DecodeString
	switch k.Kty {
	case "RSA":
		n, err := b64(k.N)
		if err != nil || len(n) == 0 {
			return nil, fmt.Errorf("RSA n: %v", err)
		}
		e, err := b64(k.E)
		if err != nil || len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("RSA e %q: %v", k.E, err)
		}
		exp := new(big.Int).SetBytes(e)
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}, nil
	case "EC":
		if k.Crv != "P-256" {
			return nil, fmt.Errorf("EC curve %q, want P-256", k.Crv)
		}
		x, errX := b64(k.X)
		y, errY := b64(k.Y)
		if err := errors.Join(errX, errY); err != nil || len(x) != 32 || len(y) != 32 {
			return nil, fmt.Errorf("EC x (%d bytes), y (%d bytes): %v", len(x), len(y), err)
		}
		point := append(append([]byte{4}, x...), y...)
		return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	case "OKP":
		if k.Crv != "Ed25519" {
			return nil, fmt.Errorf("OKP curve %q, want Ed25519", k.Crv)
		}
		x, err := b64(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("Ed25519 x (%d bytes): %v", len(x), err)
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, fmt.Errorf("unknown kty %q", k.Kty)
}

// fetchJWKS reads /.well-known/jwks.json and returns its keys by kid, with
// the JWKs themselves.
func (ts *testServer) fetchJWKS(tb testing.TB) (map[string]crypto.PublicKey, map[string]jwksKey, []byte) {
	tb.Helper()
	r := ts.do(tb, http.MethodGet, "/.well-known/jwks.json", nil)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		tb.Fatalf("jwks: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
	}
	var doc struct {
		Keys []jwksKey `json:"keys"`
	}
	if err := json.Unmarshal(r.Raw, &doc); err != nil {
		tb.Fatalf("jwks: %v: %s", err, r.Raw)
	}
	keys := map[string]crypto.PublicKey{}
	jwks := map[string]jwksKey{}
	for _, k := range doc.Keys {
		if _, dup := keys[k.Kid]; dup || k.Kid == "" {
			tb.Fatalf("jwks: empty or repeated kid %q: %s", k.Kid, r.Raw)
		}
		pub, err := jwksPublicKey(k)
		if err != nil {
			tb.Fatalf("jwks: key %s: %v", k.Kid, err)
		}
		keys[k.Kid], jwks[k.Kid] = pub, k
	}
	return keys, jwks, r.Raw
}

// publicKeyEncodings are the byte strings an attacker might try as an HMAC
// secret for pub: PKIX DER and PEM, and the key's other usual encodings.
func publicKeyEncodings(tb testing.TB, pub crypto.PublicKey) map[string][]byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][]byte{
		"PKIX DER": der,
		"PKIX PEM": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		pkcs1 := x509.MarshalPKCS1PublicKey(k)
		out["PKCS1 DER"] = pkcs1
		out["PKCS1 PEM"] = pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1})
	case *ecdsa.PublicKey:
		raw, err := k.Bytes()
		if err != nil {
			tb.Fatal(err)
		}
		out["uncompressed point"] = raw
	case ed25519.PublicKey:
		out["raw key"] = []byte(k)
	}
	return out
}

// kidKeyfunc selects a key by the kid in the token's header.
func kidKeyfunc(keys map[string]crypto.PublicKey) jwt.Keyfunc {
	return func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		if k, ok := keys[kid]; ok {
			return k, nil
		}
		return nil, fmt.Errorf("no key with kid %q", kid)
	}
}

var jwksAlgs = []struct {
	alg, kty, crv string
}{
	{"RS256", "RSA", ""},
	{"ES256", "EC", "P-256"},
	{"EdDSA", "OKP", "Ed25519"},
	{"HS256", "", ""},
}

// TestJWKS checks, for every algorithm, that the published keys alone (as a
// stranger would build them) verify the server's access and refresh tokens.
func TestJWKS(t *testing.T) {
	for _, tc := range jwksAlgs {
		t.Run(tc.alg, func(t *testing.T) {
			ts := newTestServer(t, func(c *Config) { c.Alg = tc.alg })
			access, refresh := ts.login(t)
			keys, jwks, raw := ts.fetchJWKS(t)

			// Whatever --alg says, the RS256 key of ID tokens is there
			// (OIDC Discovery §3); the rest are the access and refresh keys.
			for kid, k := range jwks {
				if strings.HasPrefix(kid, "i-") {
					if k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" {
						t.Errorf("ID-token key %s: %+v, want RSA RS256 sig", kid, k)
					}
					delete(jwks, kid)
				}
			}
			if tc.alg == "HS256" {
				if len(jwks) != 0 || bytes.Contains(raw, []byte(`"k":`)) {
					t.Fatalf("HS256 must publish no key but the ID tokens': %s", raw)
				}
				if _, err := jwt.Parse(access, kidKeyfunc(keys), jwt.WithValidMethods([]string{"HS256"})); err == nil {
					t.Fatal("an HS256 token verified with the empty JWKS")
				}
				return
			}

			if len(jwks) != 2 {
				t.Fatalf("want an access and a refresh key, got %d: %s", len(jwks), raw)
			}
			for _, private := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`, `"k"`} {
				if bytes.Contains(raw, []byte(private+":")) {
					t.Errorf("the JWKS holds the private member %s: %s", private, raw)
				}
			}
			for kid, k := range jwks {
				if k.Kty != tc.kty || k.Crv != tc.crv || k.Alg != tc.alg || k.Use != "sig" {
					t.Errorf("key %s: kty=%q crv=%q alg=%q use=%q, want kty=%q crv=%q alg=%q use=sig",
						kid, k.Kty, k.Crv, k.Alg, k.Use, tc.kty, tc.crv, tc.alg)
				}
			}

			parse := func(raw string, keys map[string]crypto.PublicKey, extra ...jwt.ParserOption) (*jwt.Token, jwt.MapClaims, error) {
				claims := jwt.MapClaims{}
				tok, err := jwt.ParseWithClaims(raw, claims, kidKeyfunc(keys), append([]jwt.ParserOption{
					jwt.WithValidMethods([]string{tc.alg}),
					jwt.WithIssuer(ts.URL),
					jwt.WithExpirationRequired(),
					jwt.WithTimeFunc(ts.Clock.Now),
				}, extra...)...)
				return tok, claims, err
			}
			tokens := []struct {
				name, raw, typ, claim, want string
				extra                       []jwt.ParserOption
			}{
				{"access", access, "at+jwt", "username", "alice", []jwt.ParserOption{jwt.WithAudience("tokenlab")}},
				{"refresh", refresh, "rt+jwt", "fid", "", nil},
			}
			kids := map[string]string{}
			for _, tok := range tokens {
				parsed, claims, err := parse(tok.raw, keys, tok.extra...)
				if err != nil {
					t.Fatalf("%s token does not verify with the JWKS: %v", tok.name, err)
				}
				if typ, _ := parsed.Header["typ"].(string); typ != tok.typ {
					t.Errorf("%s token typ %q, want %q", tok.name, typ, tok.typ)
				}
				got, _ := claims[tok.claim].(string)
				if got == "" || (tok.want != "" && got != tok.want) {
					t.Errorf("%s token claim %s = %q, want %q", tok.name, tok.claim, got, tok.want)
				}
				kid := parsed.Header["kid"].(string)
				kids[tok.name] = kid

				// The other key must not verify it: access and refresh
				// tokens are signed with different keys. others maps this
				// token's kid to the other key.
				others := map[string]crypto.PublicKey{}
				for k, pub := range keys {
					if k != kid {
						others[kid] = pub
					}
				}
				if _, _, err := parse(tok.raw, others, tok.extra...); !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
					t.Errorf("%s token verified with the other key (err %v)", tok.name, err)
				}
			}
			if kids["access"] == kids["refresh"] {
				t.Errorf("access and refresh tokens share the kid %s", kids["access"])
			}

			// The server's own verification of both keeps working.
			if r := ts.do(t, http.MethodGet, "/protected", nil, bearerHeader(access)...); r.Status != http.StatusOK {
				t.Fatalf("protected: %d %s", r.Status, r.Raw)
			}
		})
	}
}

// TestJWKSDiscovery follows every endpoint the discovery documents name.
func TestJWKSDiscovery(t *testing.T) {
	for _, tc := range jwksAlgs {
		t.Run(tc.alg, func(t *testing.T) {
			ts := newTestServer(t, openIntrospection, func(c *Config) { c.Alg = tc.alg })
			for _, doc := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
				t.Run(strings.TrimPrefix(doc, "/.well-known/"), func(t *testing.T) {
					r := ts.do(t, http.MethodGet, doc, nil)
					if r.Status != http.StatusOK {
						t.Fatalf("%s: %d %s", doc, r.Status, r.Raw)
					}
					want := map[string]string{
						"issuer":                 ts.URL,
						"token_endpoint":         ts.URL + "/oauth/token",
						"revocation_endpoint":    ts.URL + "/oauth/revoke",
						"introspection_endpoint": ts.URL + "/oauth/introspect",
						"jwks_uri":               ts.URL + "/.well-known/jwks.json",
					}
					for k, v := range want {
						if got := r.str(k); got != v {
							t.Errorf("%s = %q, want %q", k, got, v)
						}
					}
					grants := stringsOf(r.Body["grant_types_supported"])
					if !slices.Contains(grants, "password") || !slices.Contains(grants, "refresh_token") {
						t.Errorf("grant_types_supported = %v", grants)
					}
					if algs := stringsOf(r.Body["id_token_signing_alg_values_supported"]); !slices.Equal(algs, []string{"RS256"}) {
						t.Errorf("id_token_signing_alg_values_supported = %v, want [RS256] whatever --alg is", algs)
					}

					// Follow the endpoints: each must answer as its name says.
					path := func(key string) string { return strings.TrimPrefix(r.str(key), ts.URL) }
					tok := ts.form(t, path("token_endpoint"), "grant_type", "password", "username", "alice", "password", "password123")
					if tok.Status != http.StatusOK || tok.str("access_token") == "" {
						t.Fatalf("token_endpoint: %d %s", tok.Status, tok.Raw)
					}
					in := ts.form(t, path("introspection_endpoint"), "token", tok.str("refresh_token"))
					if in.Status != http.StatusOK || in.Body["active"] != true || in.str("token_type") != "refresh_token" {
						t.Fatalf("introspection_endpoint: %d %s", in.Status, in.Raw)
					}
					if rv := ts.form(t, path("revocation_endpoint"), "token", tok.str("refresh_token")); rv.Status != http.StatusOK {
						t.Fatalf("revocation_endpoint: %d %s", rv.Status, rv.Raw)
					}
					if in := ts.form(t, path("introspection_endpoint"), "token", tok.str("refresh_token")); in.Body["active"] != false {
						t.Fatalf("introspection after revocation: %d %s", in.Status, in.Raw)
					}
					jw := ts.do(t, http.MethodGet, path("jwks_uri"), nil)
					if _, ok := jw.Body["keys"].([]any); jw.Status != http.StatusOK || !ok {
						t.Fatalf("jwks_uri: %d %s", jw.Status, jw.Raw)
					}
				})
			}
		})
	}
}

func stringsOf(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestJWKSAlgorithmConfusion signs HS256 tokens with the published public
// key's bytes as the HMAC secret: a verifier that trusts the header's alg
// would accept them. The server pins its algorithm and must not.
func TestJWKSAlgorithmConfusion(t *testing.T) {
	for _, tc := range jwksAlgs {
		if tc.alg == "HS256" {
			continue
		}
		t.Run(tc.alg, func(t *testing.T) {
			ts := newTestServer(t, func(c *Config) { c.Alg = tc.alg })
			keys, _, _ := ts.fetchJWKS(t)
			accessKid, refreshKid := ts.tokens().access.kid, ts.tokens().refresh.kid
			if keys[accessKid] == nil || keys[refreshKid] == nil {
				t.Fatalf("the JWKS lacks the access (%s) or refresh (%s) key", accessKid, refreshKid)
			}
			claims := hostileAccessClaims(ts)
			// The same claims signed with the real key pass: only the
			// algorithm decides.
			if r := ts.do(t, http.MethodGet, "/protected", nil, bearerHeader(ts.forgeAccess(t, claims))...); r.Status != http.StatusOK {
				t.Fatalf("baseline: %d %s", r.Status, r.Raw)
			}
			for name, secret := range publicKeyEncodings(t, keys[accessKid]) {
				t.Run("access "+name, func(t *testing.T) {
					tok := hostileSign(t, jwt.SigningMethodHS256, secret, map[string]any{"typ": typAccess, "kid": accessKid}, claims)
					r := ts.do(t, http.MethodGet, "/protected", nil, bearerHeader(tok)...)
					if r.Status != http.StatusUnauthorized || r.str("error") != codeInvalidToken ||
						!strings.Contains(r.str("message"), `signed with "HS256"`) {
						t.Fatalf("HS256 with the public key: %d %s", r.Status, r.Raw)
					}
				})
			}
			rc := hostileRefreshClaims(ts, "fam-confusion")
			for name, secret := range publicKeyEncodings(t, keys[refreshKid]) {
				t.Run("refresh "+name, func(t *testing.T) {
					tok := hostileSign(t, jwt.SigningMethodHS256, secret, map[string]any{"typ": typRefresh, "kid": refreshKid}, rc)
					r := ts.do(t, http.MethodPost, "/token", map[string]string{"token": tok})
					if r.Status != http.StatusUnauthorized || r.str("error") != codeInvalidToken ||
						!strings.Contains(r.str("message"), `signed with "HS256"`) {
						t.Fatalf("HS256 refresh with the public key: %d %s", r.Status, r.Raw)
					}
				})
			}
		})
	}
}

// TestJWKSCrossServer hands each server the tokens of the others. Every
// server has the same issuer, so only the algorithm and key decide.
func TestJWKSCrossServer(t *testing.T) {
	const issuer = "https://tokenlab.test"
	type peer struct {
		name, alg       string
		access, refresh string
		ts              *testServer
	}
	var peers []*peer
	for _, p := range []struct{ name, alg, secret string }{
		{"HS256", "HS256", "shared-access-secret-0123456789abcdef"},
		{"HS256 same secret", "HS256", "shared-access-secret-0123456789abcdef"},
		{"HS256 other secret", "HS256", "other-access-secret-0123456789abcdef"},
		{"RS256", "RS256", ""},
		{"RS256 other key", "RS256", ""},
		{"ES256", "ES256", ""},
		{"EdDSA", "EdDSA", ""},
	} {
		ts := newTestServer(t, func(c *Config) {
			c.Alg, c.Issuer = p.alg, issuer
			if p.secret != "" {
				c.AccessSecret, c.RefreshSecret = p.secret, p.secret+"-refresh"
			}
		})
		access, refresh := ts.login(t)
		peers = append(peers, &peer{name: p.name, alg: p.alg, access: access, refresh: refresh, ts: ts})
	}
	for _, from := range peers {
		for _, to := range peers {
			if from == to {
				continue
			}
			t.Run(from.name+" to "+to.name, func(t *testing.T) {
				r := to.ts.do(t, http.MethodGet, "/protected", nil, bearerHeader(from.access)...)
				if from.name == "HS256" && to.name == "HS256 same secret" || from.name == "HS256 same secret" && to.name == "HS256" {
					// Control: same algorithm, secret and issuer, so the
					// access token passes; the refresh token verifies but
					// is unknown to the other server's database.
					if r.Status != http.StatusOK {
						t.Fatalf("a server with the same secret refused the token: %d %s", r.Status, r.Raw)
					}
					r = to.ts.do(t, http.MethodPost, "/token", map[string]string{"token": from.refresh})
					if r.Status != http.StatusUnauthorized || !strings.Contains(r.str("message"), "unknown to this server") {
						t.Fatalf("refresh token of %s at %s: %d %s", from.name, to.name, r.Status, r.Raw)
					}
					return
				}
				var want string
				switch {
				case from.alg != to.alg:
					want = fmt.Sprintf("signed with %q", from.alg)
				default:
					want = "signed with a key this server does not use"
				}
				if r.Status != http.StatusUnauthorized || r.str("error") != codeInvalidToken || !strings.Contains(r.str("message"), want) {
					t.Fatalf("access token of %s at %s: %d %s (want %q)", from.name, to.name, r.Status, r.Raw, want)
				}
				r = to.ts.do(t, http.MethodPost, "/token", map[string]string{"token": from.refresh})
				if r.Status != http.StatusUnauthorized || r.str("error") != codeInvalidToken {
					t.Fatalf("refresh token of %s at %s: %d %s", from.name, to.name, r.Status, r.Raw)
				}
			})
		}
	}
}
