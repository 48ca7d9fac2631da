package mockserver

// registerPath is RFC 7591 dynamic client registration.
const registerPath = "/oauth/register"

// registrationOn reports whether dynamic registration is enabled.
func (s *Server) registrationOn() bool { return false }
