package mockserver

import (
	"fmt"
	"net/http"
)

// bearerChallenge is the WWW-Authenticate of a refused resource request
// (RFC 6750 §3, with RFC 9728's resource_metadata): no error code when no token was sent (§3.1), else
// invalid_token or insufficient_scope with the scope needed.
func (s *Server) bearerChallenge(e *Error) string {
	challenge := `Bearer realm="tokenlab"`
	switch code := bearerCode(e); {
	case e.Code == "missing_token":
	case code == "insufficient_scope":
		challenge += fmt.Sprintf(`, error="insufficient_scope", error_description=%q`, e.Message)
		if e.Scope != "" {
			challenge += fmt.Sprintf(`, scope=%q`, e.Scope)
		}
	default:
		challenge += fmt.Sprintf(`, error=%q, error_description=%q`, code, e.Message)
	}
	// RFC 9728 §5.1: where a client finds who issues this API's tokens.
	return challenge + fmt.Sprintf(`, resource_metadata=%q`, s.resourceMetadataURL())
}

// bearerCode is RFC 6750 §3.1's error code for a refusal.
func bearerCode(e *Error) string {
	switch e.Code {
	case "insufficient_scope":
		return "insufficient_scope"
	case "missing_token":
		return "invalid_request"
	}
	return "invalid_token"
}

// bearerStatus is 403 for a token lacking scope, else 401 (RFC 6750 §3.1).
func bearerStatus(e *Error) int {
	if e.Code == "insufficient_scope" {
		return http.StatusForbidden
	}
	return http.StatusUnauthorized
}
