package mockserver

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// ECDSA signatures are malleable: if (r, s) is valid, so is (r, n−s), a
// second spelling of the same token that its owner never saw. tokenlab
// signs only the low-s form and refuses the high-s form, so every ES256
// token it signs has one spelling (as Bitcoin's BIP 62 does).

var (
	p256Order     = elliptic.P256().Params().N
	p256HalfOrder = new(big.Int).Rsh(p256Order, 1)
)

// deterministicES256 signs ES256 with RFC 6979 nonces and the low-s form:
// the same claims always give the same bytes, so a successor signed again
// for a replay inside the grace window is the very token the first answer
// carried, as with HS256, RS256 and EdDSA. Verification is jwt's own.
type deterministicES256 struct{ *jwt.SigningMethodECDSA }

func (m deterministicES256) Sign(signingString string, key any) ([]byte, error) {
	priv, ok := key.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, errors.New("ES256 needs a P-256 private key")
	}
	digest := sha256.Sum256([]byte(signingString))
	der, err := priv.Sign(nil, digest[:], crypto.SHA256) // nil: deterministic (RFC 6979)
	if err != nil {
		return nil, err
	}
	var r, s big.Int
	var inner cryptobyte.String
	in := cryptobyte.String(der)
	if !in.ReadASN1(&inner, asn1.SEQUENCE) || !inner.ReadASN1Integer(&r) || !inner.ReadASN1Integer(&s) {
		return nil, errors.New("ES256: malformed signature")
	}
	if s.Cmp(p256HalfOrder) > 0 {
		s.Sub(p256Order, &s)
	}
	out := make([]byte, es256SigSize)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out, nil
}

// es256SigSize is an ES256 signature's length: r and s, 32 bytes each.
const es256SigSize = 64

// highS reports whether an ES256 token's signature is in the high-s
// (non-canonical) form. A malformed signature is left to the verifier.
func highS(token string) bool {
	i := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil || len(sig) != es256SigSize {
		return false
	}
	return new(big.Int).SetBytes(sig[32:]).Cmp(p256HalfOrder) > 0
}
