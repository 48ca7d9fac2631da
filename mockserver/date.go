package mockserver

import "net/http"

// labDate sends the lab's clock in every answer's Date header (RFC 9110
// §6.6.1) instead of the wall clock net/http would send: a client judges
// a token's exp by the server's time, and when the lab clock is frozen or
// moved (/admin/clock) the wall clock tells it the wrong one.
func (s *Server) labDate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", s.clock.Now().UTC().Format(http.TimeFormat))
		next.ServeHTTP(w, r)
	})
}
