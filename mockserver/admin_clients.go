package mockserver

// Admin routes for the OAuth clients of a running server: list them,
// register one (a scenario runner registers the app it puts under test),
// remove one, and revoke every session of one (as a security team would
// after a breach).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// clientRequest is the body of POST /admin/clients.
type clientRequest struct {
	ID           string   `json:"id"`
	Secret       string   `json:"secret"`
	RedirectURIs []string `json:"redirect_uris"`
	GrantTypes   []string `json:"grant_types"`
	Scopes       []string `json:"scopes"`
}

// handleAddClient registers a client, or replaces the one with its ID. The
// secret is stored hashed, as a client file's is; the answer never repeats
// it. The built-in public client cannot be replaced.
func (s *Server) handleAddClient(w http.ResponseWriter, r *http.Request) error {
	var req clientRequest
	if empty, err := decodeJSON(w, r, &req); err != nil {
		return err
	} else if empty {
		return badRequest(`send a client such as {"id": "my-app", "secret": "…", "redirect_uris": ["http://127.0.0.1:8080/callback"]}`)
	}
	cfg := ClientConfig{ID: req.ID, Secret: req.Secret, RedirectURIs: req.RedirectURIs, GrantTypes: req.GrantTypes, Scopes: req.Scopes}
	if err := cfg.validate(); err != nil {
		return badRequest("%v", err)
	}
	if cfg.ID == DefaultClientID {
		return badRequest("%s is the server's built-in public client; give yours another id", DefaultClientID)
	}
	c, err := s.clientRecord(r.Context(), cfg)
	if err != nil {
		return err
	}
	if err := s.db.PutClient(r.Context(), c, maxClients, s.clock.Now()); err != nil {
		if errors.Is(err, auth.ErrTooMany) {
			return &Error{Status: http.StatusConflict, Code: "too_many_clients",
				Message: fmt.Sprintf("the server holds %d clients, its most; DELETE /admin/clients/{id} removes one", maxClients)}
		}
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": c.ID, "public": c.Public(), "grant_types": c.GrantTypes, "redirect_uris": c.RedirectURIs})
	return nil
}

// clientRecord is what the store keeps of a configured client (from the
// configuration or POST /admin/clients): its grants and redirect URIs, or
// the defaults, and the secret's hash.
func (s *Server) clientRecord(ctx context.Context, c ClientConfig) (auth.Client, error) {
	rec := auth.Client{ID: c.ID, GrantTypes: c.GrantTypes, RedirectURIs: c.RedirectURIs, Scopes: c.Scopes}
	if len(rec.GrantTypes) == 0 {
		rec.GrantTypes = allGrants
		if c.Secret == "" {
			rec.GrantTypes = defaultClient.GrantTypes
		}
	}
	if len(rec.RedirectURIs) == 0 {
		rec.RedirectURIs = []string{redirectLoopback}
	}
	if c.Secret != "" {
		hash, err := s.secretHash(ctx, c.ID, c.Secret)
		if err != nil {
			return rec, err
		}
		rec.SecretHash = hash
	}
	return rec, nil
}

// handleDeleteClient removes a client registered with POST /admin/clients
// (or from the configuration, until the next start): DELETE
// /admin/clients/{id}, with its pending codes; its sessions and their
// events stay in the log.
func (s *Server) handleDeleteClient(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if id == DefaultClientID {
		return badRequest("%s is the server's built-in public client; it cannot be removed", DefaultClientID)
	}
	gone, err := s.db.DeleteClient(r.Context(), id)
	if err != nil {
		return err
	}
	if !gone {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no client " + quote(id)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted": id})
	return nil
}

// handleRevokeClient revokes every active session of a client: POST
// /admin/clients/{id}/revoke.
func (s *Server) handleRevokeClient(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := s.db.ClientByID(r.Context(), id); err != nil {
		if err == auth.ErrNotFound {
			return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no client " + quote(id)}
		}
		return err
	}
	n, err := s.db.RevokeClientFamilies(r.Context(), id, "revoked_by_admin", s.clock.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"client": id, "revoked": n})
	return nil
}

// clientEvents answers GET /admin/events?client=ID: the events of one
// OAuth client (with trace= too, those of both).
func (s *Server) clientEvents(r *http.Request, after int64, limit int, trace, clientID string) ([]auth.Event, error) {
	if len(clientID) > 128 {
		return nil, badRequest("client is a client id of at most 128 characters")
	}
	// The store filters by both, so a page is a full page of both.
	return s.db.ClientEvents(r.Context(), after, limit, clientID, trace)
}

// GET /admin/clients: the client registry, configured and registered
// (RFC 7591) clients alike; never a secret or its hash.

// adminClient is one client as the admin API shows it.
type adminClient struct {
	ID           string     `json:"id"`
	Name         string     `json:"name,omitempty"`
	Public       bool       `json:"public"`
	GrantTypes   []string   `json:"grant_types"`
	RedirectURIs []string   `json:"redirect_uris"`
	Scopes       []string   `json:"scopes,omitempty"`
	Source       string     `json:"source"` // configured or registered
	RegisteredAt *time.Time `json:"registered_at,omitempty"`
}

// maxListedClients bounds the answer; the registry holds at most
// maxClients configured plus the registration cap.
const maxListedClients = 2 * maxClients

func (s *Server) handleListClients(w http.ResponseWriter, r *http.Request) error {
	clients, err := s.db.Clients(r.Context(), maxListedClients)
	if err != nil {
		return err
	}
	out := make([]adminClient, 0, len(clients))
	for _, c := range clients {
		ac := adminClient{ID: c.ID, Name: c.Name, Public: c.Public(), GrantTypes: c.GrantTypes, RedirectURIs: c.RedirectURIs,
			Scopes: c.Scopes, Source: "configured"}
		if !c.RegisteredAt.IsZero() {
			at := c.RegisteredAt.UTC()
			ac.Source, ac.RegisteredAt = "registered", &at
		}
		out = append(out, ac)
	}
	writeJSON(w, http.StatusOK, map[string]any{"clients": out})
	return nil
}
