// Package loadgen is a load generator for auth APIs that rotate refresh
// tokens. Each worker logs in once (untimed), then follows its own chain:
// every refresh answer's new refresh token is the next request's. Generic
// tools (wrk, hey) replay one token, which a rotating server refuses after
// the first use.
//
// It speaks a client.Profile's json dialect (the seed articles' servers,
// tokenlab's) or its oauth2 dialect (the password and refresh_token grants at
// the discovered token endpoint), with bearer tokens.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenlab/tokenlab/client"
)

// Mode is what each worker sends.
type Mode string

// Modes.
const (
	ModeProtected Mode = "protected" // GET the protected path with the access token
	ModeRefresh   Mode = "refresh"   // POST the refresh path, following the rotation chain
	ModeLogin     Mode = "login"     // POST the login path (password hashing on the server)
	ModeMixed     Mode = "mixed"     // 8 protected, 1 refresh, 1 login in every 10
)

// Modes lists the modes, for help text.
var Modes = []Mode{ModeProtected, ModeRefresh, ModeLogin, ModeMixed}

// Config is one load run.
type Config struct {
	Target      string // base URL of the API
	Profile     client.Profile
	Mode        Mode
	Clients     int
	Duration    time.Duration // the run stops after this long …
	MaxRequests int64         // … or after this many timed requests (0: no bound)
	Username    string        // the user every worker logs in as, unless Register
	Password    string
	// Register makes worker N register and use the user Prefix-N first
	// (an existing user is fine), so workers do not share a user.
	Register bool
	Prefix   string
	// AllowRemote permits targets outside loopback.
	AllowRemote bool
	// Progress, when set, is called about every ProgressEvery with the
	// run so far (from another goroutine).
	Progress      func(Progress)
	ProgressEvery time.Duration
}

// Progress is a running count.
type Progress struct {
	Elapsed  time.Duration
	Requests int64
	Non2xx   int64
	Errors   int64
}

// maxClients bounds the workers (each holds one connection).
const maxClients = 4096

// Validate reports the first thing wrong with a configuration.
func (c Config) Validate() error {
	switch {
	case c.Target == "":
		return errors.New("the target URL is missing")
	case c.Clients < 1 || c.Clients > maxClients:
		return fmt.Errorf("clients must be between 1 and %d, not %d", maxClients, c.Clients)
	case c.Duration <= 0 && c.MaxRequests <= 0:
		return errors.New("give a duration or a request count, or the run would never end")
	case c.Duration < 0 || c.MaxRequests < 0:
		return errors.New("duration and request count must not be negative")
	case c.Register && c.Prefix == "":
		return errors.New("registering users needs a prefix, such as load")
	case !c.Register && c.Username == "":
		return errors.New("a username is needed (or register users with a prefix)")
	case c.Password == "":
		return errors.New("a password is needed")
	case c.Profile.Dialect != client.DialectJSON && c.Profile.Dialect != client.DialectOAuth2:
		return fmt.Errorf("profile %q uses the %s dialect; load speaks json and oauth2", c.Profile.Name, c.Profile.Dialect)
	case c.Profile.Dialect == client.DialectOAuth2 && c.Register:
		return errors.New("--register needs the json dialect (OAuth 2.0 has no registration route)")
	case c.Profile.Transport != client.ViaBearer:
		return fmt.Errorf("profile %q sends tokens as %s; load sends bearer tokens only", c.Profile.Name, c.Profile.Transport)
	}
	if !validMode(c.Mode) {
		return fmt.Errorf("mode must be one of protected, refresh, login or mixed, not %q", c.Mode)
	}
	if (c.Mode == ModeProtected || c.Mode == ModeMixed) && c.Profile.Paths.Protected == "" {
		return fmt.Errorf("profile %q has no protected path", c.Profile.Name)
	}
	if (c.Mode == ModeRefresh || c.Mode == ModeMixed) && c.Profile.Dialect == client.DialectJSON &&
		(c.Profile.Fields.RefreshToken == "" || c.Profile.Fields.RefreshRequest == "") {
		return fmt.Errorf("profile %q names no refresh-token fields", c.Profile.Name)
	}
	u, err := url.Parse(c.Target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("the target %q is not an http or https URL", c.Target)
	}
	if c.AllowRemote {
		return nil
	}
	for _, named := range c.urls() {
		u, err := url.Parse(named.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s %q is not an http or https URL", named.name, named.url)
		}
		if !Loopback(u.Hostname()) {
			return fmt.Errorf("%s %s is not on this machine (127.0.0.0/8, ::1 or localhost); pass --allow-remote to load a server you run elsewhere", named.name, u.Host)
		}
	}
	return nil
}

