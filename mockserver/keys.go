package mockserver

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"

	"github.com/golang-jwt/jwt/v5"
)

// Supported signing algorithms.
var algorithms = map[string]jwt.SigningMethod{
	"HS256": jwt.SigningMethodHS256,
	"RS256": jwt.SigningMethodRS256,
	"ES256": deterministicES256{jwt.SigningMethodES256},
	"EdDSA": jwt.SigningMethodEdDSA,
}

// settingStore is what key loading needs from the database.
type settingStore interface {
	SettingOrInit(ctx context.Context, key string, value []byte) ([]byte, error)
}

// signer signs and verifies one kind of token (access or refresh) with one
// pinned algorithm and key.
type signer struct {
	alg    string
	kid    string
	method jwt.SigningMethod
	sign   any              // []byte or crypto.Signer
	verify any              // []byte or crypto.PublicKey
	public crypto.PublicKey // nil for HMAC: never published
}

// loadSigner returns the signer for purpose ("access" or "refresh"). An
// HMAC secret comes from the configuration when set; otherwise the key is
// generated once and kept in the database, so tokens survive restarts.
func loadSigner(ctx context.Context, db settingStore, purpose, alg, secret string) (*signer, error) {
	method, ok := algorithms[alg]
	if !ok {
		return nil, fmt.Errorf("unsupported algorithm %q (want HS256, RS256, ES256 or EdDSA)", alg)
	}
	s := &signer{alg: alg, method: method}
	if alg == "HS256" {
		key := []byte(secret)
		if secret == "" {
			var err error
			if key, err = db.SettingOrInit(ctx, purpose+"_hs256_secret", randomBytes(32)); err != nil {
				return nil, fmt.Errorf("load %s secret: %w", purpose, err)
			}
		}
		s.sign, s.verify = key, key
		s.kid = keyID(purpose, key)
		return s, nil
	}
	if secret != "" {
		return nil, fmt.Errorf("a %s secret applies only to HS256, not %s", purpose, alg)
	}
	fresh, err := generateKey(alg)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(fresh)
	if err != nil {
		return nil, err
	}
	if der, err = db.SettingOrInit(ctx, purpose+"_"+alg+"_key", der); err != nil {
		return nil, fmt.Errorf("load %s key: %w", purpose, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("stored %s key is unreadable: %w", purpose, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("stored %s key is not a signing key", purpose)
	}
	s.sign, s.verify, s.public = priv, priv.Public(), priv.Public()
	pub, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return nil, err
	}
	s.kid = keyID(purpose, pub)
	return s, nil
}

// generateKey makes a key for alg. Generating one for an algorithm already
// in the database is wasted work only at start-up.
func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case "RS256":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, fmt.Errorf("no key type for %s", alg)
}

// keyID derives a stable, non-secret key ID.
func keyID(purpose string, material []byte) string {
	sum := sha256.Sum256(append([]byte("tokenlab "+purpose+" "), material...))
	return purpose[:1] + "-" + hex.EncodeToString(sum[:8])
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics instead on broken systems)
	return b
}

// jwk is one key of a JWKS document (RFC 7517).
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// jwk returns the public key as a JWK, or false for secret keys.
func (s *signer) jwk() (jwk, bool) {
	b64 := base64.RawURLEncoding.EncodeToString
	k := jwk{Use: "sig", Alg: s.alg, Kid: s.kid}
	switch pub := s.public.(type) {
	case *rsa.PublicKey:
		k.Kty, k.N, k.E = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		raw, err := pub.Bytes() // 0x04 || X || Y, each padded to the curve size
		if err != nil {
			return k, false
		}
		size := (len(raw) - 1) / 2
		k.Kty, k.Crv, k.X, k.Y = "EC", "P-256", b64(raw[1:1+size]), b64(raw[1+size:])
	case ed25519.PublicKey:
		k.Kty, k.Crv, k.X = "OKP", "Ed25519", b64(pub)
	default:
		return k, false
	}
	return k, true
}
