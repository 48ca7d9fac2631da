package mockserver

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"html/template"
	"net/http"
	"time"
)

// The HTML pages of the login flows: server-rendered, no JavaScript, so a
// terminal browser (w3m, lynx) and a program filling the form both work.

//go:embed pages/pages.html
var pageFiles embed.FS

var pageTemplates = template.Must(template.ParseFS(pageFiles, "pages/pages.html"))

// isPage reports whether r is for an HTML page, whose errors are pages too.
func isPage(r *http.Request) bool {
	return r.URL.Path == "/oauth/authorize" || r.URL.Path == "/device" || r.URL.Path == endSessionPath
}

// pageHeaders keep the pages out of frames, caches and Referer headers,
// and forbid scripts.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// No form-action: Chromium applies it to the redirect after the POST,
	// which goes to the client's own loopback origin.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
}

// renderPage writes a page; a template failure is a 500 with no detail.
func (s *Server) renderPage(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("render page", "page", name, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("<!doctype html><title>Error</title><p>The server failed; see its log.</p>")
	}
	pageHeaders(w)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// formPage is a login page with a form that can show a problem above it.
type formPage interface {
	setProblem(message, code string)
}

func (p *devicePage) setProblem(message, code string)    { p.Error, p.ErrorCode = message, code }
func (p *authorizePage) setProblem(message, code string) { p.Error, p.ErrorCode = message, code }

// renderForm shows a login page's form again with problem above it (when
// not nil). A form shown again is 200; a refusal to check anything now (a
// rate limit, a busy hasher) keeps its status and Retry-After, so that
// programs and people both see that waiting is the answer.
func (s *Server) renderForm(w http.ResponseWriter, name string, page formPage, problem *Error) {
	status := http.StatusOK
	if problem != nil {
		page.setProblem(problem.Message, problem.Code)
		if problem.RetryAfter > 0 {
			status = problem.Status
			setRetryAfter(w, problem.RetryAfter)
		}
	}
	s.renderPage(w, status, name, page)
}

// loginProblem words a failed password check for a login page: a wrong
// password is login_failed; other refusals (bad input, rate limits) keep
// their code. err is returned for the server's own failures.
func loginProblem(err error) (*Error, error) {
	var ae *Error
	switch {
	case errors.Is(err, errInvalidCredentials):
		return &Error{Status: http.StatusUnauthorized, Code: "login_failed", Message: "Wrong username or password."}, nil
	case errors.As(err, &ae):
		return ae, nil
	}
	return nil, err
}

// writeErrorPage answers an error of an HTML route as a page.
func (s *Server) writeErrorPage(w http.ResponseWriter, ae *Error) {
	s.renderPage(w, ae.Status, "error", struct{ Code, Message string }{ae.Code, ae.Message})
}

// formTTL is how long a rendered authorize form may be posted back.
const formTTL = 15 * time.Minute

// formToken binds the hidden fields of a rendered form to the moment it
// was made: base64url(issued Unix seconds ‖ HMAC-SHA256). A POST whose
// fields were changed, or that this server never rendered, fails.
func (s *Server) formToken(issued time.Time, fields []hiddenField) string {
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(issued.Unix()))
	return base64.RawURLEncoding.EncodeToString(append(ts[:], s.formMAC(ts[:], fields)...))
}

func (s *Server) formMAC(ts []byte, fields []hiddenField) []byte {
	m := hmac.New(sha256.New, s.formKey)
	m.Write(ts)
	for _, f := range fields {
		binary.Write(m, binary.BigEndian, uint32(len(f.Name)))
		m.Write([]byte(f.Name))
		binary.Write(m, binary.BigEndian, uint32(len(f.Value)))
		m.Write([]byte(f.Value))
	}
	return m.Sum(nil)
}

// checkFormToken reports whether tok was made by formToken for these
// fields within formTTL of now.
func (s *Server) checkFormToken(tok string, fields []hiddenField, now time.Time) bool {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != 8+sha256.Size {
		return false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0)
	if now.Before(issued.Add(-time.Minute)) || now.After(issued.Add(formTTL)) {
		return false
	}
	return hmac.Equal(raw[8:], s.formMAC(raw[:8], fields))
}
