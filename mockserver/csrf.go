package mockserver

import (
	"net/http"
	"strings"
)

// Cookies are ambient authority: a browser sends them with a POST that any
// page makes. SameSite=Strict keeps other sites' pages out, but a site is
// a host without its port, so every program serving pages on 127.0.0.1
// shares the server's site, and one of their pages could end the user's
// session (/logout) or rotate its tokens (/token). So a POST that is
// authenticated by a cookie must come from the server's own origin, as
// the browser states it in Sec-Fetch-Site and Origin. Programs (curl,
// tokenlab's client) send neither header and are not browsers: they are
// answered.

// checkCookieOrigin refuses a cookie-authenticated request that a browser
// says comes from another origin.
func checkCookieOrigin(r *http.Request) error {
	site := r.Header.Get("Sec-Fetch-Site")
	origin := r.Header.Get("Origin")
	switch {
	case site != "" && site != "same-origin" && site != "none":
		return crossOrigin("Sec-Fetch-Site says " + quote(site))
	case origin != "" && !strings.EqualFold(origin, ownOrigin(r)):
		return crossOrigin("it comes from " + quote(origin))
	}
	return nil
}

// ownOrigin is the origin the request was sent to; on loopback its Host
// has been checked (hostcheck.go).
func ownOrigin(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func crossOrigin(why string) error {
	return &Error{Status: http.StatusForbidden, Code: "cross_origin_request",
		Message: "a request authenticated by the RefreshToken cookie must come from this server's own pages, and " + why +
			"; send the token in the body instead"}
}
