// Package mockserver is tokenlab's mock auth server. One server speaks the
// seed dialect (JSON bodies and cookies), OAuth 2.0 (RFC 6749, 7009, 7662,
// discovery and JWKS) and an admin API that moves its clock and shows its
// events and sessions.
package mockserver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
	"golang.org/x/crypto/bcrypt"
)

// ErrBadConfig wraps every error that New returns for a setting that
// cannot work, as opposed to a failing database.
var ErrBadConfig = errors.New("bad configuration")

// Config holds the server's settings; DefaultConfig gives the defaults
// the README's settings table lists.
type Config struct {
	Issuer   string // the server's base URL; tokens carry it as iss
	Audience string // aud of access tokens
	Alg      string // HS256, RS256, ES256 or EdDSA
	// Policy holds the settings that PUT /admin/settings can change later.
	Policy
	AccessSecret  string // HS256 only; generated and stored when empty
	RefreshSecret string
	AdminToken    string // required for /admin routes
	Users         []Credentials
	// AllowWeakSecrets accepts HS256 secrets shorter than MinSecretBytes,
	// for teaching how a weak secret is brute-forced.
	AllowWeakSecrets bool
	// OpenIntrospection lets /oauth/introspect answer callers that do not
	// authenticate, for teaching; by default a confidential client must
	// (RFC 7662 §2.1). Either way a client that names itself learns about
	// its own tokens only.
	OpenIntrospection bool
	SecureCookies     bool
	BcryptCost        int
	// HashWorkers bounds concurrent bcrypt work (0: one per core);
	// HashQueue more may wait, and the rest get 503 with Retry-After.
	HashWorkers int
	HashQueue   int
	// EventsMax caps the event log's rows; the oldest are pruned.
	EventsMax int
	// Retention is how long after a session ends (expiry, revocation or
	// its last refresh token expiring) its rows are kept.
	Retention time.Duration
	// LoginRate, when positive, limits password checks per client address
	// to this many a second (429 with Retry-After beyond).
	LoginRate float64
	Logger    *slog.Logger
	// Clients are registered besides the built-in public client tokenlab.
	Clients []ClientConfig
	// CodeTTL is the lifetime of an authorization code.
	CodeTTL time.Duration
	// DeviceTTL and DeviceInterval are a device code's lifetime and the
	// polling interval it starts with (RFC 8628).
	DeviceTTL      time.Duration
	DeviceInterval time.Duration
	// Registration enables RFC 7591 dynamic client registration at
	// /oauth/register, bounded by RegistrationMax registered clients and
	// RegistrationPerMinute registrations per client address.
	Registration          bool
	RegistrationMax       int
	RegistrationPerMinute int
	// Resources are the RFC 8707 resources (absolute URIs) this server
	// issues access tokens for besides its own origin; any other is
	// invalid_target. Nil accepts any absolute URI, for the embedded
	// server of scenarios that name APIs of their own.
	Resources []string
	// APIScope, when set, is the scope the built-in API (/protected, /me)
	// needs: a token without it gets 403 insufficient_scope.
	APIScope string
	// AccessTokenClaims names the users' claims (groups, roles, ...) that
	// access tokens carry besides ID tokens and userinfo.
	AccessTokenClaims []string
}

// MinSecretBytes is the shortest HS256 secret accepted: RFC 7518 §3.2 asks
// for a key at least as long as the hash output.
const MinSecretBytes = 32

// maxLifetime bounds the lifetimes: with the clock's range it keeps every
// expiry inside the Unix-nanosecond span the store uses.
const maxLifetime = 10 * 365 * 24 * time.Hour

// Credentials are a user to create at start-up when absent.
type Credentials struct {
	Username string
	Password string
	// Claims are OpenID Connect claims (email, name, groups, ...): they
	// appear in ID tokens and userinfo for the scopes that ask for them.
	Claims map[string]any
}

// DefaultConfig returns the defaults of `tokenlab serve` (the README's
// settings table).
func DefaultConfig() Config {
	return Config{
		Issuer:   "http://127.0.0.1:8080",
		Audience: "tokenlab",
		Alg:      "HS256",
		Policy: Policy{
			AccessTTL:      15 * time.Minute,
			RefreshTTL:     7 * 24 * time.Hour,
			SessionMax:     30 * 24 * time.Hour,
			Rotation:       true,
			ReuseDetection: true,
		},
		Users:          []Credentials{{Username: "alice", Password: "password123"}},
		BcryptCost:     bcrypt.DefaultCost,
		EventsMax:      DefaultEventsMax,
		Retention:      DefaultRetention,
		CodeTTL:        60 * time.Second,
		DeviceTTL:      10 * time.Minute,
		DeviceInterval: 5 * time.Second,

		Registration:          true,
		RegistrationMax:       DefaultRegistrationMax,
		RegistrationPerMinute: DefaultRegistrationPerMinute,
	}
}

