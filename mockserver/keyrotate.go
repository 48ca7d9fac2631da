package mockserver

// Signing-key rotation, as after a leaked key: both keys (access and
// refresh) are replaced at once and stored, so they survive a restart.
// Every token signed with an old key is refused from then on, refresh
// tokens too: every session must log in again. That is the price of a
// rotation that shuts an attacker holding the old key out for good.

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/store"
)

const rotatePath = "/admin/keys/rotate"

// gateKeys lets a key rotation wait for the requests in flight and hold
// the next ones back, so no request sees half of it.
func (s *Server) gateKeys(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == rotatePath && r.Method == http.MethodPost {
			s.keysMu.Lock()
			defer s.keysMu.Unlock()
		} else {
			s.keysMu.RLock()
			defer s.keysMu.RUnlock()
		}
		next.ServeHTTP(w, r)
	})
}

// rotateKeys replaces both signing keys; the caller holds keysMu.
func (s *Server) rotateKeys(ctx context.Context) error {
	if s.cfg.AccessSecret != "" || s.cfg.RefreshSecret != "" {
		return &apiError{Status: http.StatusConflict, Code: "keys_configured",
			Message: "the HS256 secrets come from the server's configuration; change them there and restart"}
	}
	var signers [2]*signer
	for i, purpose := range []string{"access", "refresh"} {
		key, material := purpose+"_hs256_secret", randomBytes(32)
		if s.cfg.Alg != "HS256" {
			priv, err := generateKey(s.cfg.Alg)
			if err != nil {
				return err
			}
			if material, err = x509.MarshalPKCS8PrivateKey(priv); err != nil {
				return err
			}
			key = purpose + "_" + s.cfg.Alg + "_key"
		}
		if err := s.db.SetSetting(ctx, key, material); err != nil {
			return fmt.Errorf("store the new %s key: %w", purpose, err)
		}
		sg, err := loadSigner(ctx, s.db, purpose, s.cfg.Alg, "")
		if err != nil {
			return err
		}
		signers[i] = sg
	}
	s.tokens = newTokens(s.cfg.Issuer, s.cfg.Audience, signers[0], signers[1], s.clock.Now)
	return nil
}

func (s *Server) handleRotateKeys(w http.ResponseWriter, r *http.Request) error {
	if err := s.rotateKeys(r.Context()); err != nil {
		return err
	}
	now := s.clock.Now()
	s.event(r.Context(), store.Event{At: now, Kind: EventKeysRotated, Reason: "both signing keys replaced; tokens signed with the old keys are refused"})
	writeJSON(w, http.StatusOK, map[string]any{"rotatedAt": now.Format(time.RFC3339), "accessKid": s.tokens.access.kid,
		"refreshKid": s.tokens.refresh.kid, "oldTokens": "refused, access and refresh alike: every session must log in again"})
	return nil
}

// EventKeysRotated is the event of a key rotation.
const EventKeysRotated = "keys_rotated"
