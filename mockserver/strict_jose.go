package mockserver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// iatLeeway is how far in the future a token's iat may lie: clocks of
// machines that sign and verify drift by seconds, not minutes. Anything
// later was not issued by this server's clock.
const iatLeeway = 60 * time.Second

// checkShape refuses JOSE shapes that golang-jwt accepts but this server
// never produces, before any signature work:
//   - a crit header (RFC 7515 §4.1.11: unknown critical extensions must be
//     refused, and this server understands none);
//   - a b64 header (RFC 7797 unencoded payloads change what is signed);
//   - a duplicate member name in the header or the payload (RFC 7515 §5.2
//     allows refusing them; two parsers may pick different copies);
//   - exp, nbf or iat written as anything but a JSON number (golang-jwt
//     reads "123" as 123).
func checkShape(raw string) *Error {
	head, payload, ok := splitSegments(raw)
	if !ok {
		return errNotCanonical
	}
	header, err := strictObject(head)
	if err != nil {
		return refused(codeInvalidToken, "the token header is refused: "+err.Error())
	}
	for _, name := range []string{"crit", "b64"} {
		if _, ok := header[name]; ok {
			return refused(codeInvalidToken, fmt.Sprintf("the token header has %q, an extension this server does not accept", name))
		}
	}
	claims, err := strictObject(payload)
	if err != nil {
		return refused(codeInvalidToken, "the token payload is refused: "+err.Error())
	}
	for _, name := range []string{"exp", "nbf", "iat"} {
		if v, ok := claims[name]; ok && !isJSONNumber(v) {
			return refused(codeInvalidToken, fmt.Sprintf("the %s claim must be a JSON number of seconds, not %s", name, v))
		}
	}
	return nil
}

// checkIssuedAt refuses an iat later than now plus the leeway.
func checkIssuedAt(iat time.Time, now time.Time) *Error {
	if !iat.IsZero() && iat.After(now.Add(iatLeeway)) {
		return refused(codeInvalidToken, "the token's iat is in the future; it was not issued by this server's clock")
	}
	return nil
}

func splitSegments(raw string) (head, payload []byte, ok bool) {
	h, rest, ok1 := strings.Cut(raw, ".")
	p, _, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 {
		return nil, nil, false
	}
	var err1, err2 error
	head, err1 = base64.RawURLEncoding.DecodeString(h)
	payload, err2 = base64.RawURLEncoding.DecodeString(p)
	return head, payload, err1 == nil && err2 == nil
}

// strictObject decodes a JSON object, refusing a member name that appears
// twice in any object inside it; it returns the top level's raw members.
func strictObject(data []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := noDuplicates(dec); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return nil, errors.New("not a JSON object")
	}
	return top, nil
}

// maxJSONDepth bounds the recursion on hostile input.
const maxJSONDepth = 32

func noDuplicates(dec *json.Decoder) error { return walkValue(dec, 0) }

func walkValue(dec *json.Decoder, depth int) error {
	if depth > maxJSONDepth {
		return errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return errors.New("malformed JSON")
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return errors.New("malformed JSON")
			}
			name, _ := key.(string)
			if seen[name] {
				return fmt.Errorf("the member %q appears twice", name)
			}
			seen[name] = true
			if err := walkValue(dec, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
	case json.Delim('['):
		for dec.More() {
			if err := walkValue(dec, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
	}
	if err != nil {
		return errors.New("malformed JSON")
	}
	return nil
}

func isJSONNumber(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))
}
