package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tokenlab/tokenlab/client"
)

// maxBody bounds what is read of one answer.
const maxBody = 1 << 20

// worker is one client: its own connection, user and rotation chain.
type worker struct {
	cfg      Config
	http     *http.Client
	base     string
	tokenURL string // the OAuth token endpoint (oauth2 dialect)
	username string
	access   string
	refresh  string
	seq      int

	hist     histogram // timed requests only
	requests atomic.Int64
	non2xx   atomic.Int64
	errors   atomic.Int64
	relogins int
	rotated  int // refresh answers that carried a new refresh token
	reused   int // answers saying the token was already used
	revoked  int // answers saying the session was revoked
	statuses map[int]int64
}

func newWorker(cfg Config, n int) *worker {
	tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true, ForceAttemptHTTP2: false}
	w := &worker{cfg: cfg, base: strings.TrimRight(cfg.Target, "/"), username: cfg.Username,
		http: &http.Client{Transport: tr, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		statuses: map[int]int64{}}
	if cfg.Register {
		w.username = fmt.Sprintf("%s-%d", cfg.Prefix, n)
	}
	return w
}

func (w *worker) url(path string) string {
	if absoluteURL(path) { // checked against the loopback rule in Validate
		return path
	}
	return w.base + path
}

// start registers (when asked) and logs in, untimed.
func (w *worker) start(ctx context.Context) error {
	if w.cfg.Register {
		st, body, err := w.post(ctx, "/register", w.credentials())
		if err != nil {
			return fmt.Errorf("register %s: %w", w.username, err)
		}
		if st/100 != 2 && st != http.StatusConflict {
			return fmt.Errorf("register %s: status %d: %s", w.username, st, snippet(body))
		}
	}
	return w.login(ctx)
}

func (w *worker) credentials() map[string]string {
	f := w.cfg.Profile.Fields
	return map[string]string{f.Username: w.username, f.Password: w.cfg.Password}
}

func (w *worker) login(ctx context.Context) error {
	st, body, err := w.sendLogin(ctx)
	if err != nil {
		return fmt.Errorf("log in as %s: %w", w.username, err)
	}
	if st/100 != 2 {
		return fmt.Errorf("log in as %s: status %d: %s", w.username, st, snippet(body))
	}
	return w.keepTokens(body, true)
}

// keepTokens takes the access and refresh tokens of an answer. A refresh
// answer without a refresh token means the server does not rotate.
func (w *worker) keepTokens(body []byte, login bool) error {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("the answer is not JSON: %s", snippet(body))
	}
	f := w.cfg.Profile.Fields
	if w.tokenURL != "" {
		f.AccessToken, f.RefreshToken = "access_token", "refresh_token"
	}
	at, _ := m[f.AccessToken].(string)
	if at == "" {
		return fmt.Errorf("the answer has no %q field: %s", f.AccessToken, snippet(body))
	}
	w.access = at
	if rt, _ := m[f.RefreshToken].(string); rt != "" {
		w.refresh = rt
	} else if login && (w.cfg.Mode == ModeRefresh || w.cfg.Mode == ModeMixed) {
		return fmt.Errorf("the login answer has no %q field: %s", f.RefreshToken, snippet(body))
	}
	return nil
}

// loop sends timed requests until ctx ends or the budget is spent.
func (w *worker) loop(ctx context.Context, b *budget) {
	for ctx.Err() == nil && b.take() {
		kind := w.next()
		start := time.Now()
		st, body, err := w.send(ctx, kind)
		took := time.Since(start)
		if err != nil && ctx.Err() != nil {
			return // the run ended mid-request: not a result
		}
		w.requests.Add(1)
		w.hist.add(took)
		w.record(ctx, kind, st, body, err)
	}
}

// next picks the request kind: fixed by the mode, or 8:1:1 when mixed.
func (w *worker) next() Mode {
	if w.cfg.Mode != ModeMixed {
		return w.cfg.Mode
	}
	w.seq++
	switch w.seq % 10 {
	case 0:
		return ModeLogin
	case 5:
		return ModeRefresh
	}
	return ModeProtected
}

