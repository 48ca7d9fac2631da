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

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

const rotatePath = "/admin/keys/rotate"

// rotateKeys replaces both signing keys and returns the new ones.
// Requests take no lock: each loads the live keys once (Server.tokens), so
// a request that began before the swap finishes with the old keys, and
// every request after it sees the new ones. Both keys are stored in one
// transaction and made live only once it commits, and rotations run one
// at a time, so the stored keys and the live ones are always the same pair.
func (s *Server) rotateKeys(ctx context.Context) (*tokens, error) {
	s.rotating.Lock()
	defer s.rotating.Unlock()
	if s.cfg.AccessSecret != "" || s.cfg.RefreshSecret != "" {
		return nil, &Error{Status: http.StatusConflict, Code: "keys_configured",
			Message: "the HS256 secrets come from the server's configuration; change them there and restart"}
	}
	fresh := freshKeys{}
	var signers [2]*signer
	for i, purpose := range []string{"access", "refresh"} {
		key, material := purpose+"_hs256_secret", randomBytes(32)
		if s.cfg.Alg != "HS256" {
			priv, err := generateKey(s.cfg.Alg)
			if err != nil {
				return nil, err
			}
			if material, err = x509.MarshalPKCS8PrivateKey(priv); err != nil {
				return nil, err
			}
			key = purpose + "_" + s.cfg.Alg + "_key"
		}
		fresh[key] = material
		sg, err := loadSigner(ctx, fresh, purpose, s.cfg.Alg, "")
		if err != nil {
			return nil, err
		}
		signers[i] = sg
	}
	if err := s.db.SetSettings(ctx, fresh); err != nil {
		return nil, fmt.Errorf("store the new keys: %w", err)
	}
	live := newTokens(s.cfg.Issuer, s.cfg.Audience, signers[0], signers[1], s.clock.Now)
	s.live.Store(live)
	return live, nil
}

// freshKeys are a rotation's new keys before they are stored: loadSigner
// reads them as it would read the stored ones.
type freshKeys map[string][]byte

func (k freshKeys) SettingOrInit(_ context.Context, key string, _ []byte) ([]byte, error) {
	v, ok := k[key]
	if !ok {
		return nil, fmt.Errorf("no fresh key %s", key)
	}
	return v, nil
}

func (s *Server) handleRotateKeys(w http.ResponseWriter, r *http.Request) error {
	live, err := s.rotateKeys(r.Context())
	if err != nil {
		return err
	}
	now := s.clock.Now()
	s.event(r.Context(), auth.Event{At: now, Kind: EventKeysRotated, Reason: "both signing keys replaced; tokens signed with the old keys are refused"})
	writeJSON(w, http.StatusOK, map[string]any{"rotatedAt": now.Format(time.RFC3339), "accessKid": live.access.kid,
		"refreshKid": live.refresh.kid, "oldTokens": "refused, access and refresh alike: every session must log in again"})
	return nil
}

// EventKeysRotated is the event of a key rotation.
const EventKeysRotated = auth.EventKeysRotated
