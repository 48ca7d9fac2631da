// Command goapp is a web app that logs its users in with golang.org/x/oauth2
// (authorization code + PKCE) and calls an API with their access tokens:
// the Go app that tokenlab's app scenarios test (tokenlab run --app). It
// follows tokenlab's environment contract (TOKENLAB_ISSUER, …, PORT) and
// path conventions (/login, /callback, /data, /logout, /healthz).
//
// APP_BUG introduces one classic bug at a time:
//
//	no-refresh          never refreshes: the API's 401 goes to the user
//	refresh-per-request every request refreshes on its own: concurrent requests send one refresh token many times
//	memory-rotation     keeps the rotated refresh token in memory only: a restart replays a spent one (golang/oauth2#84)
//	no-retry            a refresh whose answer was lost is not retried: the user gets an error
//	error-loop          a refused refresh sends the user to log in but keeps the dead session, and tries it again on every request
//	logout-no-revoke    logout forgets the session locally and leaves its tokens valid at the server
//
// Sessions are kept in APP_STATE_DIR (the system's temporary directory by
// default), one file per OAuth client, so that a restart keeps them.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/oauth2"
)

type app struct {
	conf      *oauth2.Config
	api       string
	revokeURL string
	bug       string
	stateFile string

	mu       sync.Mutex
	pending  map[string]string        // login state -> PKCE verifier
	sessions map[string]*session      // session cookie -> session
	saved    map[string]*oauth2.Token // what the state file holds
}

type session struct {
	id  string
	mu  sync.Mutex
	tok *oauth2.Token
}

