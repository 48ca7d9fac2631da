package tui

import (
	"fmt"
	"strings"

	"github.com/tokenlab/tokenlab/client"
)

// route is what an endpoint tokenlab calls is for; the timeline says a
// true sentence per route (a revocation is not "new tokens").
type route int

const (
	routeAPI route = iota // anything else: the protected API
	routeDiscovery
	routeLogin
	routeToken
	routeLogout
	routeRevoke
	routeIntrospect
	routeDeviceAuthorization
	routeKeys // the server's published keys (JWKS)
	routeUserinfo
)

// routeOf names the route of a path: the profile's own paths first (a
// --server profile may move them), then the embedded server's.
func routeOf(path string, p client.Profile) route {
	for _, r := range []struct {
		path string
		is   route
	}{{p.Paths.Login, routeLogin}, {p.Paths.Refresh, routeToken}, {p.Paths.Logout, routeLogout}} {
		if r.path != "" && pathOf(r.path) == path {
			return r.is
		}
	}
	switch {
	case strings.HasSuffix(path, "/jwks.json"), strings.HasSuffix(path, "/jwks"):
		return routeKeys
	case strings.HasSuffix(path, "/userinfo"):
		return routeUserinfo
	case strings.HasPrefix(path, "/.well-known/"):
		return routeDiscovery
	case path == "/login":
		return routeLogin
	case path == "/token", path == "/oauth/token":
		return routeToken
	case path == "/logout":
		return routeLogout
	case path == "/oauth/revoke", strings.HasSuffix(path, "/revoke"):
		return routeRevoke
	case path == "/oauth/introspect", strings.HasSuffix(path, "/introspect"):
		return routeIntrospect
	case path == "/oauth/device_authorization", strings.HasSuffix(path, "/device_authorization"):
		return routeDeviceAuthorization
	}
	return routeAPI
}

// responseWhy is the sentence and tone of an answer the client (or the
// attacker) got.
func responseWhy(e client.Event, attacker bool, p client.Profile) (string, string) {
	r := routeOf(pathOf(e.URL), p)
	ok := e.Status >= 200 && e.Status < 300
	switch {
	case attacker && ok && r == routeToken:
		return "The server accepted the attacker's token and sent new tokens.", "bad"
	case attacker && ok:
		return "The server accepted the attacker's token.", "bad"
	case attacker:
		return "The server refused the attacker's token.", "good"
	case e.Status == 429:
		return "The server refused: too many tries in a short time (429); wait, then try again.", "bad"
	case e.Status >= 500:
		return fmt.Sprintf("The server failed (%d): nothing was decided.", e.Status), "bad"
	}
	if ok {
		return okWhy[r], "good"
	}
	switch {
	case r == routeDiscovery:
		return fmt.Sprintf("The server has no discovery document here (%d).", e.Status), "warn"
	case r == routeLogin && (e.Status == 401 || e.Status == 403):
		return "The server refused the username or password.", "bad"
	case r == routeToken && e.Status == 400:
		return "The token endpoint did not give tokens (yet); the next line says why.", "warn"
	case r == routeToken && (e.Status == 401 || e.Status == 403):
		return "The server refused the refresh token.", "bad"
	case (r == routeLogout || r == routeRevoke) && e.Status < 500:
		return fmt.Sprintf("The server did not accept the logout (%d): its tokens may still be alive there.", e.Status), "bad"
	case r == routeAPI && (e.Status == 401 || e.Status == 403):
		return "The API rejected the access token (expired, revoked or forged).", "bad"
	}
	return fmt.Sprintf("The server answered %d.", e.Status), "warn"
}

// okWhy is what a 2xx means on each route.
var okWhy = map[route]string{
	routeAPI:       "The access token was valid, so the API answered.",
	routeDiscovery: "The client discovered the OAuth endpoints.",
	routeLogin:     "The server checked the password and answered with both tokens.",
	routeToken:     "The token endpoint sent new tokens.",
	routeLogout:    "The server revoked the session's refresh tokens.",
	routeRevoke: "The revocation endpoint accepted the token: the server revoked its login's refresh tokens " +
		"(RFC 7009 answers 200 even for a token it does not know).",
	routeIntrospect:          "The server said whether the token is active.",
	routeDeviceAuthorization: "The server issued a device code (kept here) and a user code (for a person to enter).",
	routeKeys:                "The client read the server's public keys (JWKS) to check the ID token's signature.",
	routeUserinfo:            "The server said who the access token's user is (OpenID Connect userinfo).",
}