// Server is the mock auth server. Make one with New.
type Server struct {
	cfg   Config
	db    Store
	clock *Clock
	// live holds the signing keys in force; a rotation swaps it
	// (keyrotate.go), so requests read keys without a lock.
	live  atomic.Pointer[tokens]
	log   *slog.Logger
	admin [32]byte // SHA-256 of the admin token: compared in constant time
	// dummyHash is compared against when a user is unknown, so a login
	// takes as long whether or not the name exists.
	dummyHash []byte
	handler   http.Handler
	policy    atomic.Pointer[Policy] // read once per request
	faults    faultTable             // see faults.go
	rotating  sync.Mutex             // one key rotation at a time
	clientsMu sync.Mutex             // one RegisterClient at a time (inprocess.go)
	// formKey signs the hidden form_token of the authorize page; it lives
	// only in memory, so a restart voids the forms on screen.
	formKey   []byte
	pages     *template.Template
	hashing   *hashLimiter
	loginRate *loginRateLimiter
	// registrationRate bounds dynamic registrations per client address.
	registrationRate *loginRateLimiter
	// userCodeGuesses throttles failed user-code lookups on /device.
	userCodeGuesses *guessLimiter
	maint           *maintenance
	// idKeys signs ID tokens (oidc.go); userClaims are the configured
	// users' claims by username.
	idKeys     idKeyHolder
	userClaims map[string]map[string]any
	// clientLifetimes are the configured clients' own token lifetimes.
	clientLifetimes map[string]ClientConfig
}

// New prepares a server on db (a *sqlite.DB, or any Store): it loads or
// generates the signing keys and creates the configured users that are
// missing. It starts a background pruner that runs until ctx ends or Close
// is called.
func New(ctx context.Context, db Store, clock *Clock, cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if _, ok := algorithms[cfg.Alg]; !ok {
		return nil, fmt.Errorf("%w: unsupported algorithm %q (want HS256, RS256, ES256 or EdDSA)", ErrBadConfig, cfg.Alg)
	}
	if cfg.Alg != "HS256" && (cfg.AccessSecret != "" || cfg.RefreshSecret != "") {
		return nil, fmt.Errorf("%w: the access and refresh secrets apply only to HS256, not %s", ErrBadConfig, cfg.Alg)
	}
	access, err := loadSigner(ctx, db, "access", cfg.Alg, cfg.AccessSecret)
	if err != nil {
		return nil, err
	}
	refresh, err := loadSigner(ctx, db, "refresh", cfg.Alg, cfg.RefreshSecret)
	if err != nil {
		return nil, err
	}
	dummy, err := bcrypt.GenerateFromPassword(randomBytes(16), cfg.BcryptCost)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		db:        db,
		clock:     clock,
		log:       cfg.Logger,
		admin:     sha256.Sum256([]byte(cfg.AdminToken)),
		dummyHash: dummy,
		formKey:   randomBytes(32),
		pages:     pageTemplates,
		loginRate: newLoginRateLimiter(cfg.LoginRate),
		// A burst of the whole minute's allowance: a test suite registers
		// a few clients at once; a flood gets 429 after that.
		registrationRate: &loginRateLimiter{perSecond: float64(cfg.RegistrationPerMinute) / 60,
			burst: float64(max(1, cfg.RegistrationPerMinute)), buckets: map[string]*bucket{}},
		userCodeGuesses: newGuessLimiter(),
	}
	workers := cfg.HashWorkers
	if workers <= 0 {
		workers = defaultHashWorkers()
	}
	queue := cfg.HashQueue
	if queue <= 0 {
		queue = 2 * workers
	}
	s.hashing = newHashLimiter(workers, queue)
	s.live.Store(newTokens(cfg.Issuer, cfg.Audience, access, refresh, clock.Now))
	s.policy.Store(&cfg.Policy)
	s.clientLifetimes = map[string]ClientConfig{}
	for _, c := range cfg.Clients {
		if c.AccessTTL > 0 || c.RefreshTTL > 0 {
			s.clientLifetimes[c.ID] = c
		}
	}
	s.userClaims = map[string]map[string]any{}
	for _, u := range cfg.Users {
		if err := s.ensureUser(ctx, u); err != nil {
			return nil, err
		}
		if len(u.Claims) > 0 {
			s.userClaims[lookupUsername(u.Username)] = u.Claims
		}
	}
	if err := s.registerClients(ctx); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	s.startMaintenance(ctx)
	return s, nil
}

