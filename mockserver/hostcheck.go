package mockserver

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// DNS rebinding: a web page on a name its author controls re-points that
// name at 127.0.0.1, and the browser then sends the page's requests, with
// their Host header still naming the page's host, to a server that
// believes only local programs can reach it. So on a loopback listener the
// server answers only requests whose Host is a loopback address, localhost
// (or a name under it, which browsers resolve to loopback themselves), or
// the configured issuer's host. A server on another address is reached
// through the network by name, and any Host is answered.

// checkHost refuses, with 421 and a JSON error, a request on a loopback
// connection whose Host is not one of those.
func (s *Server) checkHost(next http.Handler) http.Handler {
	issuerHost := ""
	if u, err := url.Parse(s.cfg.Issuer); err == nil {
		issuerHost = u.Hostname()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if onLoopback(r) && !loopbackHostAllowed(r.Host, issuerHost) {
			s.writeError(w, r, &Error{Status: http.StatusMisdirectedRequest, Code: "misdirected_request",
				Message: "this server listens on loopback and answers only for 127.0.0.1, [::1], localhost and its issuer's host, not " +
					quote(r.Host) + " (a page re-pointing its own name at 127.0.0.1, DNS rebinding, is refused); start it with --issuer to add a name"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// onLoopback reports whether the request came in on a loopback address.
func onLoopback(r *http.Request) bool {
	addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	ap, err := netip.ParseAddrPort(addr.String())
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// loopbackHostAllowed reports whether host (a Host header: name or
// address, with or without a port) may be answered on loopback. An empty
// Host (HTTP/1.0) is not a browser's, which always sends one.
func loopbackHostAllowed(host, issuerHost string) bool {
	if host == "" {
		return true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	if ip, err := netip.ParseAddr(name); err == nil {
		return ip.Unmap().IsLoopback()
	}
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	return name == "localhost" || strings.HasSuffix(name, ".localhost") ||
		(issuerHost != "" && strings.EqualFold(name, issuerHost))
}