// namedURL is a URL of the run and what names it, for errors.
type namedURL struct{ name, url string }

// urls are every URL the run sends to: the target, the profile's paths
// that are absolute URLs, and its OAuth issuer. Each must pass the
// loopback rule: the load, the bearer tokens and the password go there.
func (c Config) urls() []namedURL {
	out := []namedURL{{"the target", c.Target}}
	p := c.Profile
	for _, path := range []namedURL{{"paths.login", p.Paths.Login}, {"paths.refresh", p.Paths.Refresh},
		{"paths.logout", p.Paths.Logout}, {"paths.protected", p.Paths.Protected}} {
		if absoluteURL(path.url) {
			out = append(out, namedURL{"the profile's " + path.name, path.url})
		}
	}
	if p.OAuth.Issuer != "" {
		out = append(out, namedURL{"the profile's oauth.issuer", p.OAuth.Issuer})
	}
	return out
}

// absoluteURL says whether a profile path is a URL of its own rather
// than a path on the target.
func absoluteURL(path string) bool {
	lower := strings.ToLower(path)
	return strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")
}

func validMode(m Mode) bool {
	for _, v := range Modes {
		if m == v {
			return true
		}
	}
	return false
}

// Loopback reports whether host is a loopback address or "localhost".
// Names other than localhost are not resolved: they count as remote.
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Run runs the load and reports it. It returns an error only when the run
// could not start (bad configuration, or no worker could log in).
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	var tokenURL string
	if cfg.Profile.Dialect == client.DialectOAuth2 {
		var err error
		if tokenURL, err = discoverTokenEndpoint(ctx, cfg); err != nil {
			return Report{}, err
		}
	}
	workers := make([]*worker, cfg.Clients)
	for i := range workers {
		workers[i] = newWorker(cfg, i+1)
		workers[i].tokenURL = tokenURL
	}
	defer func() {
		for _, w := range workers {
			w.http.CloseIdleConnections()
		}
	}()
	// Log every worker in before the clock starts.
	if err := startAll(ctx, workers); err != nil {
		return Report{}, err
	}
	var runCtx context.Context
	var cancel context.CancelFunc
	if cfg.Duration > 0 {
		runCtx, cancel = context.WithTimeout(ctx, cfg.Duration)
	} else {
		runCtx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	budget := &budget{max: cfg.MaxRequests}
	start := time.Now()
	stopProgress := progress(cfg, workers, start)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.loop(runCtx, budget) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()
	return report(cfg, workers, elapsed), nil
}

// startAll logs every worker in (registering first when asked), a few at
// a time so a login-rate limit or bcrypt queue is not flooded.
func startAll(ctx context.Context, workers []*worker) error {
	sem := make(chan struct{}, 4)
	errs := make([]error, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = w.start(ctx)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("log in before the run: %w", err)
		}
	}
	return nil
}

// budget hands out request tickets up to max (0: no bound).
type budget struct {
	max  int64
	used atomic.Int64
}

func (b *budget) take() bool { return b.max <= 0 || b.used.Add(1) <= b.max }

func progress(cfg Config, workers []*worker, start time.Time) (stop func()) {
	if cfg.Progress == nil {
		return func() {}
	}
	every := cfg.ProgressEvery
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p := Progress{Elapsed: time.Since(start)}
				for _, w := range workers {
					p.Requests += w.requests.Load()
					p.Non2xx += w.non2xx.Load()
					p.Errors += w.errors.Load()
				}
				cfg.Progress(p)
			}
		}
	}()
	return func() { close(done); <-finished }
}