func main() {
	log.SetFlags(0)
	a, err := newApp(context.Background())
	if err != nil {
		log.Fatalf("goapp: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("GET /data", a.data)
	mux.HandleFunc("GET /logout", a.logout)
	mux.HandleFunc("POST /logout", a.logout)
	srv := &http.Server{Addr: "127.0.0.1:" + os.Getenv("PORT"), Handler: mux}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	log.Printf("goapp: listening on %s (APP_BUG=%q)", srv.Addr, a.bug)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("goapp: %v", err)
	}
	log.Printf("goapp: stopped")
}

func newApp(ctx context.Context) (*app, error) {
	issuer := strings.TrimRight(os.Getenv("TOKENLAB_ISSUER"), "/")
	meta, err := discover(ctx, issuer)
	if err != nil {
		return nil, err
	}
	dir := os.Getenv("APP_STATE_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	a := &app{
		conf: &oauth2.Config{ClientID: os.Getenv("TOKENLAB_CLIENT_ID"), ClientSecret: os.Getenv("TOKENLAB_CLIENT_SECRET"),
			RedirectURL: os.Getenv("TOKENLAB_REDIRECT_URI"),
			Endpoint:    oauth2.Endpoint{AuthURL: meta.Authorize, TokenURL: meta.Token, AuthStyle: oauth2.AuthStyleInHeader}},
		api: os.Getenv("TOKENLAB_API"), revokeURL: meta.Revoke, bug: os.Getenv("APP_BUG"),
		stateFile: filepath.Join(dir, "goapp-"+os.Getenv("TOKENLAB_CLIENT_ID")+".json"),
		pending:   map[string]string{}, sessions: map[string]*session{}, saved: map[string]*oauth2.Token{},
	}
	return a, a.load()
}

type metadata struct {
	Authorize string `json:"authorization_endpoint"`
	Token     string `json:"token_endpoint"`
	Revoke    string `json:"revocation_endpoint"`
}

func discover(ctx context.Context, issuer string) (metadata, error) {
	var m metadata
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, issuer+"/.well-known/oauth-authorization-server", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return m, fmt.Errorf("discovery: %w", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || m.Token == "" {
		return m, fmt.Errorf("discovery at %s: %v (status %d)", issuer, err, resp.StatusCode)
	}
	return m, nil
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	state, verifier := randomID(), oauth2.GenerateVerifier()
	a.mu.Lock()
	a.pending[state] = verifier
	a.mu.Unlock()
	http.Redirect(w, r, a.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.mu.Lock()
	verifier, ok := a.pending[q.Get("state")]
	delete(a.pending, q.Get("state"))
	a.mu.Unlock()
	switch {
	case q.Get("error") != "":
		answer(w, http.StatusUnauthorized, map[string]string{"error": "login_required", "message": "the login was refused: " + q.Get("error")})
		return
	case !ok:
		answer(w, http.StatusBadRequest, map[string]string{"error": "invalid_state"})
		return
	}
	tok, err := a.conf.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		log.Printf("goapp: code exchange: %v", err)
		answer(w, http.StatusBadGateway, map[string]string{"error": "exchange_failed"})
		return
	}
	sid := randomID()
	a.mu.Lock()
	a.sessions[sid] = &session{id: sid, tok: tok}
	a.mu.Unlock()
	a.save(sid, tok)
	http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	answer(w, http.StatusOK, map[string]any{"logged_in": true})
}

// data calls the API with the user's access token: refreshed when the
// app's clock says it expired, and once more when the API refuses it.
func (a *app) data(w http.ResponseWriter, r *http.Request) {
	sid, s := a.session(r)
	if s == nil {
		answer(w, http.StatusUnauthorized, map[string]string{"error": "login_required"})
		return
	}
	s.mu.Lock()
	start := *s.tok // the tokens this request started with
	s.mu.Unlock()
	tok, err := a.token(r.Context(), s, "", start)
	if err == nil {
		var status int
		var body []byte
		if status, body, err = a.callAPI(r.Context(), tok); err == nil && status == http.StatusUnauthorized && a.bug != "no-refresh" {
			if tok, err = a.token(r.Context(), s, tok.AccessToken, start); err == nil {
				status, body, err = a.callAPI(r.Context(), tok)
			}
		}
		if err == nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write(body)
			return
		}
	}
	if re := (*oauth2.RetrieveError)(nil); errors.As(err, &re) {
		if a.bug != "error-loop" {
			a.end(sid) // the session is dead at the server: the user logs in again
		}
		answer(w, http.StatusUnauthorized, map[string]string{"error": "login_required"})
		return
	}
	log.Printf("goapp: %v", err)
	answer(w, http.StatusBadGateway, map[string]string{"error": "upstream", "message": err.Error()})
}

// token returns the session's access token, refreshing it when the app's
// clock says it expired or when stale (an access token the API refused)
// is still the session's. One refresh at a time per session: concurrent
// requests wait for it and share its result.
func (a *app) token(ctx context.Context, s *session, stale string, start oauth2.Token) (*oauth2.Token, error) {
	if a.bug == "refresh-per-request" {
		return a.refreshAlone(ctx, s, stale, start)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.Valid() && (stale == "" || s.tok.AccessToken != stale) {
		return s.tok, nil
	}
	if a.bug == "no-refresh" {
		return s.tok, nil
	}
	expired := *s.tok
	expired.Expiry = time.Unix(1, 0)
	src := a.conf.TokenSource(context.WithoutCancel(ctx), &expired)
	tok, err := src.Token()
	if re := (*oauth2.RetrieveError)(nil); err != nil && !errors.As(err, &re) && a.bug != "no-retry" {
		log.Printf("goapp: refresh got no answer (%v); trying once more with the same refresh token", err)
		tok, err = src.Token()
	}
	if err != nil {
		return nil, err
	}
	s.tok = tok
	if a.bug != "memory-rotation" {
		a.save(s.id, tok)
	}
	return tok, nil
}

// refreshAlone is the refresh-per-request bug: each request refreshes
// with the refresh token it started with, whatever the others do.
func (a *app) refreshAlone(ctx context.Context, s *session, stale string, mine oauth2.Token) (*oauth2.Token, error) {
	if mine.Valid() && stale == "" {
		return &mine, nil
	}
	mine.Expiry = time.Unix(1, 0)
	tok, err := a.conf.TokenSource(ctx, &mine).Token()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.tok = tok
	s.mu.Unlock()
	a.save(s.id, tok)
	return tok, nil
}

func (a *app) callAPI(ctx context.Context, tok *oauth2.Token) (int, []byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.api, nil)
	tok.SetAuthHeader(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

// logout revokes the refresh token at the server (RFC 7009), then forgets
// the session.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	sid, s := a.session(r)
	if s != nil && a.bug != "logout-no-revoke" && a.revokeURL != "" {
		s.mu.Lock()
		rt := s.tok.RefreshToken
		s.mu.Unlock()
		form := url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, a.revokeURL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(a.conf.ClientID), url.QueryEscape(a.conf.ClientSecret))
		if resp, err := http.DefaultClient.Do(req); err != nil {
			log.Printf("goapp: revoke: %v", err)
		} else {
			resp.Body.Close()
		}
	}
	a.end(sid)
	http.SetCookie(w, &http.Cookie{Name: "sid", Value: "", Path: "/", MaxAge: -1})
	answer(w, http.StatusOK, map[string]any{"logged_out": true})
}

func (a *app) session(r *http.Request) (string, *session) {
	c, err := r.Cookie("sid")
	if err != nil {
		return "", nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return c.Value, a.sessions[c.Value]
}

func (a *app) end(sid string) {
	a.mu.Lock()
	delete(a.sessions, sid)
	a.mu.Unlock()
	a.save(sid, nil)
}

// save records a session's tokens (nil: the session ended) and writes
// the state file, so that a restart keeps them — the rotated refresh token
// above all.
func (a *app) save(sid string, tok *oauth2.Token) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if tok == nil {
		delete(a.saved, sid)
	} else {
		a.saved[sid] = tok
	}
	data, _ := json.Marshal(a.saved)
	tmp := a.stateFile + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err == nil {
		os.Rename(tmp, a.stateFile)
	}
}

func (a *app) load() error {
	data, err := os.ReadFile(a.stateFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var in map[string]*oauth2.Token
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("%s: %w", a.stateFile, err)
	}
	for sid, tok := range in {
		a.sessions[sid] = &session{id: sid, tok: tok}
		a.saved[sid] = tok
	}
	log.Printf("goapp: loaded %d sessions from %s", len(in), a.stateFile)
	return nil
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
