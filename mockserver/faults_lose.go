package mockserver

import (
	"net/http"
	"net/url"
)

// loseResponse handles the request for real (a refresh rotates, its
// events are written) and then drops the connection without a byte of the
// answer, as a network that loses the response on its way back: the
// client cannot tell whether the server acted.
func (s *Server) loseResponse(w http.ResponseWriter, r *http.Request, next http.Handler) {
	next.ServeHTTP(discardWriter{header: http.Header{}}, r)
	// net/http closes the connection and logs nothing for this panic.
	panic(http.ErrAbortHandler)
}

// discardWriter takes an answer and throws it away.
type discardWriter struct{ header http.Header }

func (d discardWriter) Header() http.Header         { return d.header }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

// formClient is the client_id a token-endpoint request names: in HTTP
// Basic or in the form (unchecked: faults only pick requests by it).
func formClient(r *http.Request, form url.Values) string {
	if id, _, ok := r.BasicAuth(); ok {
		if u, err := url.QueryUnescape(id); err == nil {
			return u
		}
		return id
	}
	return form.Get("client_id")
}

// requestClient is formClient for a request whose body faultRoute has not
// read (the revocation endpoint): HTTP Basic only.
func requestClient(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		if u, err := url.QueryUnescape(id); err == nil {
			return u
		}
		return id
	}
	return ""
}
