package client

import (
	"time"

	"github.com/tokenlab/tokenlab/client/jwtx"
)

// JWT reading and verification live in package jwtx: they never use a
// *Client. These names keep the callers of the client package working.

// Decoded is a JWT read without verification; see jwtx.Decoded.
type Decoded = jwtx.Decoded

// TimeClaim is one of iat, nbf, exp in words; see jwtx.TimeClaim.
type TimeClaim = jwtx.TimeClaim

// Errors of decoding and verification; see package jwtx.
var (
	ErrMalformed        = jwtx.ErrMalformed
	ErrInvalidSignature = jwtx.ErrInvalidSignature
	ErrBadJWKS          = jwtx.ErrBadJWKS
)

// Decode reads a JWT without verifying it.
func Decode(token string) (Decoded, error) { return jwtx.Decode(token) }

// HumanDuration says a duration in words, such as "14m 52s".
func HumanDuration(d time.Duration) string { return jwtx.HumanDuration(d) }

// VerifyHMAC checks an HS256/384/512 signature with a shared secret.
func VerifyHMAC(token, secret string) error { return jwtx.VerifyHMAC(token, secret) }

// VerifyJWKS checks a signature with a key of a JWK set.
func VerifyJWKS(token string, jwks []byte) error { return jwtx.VerifyJWKS(token, jwks) }

// Printable escapes control and bidirectional characters of untrusted text.
func Printable(s string) string { return jwtx.Printable(s) }
