package tui

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tokenlab/tokenlab/internal/termtext"
)

// The inspector's third token: the OpenID Connect ID token a login with
// scope openid brought (client.Session.IDToken, verified by the client at
// login). tab goes access → refresh → ID token → access; the ID token is
// offered only when the session holds one or its claims.

// hasID reports whether the session holds an ID token or its claims.
func (in inspectorModel) hasID() bool {
	return in.session.IDToken != "" || len(in.session.IDClaims) > 0
}

// nextToken is the token tab shows next.
func (in inspectorModel) nextToken() inspectorModel {
	switch {
	case !in.showRefresh && !in.showID:
		in.showRefresh = true
	case in.showRefresh && in.hasID():
		in.showRefresh, in.showID = false, true
	default:
		in.showRefresh, in.showID = false, false
	}
	return in
}

// idClaimsView shows the claims the session kept of an ID token too large
// to store beside the other tokens.
func (in inspectorModel) idClaimsView() string {
	s := in.c.styles
	var claims map[string]any
	if err := json.Unmarshal(in.session.IDClaims, &claims); err != nil || len(claims) == 0 {
		return s.Subtle.Render("No ID token: the login did not ask for openid, or the server issues none.")
	}
	var b strings.Builder
	b.WriteString(s.Subtle.Render("The ID token was too large to keep beside the other tokens; these are its main claims, as verified at login.") + "\n\n")
	for _, k := range orderedKeys(claims) {
		raw, _ := json.Marshal(claims[k])
		b.WriteString(fmt.Sprintf("  %s %s\n", s.Selected.Render(fmt.Sprintf("%-9s", termtext.Escape(k))),
			s.Value.Render(termtext.Escape(strings.Trim(string(raw), `"`)))))
	}
	return b.String()
}

// The ID token's own claims (OIDC Core §2), explained beside the others.
func init() {
	for k, v := range map[string]string{
		"nonce":     "echoes the login request's nonce: the client checks it, so an old ID token cannot be replayed",
		"at_hash":   "half of the SHA-256 of the access token: ties this ID token to the access token issued with it",
		"azp":       "authorized party: the client the ID token was issued to",
		"auth_time": "when the user last entered a password",
		"email":     "the user's email, for the profile scope's claims",
		"name":      "the user's display name",
	} {
		if _, ok := claimHelp[k]; !ok {
			claimHelp[k] = v
		}
	}
}