func (w *worker) send(ctx context.Context, kind Mode) (int, []byte, error) {
	p := w.cfg.Profile
	switch kind {
	case ModeProtected:
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.url(p.Paths.Protected), nil)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+w.access)
		return w.do(req)
	case ModeRefresh:
		if w.tokenURL != "" {
			return w.grant(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {w.refresh}})
		}
		return w.post(ctx, p.Paths.Refresh, map[string]string{p.Fields.RefreshRequest: w.refresh})
	default:
		return w.sendLogin(ctx)
	}
}

// sendLogin logs in: the login path (json) or the password grant (oauth2).
func (w *worker) sendLogin(ctx context.Context) (int, []byte, error) {
	if w.tokenURL == "" {
		return w.post(ctx, w.cfg.Profile.Paths.Login, w.credentials())
	}
	form := url.Values{"grant_type": {"password"}, "username": {w.username}, "password": {w.cfg.Password}}
	if s := w.cfg.Profile.OAuth.Scope; s != "" {
		form.Set("scope", s)
	}
	return w.grant(ctx, form)
}

// grant posts a form to the OAuth token endpoint with the profile's
// client authentication.
func (w *worker) grant(ctx context.Context, form url.Values) (int, []byte, error) {
	o := w.cfg.Profile.OAuth
	basic := o.ClientSecret != "" && o.ClientAuth != "post"
	if o.ClientID != "" && !basic {
		form.Set("client_id", o.ClientID)
		if o.ClientSecret != "" {
			form.Set("client_secret", o.ClientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(o.ClientID), url.QueryEscape(o.ClientSecret))
	}
	return w.do(req)
}

// record counts an answer and keeps the chain going; when it has ended,
// the worker logs in again (untimed).
func (w *worker) record(ctx context.Context, kind Mode, st int, body []byte, err error) {
	if err != nil {
		w.errors.Add(1)
		if kind == ModeRefresh { // the server may have rotated: the chain is lost
			w.relogin(ctx)
		}
		return
	}
	w.statuses[st]++
	if st/100 == 2 {
		if kind != ModeProtected {
			sent := w.refresh
			if err := w.keepTokens(body, kind == ModeLogin); err != nil {
				w.errors.Add(1)
			}
			if kind == ModeRefresh && w.refresh != sent {
				w.rotated++
			}
		}
		return
	}
	w.non2xx.Add(1)
	switch code := errorCode(body); {
	case strings.Contains(code, "reuse"):
		w.reused++
	case strings.Contains(code, "revoke"):
		w.revoked++
	}
	if kind == ModeRefresh || (kind == ModeProtected && rejects(w.cfg.Profile, st)) {
		w.relogin(ctx)
	}
}

// relogin starts a new chain after one ended (untimed).
func (w *worker) relogin(ctx context.Context) {
	w.relogins++
	if err := w.login(ctx); err != nil && ctx.Err() == nil {
		w.errors.Add(1)
	}
}

func rejects(p client.Profile, st int) bool {
	for _, r := range p.RejectStatuses {
		if r == st {
			return true
		}
	}
	return false
}

// errorCode is the error field of a JSON answer (or the whole short body),
// lower-cased, to tell a reuse or revocation.
func errorCode(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		for _, k := range []string{"error", "code", "message"} {
			if s, ok := m[k].(string); ok {
				return strings.ToLower(s)
			}
		}
	}
	return strings.ToLower(snippet(body))
}

func (w *worker) post(ctx context.Context, path string, fields map[string]string) (int, []byte, error) {
	body, err := json.Marshal(fields)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url(path), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return w.do(req)
}

// do sends req and reads the whole answer (so the connection is reused).
func (w *worker) do(req *http.Request) (int, []byte, error) {
	resp, err := w.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, body, nil
}

// snippet is a short, single-line excerpt of a body for error messages.
// Bodies here may hold tokens: only the first 120 bytes are shown.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return strconv.Quote(s)
}
