package mockserver

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// handlerFunc is a handler that returns its error for writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// routes lists every route in one place.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	methods := map[string][]string{} // path -> methods, for 405 answers
	handle := func(pattern string, h handlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		methods[path] = append(methods[path], method)
		// Every route knows its client's address: rate limits (password,
		// client-secret and user-code checks) count per address, and a
		// route that forgets the wrapper would be a way around them.
		mux.Handle(pattern, s.errorHandler(withClientAddr(withTrace(h))))
	}
	admin := func(h handlerFunc) handlerFunc { return s.requireAdmin(h) }

	handle("GET /healthz", s.handleHealth)

	// Seed dialect.
	handle("POST /register", s.handleRegister)
	handle("POST /login", s.handleLogin)
	handle("POST /token", s.handleToken)
	handle("POST /logout", s.handleLogout)
	handle("GET /protected", s.handleProtected)
	handle("GET /me", s.handleMe)

	// OAuth 2.0 dialect.
	handle("POST /oauth/token", s.handleOAuthToken)
	handle("POST /oauth/revoke", s.handleOAuthRevoke)
	handle("POST /oauth/introspect", s.handleOAuthIntrospect)
	handle("GET /oauth/authorize", s.handleAuthorize)
	handle("POST /oauth/authorize", s.handleAuthorizeSubmit)
	handle("POST /oauth/device_authorization", s.handleDeviceAuthorization)
	handle("GET /device", s.handleDevicePage)
	handle("POST /device", s.handleDeviceSubmit)
	handle("GET /.well-known/openid-configuration", s.handleDiscovery)
	handle("GET /.well-known/oauth-authorization-server", s.handleDiscovery)
	handle("GET /.well-known/jwks.json", s.handleJWKS)

	// OpenID Connect (oidc.go).
	handle("GET /oauth/userinfo", s.handleUserinfo)
	handle("POST /oauth/userinfo", s.handleUserinfo)
	handle("GET "+endSessionPath, s.handleEndSession)
	handle("POST "+endSessionPath, s.handleEndSession)
	handle("POST "+registerPath, s.handleRegisterClient)
	handle("GET "+protectedResourcePath, s.handleProtectedResource)
	handle("GET /admin/clients", admin(s.handleListClients))

	// Admin.
	handle("GET /admin/clock", admin(s.handleGetClock))
	handle("POST /admin/clock", admin(s.handleSetClock))
	handle("GET /admin/events", admin(s.handleEvents))
	handle("GET /admin/sessions", admin(s.handleSessions))
	handle("GET /admin/settings", admin(s.handleGetSettings))
	handle("PUT /admin/settings", admin(s.handleSetSettings))
	handle("POST /admin/faults", admin(s.handleAddFault))
	handle("DELETE /admin/faults", admin(s.handleClearFaults))
	handle("POST "+rotatePath, admin(s.handleRotateKeys))
	handle("POST /admin/clients", admin(s.handleAddClient))
	handle("POST /admin/clients/{id}/revoke", admin(s.handleRevokeClient))
	handle("DELETE /admin/clients/{id}", admin(s.handleDeleteClient))

	// Anything else: a JSON 404 or 405 instead of the mux's plain text.
	mux.Handle("/", s.errorHandler(func(w http.ResponseWriter, r *http.Request) error {
		if allowed, ok := methods[r.URL.Path]; ok && !slices.Contains(allowed, r.Method) {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			return &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
				Message: fmt.Sprintf("%s does not accept %s; use %s", r.URL.Path, r.Method, strings.Join(allowed, " or "))}
		}
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such route: " + r.URL.Path}
	}))
	return s.labDate(s.accessLog(s.recoverPanics(s.checkHost(s.injectFaults(mux)))))
}

func (s *Server) errorHandler(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) requireAdmin(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if !s.checkAdmin(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tokenlab-admin"`)
			return &Error{Status: http.StatusUnauthorized, Code: "admin_token_required",
				Message: "admin routes need Authorization: Bearer <admin token> (printed when the server starts)"}
		}
		return h(w, r)
	}
}

// recoverPanics turns a panic into a logged 500 so one bad request never
// takes the server down.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeError(w, r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// accessLog logs one line per request: method, path (never the query, which
// may hold a token), status, size and duration. Bodies and headers, where
// tokens and passwords travel, are never logged.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Int("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)), slog.String("remote", r.RemoteAddr))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}
