package scenarios

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// tamper alters a token the way an attacker would and sends it to a
// protected route as the access token.
func (w *world) tamper(ctx context.Context, who *actor, a TamperArgs, o *Observed) (Observed, string, error) {
	tok := w.saved[a.Token]
	if a.Token == "access" {
		tok, _ = w.tokens(ctx, who)
	}
	if tok == "" {
		return *o, "tamper", errors.New("there is no access token to tamper with: log in first")
	}
	var forged string
	var err error
	if a.How == howResign {
		forged, err = resignTampered(tok, w.tamperClaims(ctx, a), a.Resign)
	} else {
		forged, err = tamperToken(tok, a.How, w.tamperClaims(ctx, a))
	}
	if err != nil {
		return *o, "tamper", err
	}
	if a.As != "" {
		w.saved[a.As] = forged
	}
	path := a.Path
	if path == "" {
		path = w.profile.Paths.Protected
	}
	if path == "" {
		path = "/protected"
	}
	err = w.rawRequest(ctx, RequestArgs{Method: http.MethodGet, Path: path}, forged, o)
	return *o, fmt.Sprintf("%s-tampered token → GET %s → %s", a.How, path, o.describe()), err
}

var b64 = base64.RawURLEncoding

// tamperToken returns tok altered:
//   - payload: claims replaced or added, the signature kept (so it no longer matches);
//   - alg-none: header alg "none", no signature, claims applied;
//   - strip-signature: the signature removed;
//   - signature: one character of the signature changed.
func tamperToken(tok, how string, claims map[string]any) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", errors.New("the token is not a JWT (three dot-separated parts)")
	}
	payload, err := editJSON(parts[1], claims)
	if err != nil {
		return "", err
	}
	switch how {
	case "payload":
		if len(claims) == 0 {
			claims = map[string]any{"username": "mallory"}
			if payload, err = editJSON(parts[1], claims); err != nil {
				return "", err
			}
		}
		return parts[0] + "." + payload + "." + parts[2], nil
	case "alg-none":
		header, err := editJSON(parts[0], map[string]any{"alg": "none"})
		if err != nil {
			return "", err
		}
		return header + "." + payload + ".", nil
	case "strip-signature":
		return parts[0] + "." + payload + ".", nil
	case "signature":
		sig := []byte(parts[2])
		if len(sig) == 0 {
			return "", errors.New("the token has no signature to change")
		}
		i := len(sig) / 2
		if sig[i] == 'A' {
			sig[i] = 'B'
		} else {
			sig[i] = 'A'
		}
		return parts[0] + "." + parts[1] + "." + string(sig), nil
	}
	return "", fmt.Errorf("unknown tampering %q", how)
}

// editJSON decodes a base64url JSON segment, sets fields, and encodes it.
func editJSON(seg string, set map[string]any) (string, error) {
	if len(set) == 0 {
		return seg, nil
	}
	data, err := b64.DecodeString(seg)
	if err != nil {
		return "", fmt.Errorf("the token segment is not base64url: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return "", fmt.Errorf("the token segment is not a JSON object: %w", err)
	}
	for k, v := range set {
		m[k] = v
	}
	out, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return b64.EncodeToString(out), nil
}
