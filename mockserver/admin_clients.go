package mockserver

import (
	"net/http"
	"time"
)

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
