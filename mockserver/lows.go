package mockserver

import (
	"crypto/elliptic"
	"encoding/base64"
	"math/big"
	"strings"
)

// ECDSA signatures are malleable: if (r, s) is valid, so is (r, n−s), a
// second spelling of the same token that its owner never saw. tokenlab
// signs only the low-s form and refuses the high-s form, so every ES256
// token has one spelling (as Bitcoin's BIP 62 and many JOSE libraries do).

var (
	p256Order     = elliptic.P256().Params().N
	p256HalfOrder = new(big.Int).Rsh(p256Order, 1)
)

// es256SigSize is an ES256 signature's length: r and s, 32 bytes each.
const es256SigSize = 64

// lowS rewrites a signed ES256 token into its low-s form.
func lowS(token string) string {
	i := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil || len(sig) != es256SigSize {
		return token
	}
	s := new(big.Int).SetBytes(sig[32:])
	if s.Cmp(p256HalfOrder) <= 0 {
		return token
	}
	s.Sub(p256Order, s)
	s.FillBytes(sig[32:])
	return token[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

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