func (c Config) validate() error {
	switch {
	case c.Issuer == "":
		return errors.New("the issuer must not be empty")
	case c.Policy.Validate() != nil:
		return c.Policy.Validate()
	case len(c.AdminToken) < 16:
		return errors.New("the admin token must be at least 16 characters")
	case c.CodeTTL <= 0 || c.CodeTTL > time.Hour:
		return errors.New("code-ttl must be positive and at most 1h")
	case c.DeviceTTL <= 0 || c.DeviceTTL > 24*time.Hour:
		return errors.New("device-ttl must be positive and at most 24h")
	case c.DeviceInterval < time.Second || c.DeviceInterval > time.Hour:
		return errors.New("device-interval must be from 1s to 1h")
	case c.EventsMax < 1:
		return errors.New("events-max must be at least 1")
	case c.Retention < 0 || c.Retention > maxLifetime:
		return fmt.Errorf("retention must be between 0 and %s", FormatDuration(maxLifetime))
	case c.LoginRate < 0 || c.HashWorkers < 0 || c.HashQueue < 0:
		return errors.New("login-rate, hash workers and hash queue must not be negative")
	case c.Registration && (c.RegistrationMax < 1 || c.RegistrationMax > maxClients || c.RegistrationPerMinute < 1):
		return fmt.Errorf("with registration on, registration-max must be from 1 to %d and registration-rate at least 1/min", maxClients)
	case c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost:
		return fmt.Errorf("bcrypt cost must be between %d and %d", bcrypt.MinCost, bcrypt.MaxCost)
	}
	for _, sec := range []struct{ name, value string }{{"access", c.AccessSecret}, {"refresh", c.RefreshSecret}} {
		if sec.value != "" && len(sec.value) < MinSecretBytes && !c.AllowWeakSecrets {
			return fmt.Errorf("the %s secret is %d bytes; HS256 needs at least %d (RFC 7518 §3.2) or it can be brute-forced: "+
				"make one with `openssl rand -base64 32`, or pass --allow-weak-secrets for teaching", sec.name, len(sec.value), MinSecretBytes)
		}
	}
	for _, cl := range c.Clients {
		if err := cl.validate(); err != nil {
			return err
		}
		if cl.ID == DefaultClientID {
			return fmt.Errorf("%s is the built-in public client; give your client another id", DefaultClientID)
		}
	}
	for _, u := range c.Users {
		for name := range u.Claims {
			if IsProtocolClaim(name) {
				return fmt.Errorf("user %q: the claim %s is set by the server itself; choose another name", u.Username, name)
			}
		}
		err := validateCredentials(u.Username, u.Password)
		if err == nil {
			_, err = canonicalUsername(u.Username)
		}
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				err = errors.New(e.Message)
			}
			return fmt.Errorf("user %q: %w", u.Username, err)
		}
	}
	return nil
}

// ensureUser creates a configured user, or gives an existing one the
// configured password, so that what the banner prints is what works.
func (s *Server) ensureUser(ctx context.Context, u Credentials) error {
	u.Username = lookupUsername(u.Username) // validate refused the names without one
	existing, err := s.db.UserByName(ctx, u.Username)
	if err != nil && !errors.Is(err, auth.ErrNotFound) {
		return err
	}
	if err == nil && bcrypt.CompareHashAndPassword(existing.PasswordHash, []byte(u.Password)) == nil {
		return nil
	}
	hash, herr := bcrypt.GenerateFromPassword([]byte(u.Password), s.cfg.BcryptCost)
	if herr != nil {
		return herr
	}
	if err == nil {
		return s.db.SetPasswordHash(ctx, u.Username, hash)
	}
	if _, err := s.db.CreateUser(ctx, u.Username, hash, s.clock.Now()); err != nil && !errors.Is(err, auth.ErrUserExists) {
		return fmt.Errorf("create user %s: %w", u.Username, err)
	}
	return nil
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Policy returns the lifetimes and rotation rules in force.
func (s *Server) Policy() Policy { return *s.policy.Load() }

// SetPolicy changes the lifetimes and rotation rules for the requests that
// follow; tokens already issued keep their expiry.
func (s *Server) SetPolicy(p Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	s.policy.Store(&p)
	return nil
}

// tokens returns the signing keys in force. A request that signs or
// verifies more than once loads them once, so it never mixes two keys.
func (s *Server) tokens() *tokens { return s.live.Load() }

// Clock returns the server's clock.
func (s *Server) Clock() *Clock { return s.clock }

// checkAdmin reports whether r carries the admin token.
func (s *Server) checkAdmin(r *http.Request) bool {
	tok, ok := bearer(r)
	sum := sha256.Sum256([]byte(tok))
	return ok && subtle.ConstantTimeCompare(sum[:], s.admin[:]) == 1
}
