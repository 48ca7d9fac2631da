package scenarios

// Re-signing a tampered token with a key the scenario chooses, so that
// "signed with the wrong key" is a real signature the server must check,
// not a mangled one; and nbf/iat/exp moved relative to the clock.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// howResign is the tampering of a `tamper:` with `resign:`.
const howResign = "resign"

var resignAlgs = []string{"HS256", "RS256", "ES256", "EdDSA"}

// tamperV3 checks and completes what version 3 adds to a tamper step: the
// resign key, read now so that a missing or unreadable file is a load
// error with its line, and the time edits.
func (p parser) tamperV3(t *TamperArgs, v *yaml.Node) error {
	timed := t.NBF != nil || t.IAT != nil || t.EXP != nil
	if timed && t.How == "signature" {
		return p.errf(v.Line, "nbf, iat and exp edit the claims, which how: signature keeps as they are")
	}
	if t.Resign == nil {
		return nil
	}
	if t.How != "" && t.How != howResign {
		return p.errf(v.Line, "resign signs the token again, so it cannot go with how: %s; leave how out", t.How)
	}
	t.How = howResign
	line := v.Line
	for i := 0; i+1 < len(v.Content); i += 2 {
		if v.Content[i].Value == "resign" {
			line = v.Content[i+1].Line
			if err := p.decodeKnown(v.Content[i+1], &ResignArgs{}); err != nil {
				return err // a key decoding a nested struct would ignore
			}
		}
	}
	r := t.Resign
	if !slices.Contains(resignAlgs, r.Alg) {
		return p.errf(line, "resign alg must be one of %s, not %q", strings.Join(resignAlgs, ", "), r.Alg)
	}
	var err error
	r.key, err = p.resignKey(r)
	if err != nil {
		return p.errf(line, "resign: %v", err)
	}
	return nil
}

// resignKey loads (or, when none is named, makes) the key of a resign.
func (p parser) resignKey(r *ResignArgs) (any, error) {
	hmacAlg := r.Alg == "HS256"
	switch {
	case hmacAlg && r.KeyFile != "":
		return nil, errors.New("HS256 takes secret_file or secret, not key_file (a PEM key is for RS256, ES256 and EdDSA)")
	case !hmacAlg && (r.SecretFile != "" || r.Secret != ""):
		return nil, fmt.Errorf("%s takes key_file (a PEM private key), not a secret", r.Alg)
	case r.SecretFile != "" && r.Secret != "":
		return nil, errors.New("give secret_file or secret, not both")
	case r.Secret != "":
		return []byte(r.Secret), nil
	case r.SecretFile != "":
		data, err := os.ReadFile(p.relative(r.SecretFile))
		if err != nil {
			return nil, fmt.Errorf("secret_file: %v", err)
		}
		secret, _, _ := strings.Cut(string(data), "\n")
		if secret = strings.TrimRight(secret, "\r"); secret == "" {
			return nil, fmt.Errorf("secret_file %s: its first line is empty", r.SecretFile)
		}
		return []byte(secret), nil
	case r.KeyFile != "":
		data, err := os.ReadFile(p.relative(r.KeyFile))
		if err != nil {
			return nil, fmt.Errorf("key_file: %v", err)
		}
		key, err := parsePrivateKey(data)
		if err != nil {
			return nil, fmt.Errorf("key_file %s: %v", r.KeyFile, err)
		}
		if err := keyFits(r.Alg, key); err != nil {
			return nil, fmt.Errorf("key_file %s: %v", r.KeyFile, err)
		}
		return key, nil
	}
	return freshKey(r.Alg)
}

// relative resolves a path written in a scenario from the file's folder.
func (p parser) relative(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(filepath.Dir(p.file), path)
}

func parsePrivateKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block (want -----BEGIN PRIVATE KEY-----)")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("a PEM %q block is not a private key", block.Type)
	}
	if err != nil {
		return nil, err
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%T cannot sign", key)
	}
	return s, nil
}

func keyFits(alg string, key crypto.Signer) error {
	ok := false
	switch k := key.(type) {
	case *rsa.PrivateKey:
		ok = alg == "RS256"
	case *ecdsa.PrivateKey:
		ok = alg == "ES256" && k.Curve == elliptic.P256()
	case ed25519.PrivateKey:
		ok = alg == "EdDSA"
	}
	if !ok {
		return fmt.Errorf("a %T does not sign %s", key, alg)
	}
	return nil
}

// freshKey is a key no server knows: an attacker's own.
func freshKey(alg string) (any, error) {
	switch alg {
	case "HS256":
		b := make([]byte, 32)
		rand.Read(b)
		return b, nil
	case "RS256":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	_, k, err := ed25519.GenerateKey(rand.Reader)
	return k, err
}

// resignToken replaces the token's signature by one of r's key over the
// header (alg, and kid when given, set) and the payload as they are.
func resignToken(headerSeg, payloadSeg string, r *ResignArgs) (string, error) {
	set := map[string]any{"alg": r.Alg}
	if r.Kid != "" {
		set["kid"] = r.Kid
	}
	header, err := editJSON(headerSeg, set)
	if err != nil {
		return "", err
	}
	input := header + "." + payloadSeg
	sig, err := sign(r.Alg, r.key, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

func sign(alg string, key any, input []byte) ([]byte, error) {
	if alg == "HS256" {
		m := hmac.New(sha256.New, key.([]byte))
		m.Write(input)
		return m.Sum(nil), nil
	}
	if alg == "EdDSA" {
		return ed25519.Sign(key.(ed25519.PrivateKey), input), nil
	}
	sum := sha256.Sum256(input)
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
		if err != nil {
			return nil, err
		}
		// JWS wants r||s, 32 bytes each, and the low s that strict
		// verifiers (tokenlab's among them) insist on.
		if half := new(big.Int).Rsh(k.Curve.Params().N, 1); s.Cmp(half) > 0 {
			s.Sub(k.Curve.Params().N, s)
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out, nil
	}
	return nil, fmt.Errorf("no %s key", alg)
}

// timeClaims are the tamper's nbf, iat and exp as numbers relative to now.
func (t TamperArgs) timeClaims(now time.Time) map[string]any {
	set := map[string]any{}
	for name, shift := range map[string]*TimeShift{"nbf": t.NBF, "iat": t.IAT, "exp": t.EXP} {
		if shift != nil {
			set[name] = now.Add(time.Duration(*shift)).Unix()
		}
	}
	return set
}
