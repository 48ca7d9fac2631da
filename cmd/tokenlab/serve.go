package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/tokenlab/tokenlab/mockserver"
	"github.com/tokenlab/tokenlab/mockserver/sqlite"
)

// serveOptions are the flags of `tokenlab serve`, as typed.
type serveOptions struct {
	addr string
	db   string // "" means the user's data dir
	// policy holds the settings PUT /admin/settings can change later; its
	// flags are bound to it directly.
	policy         mockserver.Policy
	preset         string // a vendor preset (preset.go), applied before the policy flags
	accessSecret   string
	refreshSecret  string
	alg            string
	clock          string
	adminToken     string
	users          []string
	issuer         string
	audience       string
	json           bool
	logFormat      string
	quiet          bool
	clients        []string // ID:SECRET
	clientFile     string
	codeTTL        string
	deviceTTL      string
	deviceInterval string

	// Secrets kept out of the process list: each names a file to read.
	accessSecretFile  string
	refreshSecretFile string
	adminTokenFile    string
	userFile          string
	allowWeakSecrets  bool
	// openIntrospection answers /oauth/introspect without client
	// authentication, for teaching.
	openIntrospection bool

	// Bounds on what clients can make the server hold.
	maxConns int // 0: below the descriptor limit
	// headerTimeout and bodyTimeout bound the reading of a request's
	// headers and, from then on, of its body.
	headerTimeout string
	bodyTimeout   string
	eventsMax     int
	retention     string
	loginRate     string // "N/s"; "" or "0" for none

	// sources says where each setting not left at its default came from:
	// "flag", "environment", ".env" or "file".
	sources map[string]string

	// The config file (serve_config.go) and what only it or these flags set.
	configFile       string
	printConfig      bool
	file             *serveFile
	registration     string // on or off
	registrationMax  int
	registrationRate string // N/min
	resources        []string
	apiScope         string
}

func defaultServeOptions() serveOptions {
	return serveOptions{
		addr: "127.0.0.1:8080", db: "./tokenlab.db", policy: mockserver.DefaultConfig().Policy,
		alg: "HS256", clock: mockserver.ClockReal,
		users: []string{"alice:password123"}, audience: "tokenlab", logFormat: "text",
		codeTTL: "60s", deviceTTL: "10m", deviceInterval: "5s",
		headerTimeout: "2s", bodyTimeout: "5s",
		eventsMax: mockserver.DefaultEventsMax, retention: mockserver.FormatDuration(mockserver.DefaultRetention),
		registration: "on", registrationMax: mockserver.DefaultRegistrationMax,
		registrationRate: strconv.Itoa(mockserver.DefaultRegistrationPerMinute) + "/min",
	}
}

// envFallbacks are the environment names the seed articles use; a flag
// given on the command line wins over them.
var envFallbacks = []struct{ flag, env string }{
	{"addr", "TOKENLAB_ADDR"},
	{"db", "TOKENLAB_DB"},
	{"access-ttl", "ACCESS_TOKEN_EXPIRY"},
	{"refresh-ttl", "REFRESH_TOKEN_EXPIRY"},
	{"access-secret", "ACCESS_TOKEN_SECRET"},
	{"refresh-secret", "REFRESH_TOKEN_SECRET"},
	{"alg", "TOKENLAB_ALG"},
	{"admin-token", "TOKENLAB_ADMIN_TOKEN"},
	{"client-file", "TOKENLAB_CLIENT_FILE"},
	{"code-ttl", "TOKENLAB_CODE_TTL"},
	{"config", "TOKENLAB_CONFIG"},
	{"preset", "TOKENLAB_PRESET"},
}

func newServeCmd(std streams) *cobra.Command { return newServeCmdRun(std, serveRun) }

// newServeCmdRun is serve with run in place of serveRun, for tests that
// check the options without starting a server.
func newServeCmdRun(std streams, run func(context.Context, streams, serveOptions) error) *cobra.Command {
	opts := defaultServeOptions()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the mock auth server in the foreground",
		Long: `Run the mock auth server: the seed dialect (/login, /token, /logout, /protected),
OAuth 2.0 (/oauth/token, /oauth/revoke, /oauth/introspect, discovery, JWKS), the login
flows (authorization code + PKCE on /oauth/authorize, device authorization on
/oauth/device_authorization and /device, client credentials) and the admin routes
(/admin/clock, /admin/events, /admin/sessions) that need the admin token.

Every server has the public client "tokenlab" (no secret, loopback redirect URIs on any
port). Confidential clients come from --client-file (a YAML or JSON list; see
docs/login-flows.md) or --client ID:SECRET, which shows the secret to anyone who can list
processes: prefer the file.

Settings come from flags, then the environment, then a .env file in the working
directory. Durations take Go's form (90s, 1h30m) or the ms form (1d, 7d).`,
		Example: `  tokenlab serve
  tokenlab serve --clock frozen --access-ttl 1m --admin-token "$TOKEN"
  ACCESS_TOKEN_EXPIRY=30s tokenlab serve --alg ES256 --db :memory:
  tokenlab serve --client-file clients.yaml --code-ttl 2m
  tokenlab serve --preset auth0 --reuse-grace 10s
  tokenlab serve --preset list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sources, err := applyEnv(cmd, std.env)
			if err != nil {
				return err
			}
			if err := applyServeFile(cmd, &opts, sources); err != nil {
				return err
			}
			opts.sources = sources
			if opts.preset == presetList {
				fmt.Fprintln(colorWriter(std, std.out), presetTable())
				return nil
			}
			if err := presetUnderFlags(cmd, opts.preset, &opts.policy, policyFlags); err != nil {
				return err
			}
			if opts.printConfig {
				cfg, err := opts.resolve()
				if err != nil {
					return err
				}
				printConfig(std.out, cmd, opts, cfg)
				return nil
			}
			return run(cmd.Context(), std, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.addr, "addr", opts.addr, "address to listen on (env TOKENLAB_ADDR)")
	f.StringVar(&opts.db, "db", opts.db, "SQLite file, or :memory: (env TOKENLAB_DB)")
	pol := &opts.policy
	f.Var((*mockserver.Duration)(&pol.AccessTTL), "access-ttl", "access-token lifetime (env ACCESS_TOKEN_EXPIRY)")
	f.Var((*mockserver.Duration)(&pol.RefreshTTL), "refresh-ttl", "refresh-token lifetime (env REFRESH_TOKEN_EXPIRY)")
	f.Var((*mockserver.Duration)(&pol.SessionMax), "session-max", "absolute lifetime of a session, however often it rotates")
	f.Var((*mockserver.Duration)(&pol.ReuseGrace), "reuse-grace", "a used refresh token replayed within this window gets a fresh pair instead of revocation")
	f.StringVar(&opts.accessSecret, "access-secret", "", "HS256 secret for access tokens; generated and kept in the DB when unset (env ACCESS_TOKEN_SECRET; deprecated as a flag: visible in ps, use --access-secret-file)")
	f.StringVar(&opts.refreshSecret, "refresh-secret", "", "HS256 secret for refresh tokens (env REFRESH_TOKEN_SECRET; deprecated as a flag: visible in ps, use --refresh-secret-file)")
	f.StringVar(&opts.alg, "alg", opts.alg, "signing algorithm: HS256, RS256, ES256 or EdDSA (env TOKENLAB_ALG)")
	f.BoolVar(&pol.Rotation, "rotation", pol.Rotation, "every refresh returns a new refresh token")
	f.BoolVar(&pol.ReuseDetection, "reuse-detection", pol.ReuseDetection, "replaying a used refresh token revokes its whole family")
	f.BoolVar(&pol.AccessDenylist, "access-denylist", pol.AccessDenylist, "logout also rejects the session's unexpired access tokens")
	f.StringVar(&opts.clock, "clock", opts.clock, "real, offset (real time plus moves) or frozen")
	f.StringVar(&opts.adminToken, "admin-token", "", "token for the /admin routes; generated and printed when unset (env TOKENLAB_ADMIN_TOKEN; deprecated as a flag: visible in ps, use --admin-token-file)")
	f.StringArrayVar(&opts.users, "user", opts.users, "a user to create, as name:password (repeatable)")
	f.StringVar(&opts.issuer, "issuer", "", "iss of the tokens (default: http://<listen address>)")
	f.StringVar(&opts.audience, "audience", opts.audience, "aud of access tokens")
	f.BoolVar(&opts.json, "json", false, "print the start-up banner as one JSON line")
	f.StringVar(&opts.logFormat, "log-format", opts.logFormat, "access log format: text or json")
	f.BoolVar(&opts.quiet, "quiet", false, "log only warnings and errors, not every request")
	f.StringArrayVar(&opts.clients, "client", nil, "a confidential client as ID:SECRET (repeatable; the secret shows in ps, prefer --client-file)")
	f.StringVar(&opts.clientFile, "client-file", "", "YAML or JSON list of clients: id, secret or secret_file, redirect_uris, grant_types, scopes (env TOKENLAB_CLIENT_FILE)")
	f.StringVar(&opts.codeTTL, "code-ttl", opts.codeTTL, "lifetime of an authorization code (env TOKENLAB_CODE_TTL)")
	f.StringVar(&opts.deviceTTL, "device-ttl", opts.deviceTTL, "lifetime of a device code")
	f.StringVar(&opts.deviceInterval, "device-interval", opts.deviceInterval, "polling interval a device code starts with")
	f.StringVar(&opts.accessSecretFile, "access-secret-file", "", "read the HS256 access secret from this file (keeps it out of ps)")
	f.StringVar(&opts.refreshSecretFile, "refresh-secret-file", "", "read the HS256 refresh secret from this file")
	f.StringVar(&opts.adminTokenFile, "admin-token-file", "", "read the admin token from this file")
	f.StringVar(&opts.userFile, "user-file", "", "read users from this file, one name:password a line (# comments)")
	f.IntVar(&opts.maxConns, "max-conns", 0, "most open connections; at the cap the longest-idle one is closed (default: below the open-files limit, at most 4096)")
	f.StringVar(&opts.headerTimeout, "header-timeout", opts.headerTimeout, "most time a client may take to send a request's headers")
	f.StringVar(&opts.bodyTimeout, "body-timeout", opts.bodyTimeout, "most time a client may take to send a request's body, after its headers (408 beyond)")
	f.IntVar(&opts.eventsMax, "events-max", opts.eventsMax, "most rows kept in the event log; the oldest are pruned in the background")
	f.StringVar(&opts.retention, "retention", opts.retention, "how long after a session ends its refresh-token rows are kept")
	f.StringVar(&opts.loginRate, "login-rate", "", "most password checks per second per client address, as N/s (default: no limit)")
	f.BoolVar(&opts.openIntrospection, "open-introspection", false, "answer /oauth/introspect without client authentication, for teaching (a client that names itself still sees only its own tokens)")
	addPresetFlags(f, &opts)
	f.BoolVar(&opts.allowWeakSecrets, "allow-weak-secrets", false, "accept HS256 secrets shorter than 32 bytes, for teaching (a warning is printed)")
	f.StringVar(&opts.configFile, "config", "", "YAML file of settings, users (with claims), clients (with lifetimes) and resources; flags and the environment override it (env TOKENLAB_CONFIG; see docs/tokenlab.example.yaml)")
	f.BoolVar(&opts.printConfig, "print-config", false, "print the effective configuration, secrets redacted, with where each value came from, and exit")
	f.StringVar(&opts.registration, "registration", opts.registration, "RFC 7591 dynamic client registration at /oauth/register: on or off")
	f.IntVar(&opts.registrationMax, "registration-max", opts.registrationMax, "most clients that may register themselves")
	f.StringVar(&opts.registrationRate, "registration-rate", opts.registrationRate, "most registrations per minute per client address, as N/min")
	f.StringArrayVar(&opts.resources, "resource", nil, "an RFC 8707 resource (absolute URI) this server issues tokens for, besides its own origin (repeatable)")
	f.StringVar(&opts.apiScope, "api-scope", "", "the scope the built-in API (/protected, /me) needs; other tokens get 403 insufficient_scope")
	return cmd
}

// applyEnv sets every flag not given on the command line from the
// environment, or else from ./.env. It returns where each setting that is
// not at its default came from, for the banner.
func applyEnv(cmd *cobra.Command, lookup func(string) (string, bool)) (map[string]string, error) {
	sources := map[string]string{}
	cmd.Flags().Visit(func(f *pflag.Flag) { sources[f.Name] = "flag" })
	dotenv, err := readDotEnv(".env")
	if err != nil {
		return nil, usageError{err}
	}
	for _, fe := range envFallbacks {
		// A secret given as a file is given on the command line too.
		if cmd.Flags().Changed(fe.flag) || cmd.Flags().Changed(fe.flag+"-file") {
			continue
		}
		v, ok := lookup(fe.env)
		source := "the environment"
		if !ok {
			v, ok = dotenv[fe.env]
			source = ".env"
		}
		if !ok || v == "" {
			continue
		}
		// Check durations here, where the message can name their source.
		if strings.HasSuffix(fe.flag, "-ttl") {
			if _, err := mockserver.ParseDuration(v); err != nil {
				return nil, usagef("%s=%q in %s: %v", fe.env, v, source, err)
			}
		}
		if err := cmd.Flags().Set(fe.flag, v); err != nil {
			return nil, usagef("%s=%q in %s: %v", fe.env, v, source, err)
		}
		sources[fe.flag] = strings.TrimPrefix(source, "the ")
	}
	return sources, nil
}

// serveConfig is serveOptions checked and converted.
type serveConfig struct {
	mockserver.Config
	addr, db, clock     string
	maxConns            int
	headerTimeout       time.Duration
	bodyTimeout         time.Duration
	adminGenerated      bool // the admin token was made here, so it must be shown
	secretOnCommandLine bool // --client was used: warn
	sources             map[string]string

	// readableConfig warns that the config file's secrets are readable
	// by other users ("" when they are not).
	readableConfig string
}

func (o serveOptions) resolve() (serveConfig, error) {
	cfg := serveConfig{Config: mockserver.DefaultConfig(), addr: o.addr, db: o.db, clock: o.clock, sources: map[string]string{}}
	for k, v := range o.sources {
		cfg.sources[k] = v
	}
	for flag, path := range map[string]string{"access-secret": o.accessSecretFile, "refresh-secret": o.refreshSecretFile,
		"admin-token": o.adminTokenFile, "user": o.userFile} {
		if path != "" {
			delete(cfg.sources, flag+"-file")
			cfg.sources[flag] = "file"
		}
	}
	for _, d := range []struct {
		name string
		in   string
		out  *time.Duration
	}{
		{"code-ttl", o.codeTTL, &cfg.CodeTTL},
		{"device-ttl", o.deviceTTL, &cfg.DeviceTTL},
		{"device-interval", o.deviceInterval, &cfg.DeviceInterval},
		{"header-timeout", o.headerTimeout, &cfg.headerTimeout},
		{"body-timeout", o.bodyTimeout, &cfg.bodyTimeout},
	} {
		v, err := mockserver.ParseDuration(d.in)
		if err != nil {
			return cfg, usagef("--%s: %v", d.name, err)
		}
		*d.out = v
	}
	if cfg.headerTimeout <= 0 || cfg.bodyTimeout <= 0 {
		return cfg, usagef("--header-timeout and --body-timeout must be positive: without them one slow client holds a connection for ever")
	}
	cfg.Alg, cfg.Audience, cfg.Issuer = o.alg, o.audience, o.issuer
	cfg.AccessSecret, cfg.RefreshSecret, cfg.AdminToken = o.accessSecret, o.refreshSecret, o.adminToken
	cfg.AllowWeakSecrets = o.allowWeakSecrets
	cfg.OpenIntrospection = o.openIntrospection
	if err := o.resolveLimits(&cfg); err != nil {
		return cfg, err
	}
	for _, sf := range []struct {
		flag, path string
		out        *string
	}{
		{"access-secret", o.accessSecretFile, &cfg.AccessSecret},
		{"refresh-secret", o.refreshSecretFile, &cfg.RefreshSecret},
		{"admin-token", o.adminTokenFile, &cfg.AdminToken},
	} {
		if sf.path == "" {
			continue
		}
		if o.sources[sf.flag] == "flag" {
			return cfg, usagef("give --%s or --%s-file, not both", sf.flag, sf.flag)
		}
		v, err := readSecretFile("--"+sf.flag+"-file", sf.path)
		if err != nil {
			return cfg, err
		}
		*sf.out = v
	}
	cfg.Policy = o.policy
	if err := o.resolveOIDC(&cfg); err != nil {
		return cfg, err
	}
	users := o.users
	if o.file != nil && len(o.file.users) > 0 && o.sources["user"] != "flag" {
		users = nil // the file's users replace the demo user
	}
	if o.userFile != "" {
		fromFile, err := readUserFile(o.userFile)
		if err != nil {
			return cfg, err
		}
		if o.sources["user"] != "flag" { // the file replaces the demo user
			users = nil
		}
		users = append(users, fromFile...)
	}
	cfg.Users = nil
	if o.file != nil {
		cfg.Users = append(cfg.Users, o.file.users...)
	}
	for _, u := range users {
		name, pass, ok := strings.Cut(u, ":")
		if !ok || name == "" || pass == "" {
			return cfg, usagef("--user: write each user as name:password (the value is not repeated here: it may hold a password)")
		}
		cfg.Users = overrideUser(cfg.Users, mockserver.Credentials{Username: name, Password: pass})
	}
	if cfg.AdminToken == "" {
		cfg.AdminToken, cfg.adminGenerated = "tla_"+randomHex(24), true
	}
	clients, err := o.clientConfigs()
	if err != nil {
		return cfg, err
	}
	cfg.Clients, cfg.secretOnCommandLine = clients, len(o.clients) > 0
	cfg.readableConfig = o.file.readableSecrets()
	return cfg, nil
}

// clientConfigs reads --client-file and --client. A relative secret_file
// is found beside the client file.
func (o serveOptions) clientConfigs() ([]mockserver.ClientConfig, error) {
	var clients []mockserver.ClientConfig
	if o.file != nil {
		clients = append(clients, o.file.clients...)
	}
	if o.clientFile != "" {
		data, err := os.ReadFile(o.clientFile)
		if err != nil {
			return nil, usagef("--client-file: %v", err)
		}
		dir := filepath.Dir(o.clientFile)
		fromFile, err := mockserver.ParseClientFile(data, func(name string) ([]byte, error) {
			if !filepath.IsAbs(name) {
				name = filepath.Join(dir, name)
			}
			return os.ReadFile(name)
		})
		if err != nil {
			return nil, usagef("--client-file %s: %v", o.clientFile, err)
		}
		clients = append(clients, fromFile...)
	}
	for _, v := range o.clients {
		c, err := mockserver.ParseClientFlag(v)
		if err != nil {
			// The flag's value holds a secret: name only the client.
			id, _, _ := strings.Cut(v, ":")
			return nil, usagef("--client %s:…: %v", id, strings.Replace(err.Error(), fmt.Sprintf("--client %q: ", v), "", 1))
		}
		clients = append(clients, c)
	}
	return clients, nil
}

// resolveLimits checks and converts the bounds on connections, events,
// retention and logins.
func (o serveOptions) resolveLimits(cfg *serveConfig) error {
	cfg.maxConns = o.maxConns
	switch {
	case o.maxConns < 0:
		return usagef("--max-conns must not be negative")
	case o.maxConns == 0:
		cfg.maxConns = defaultMaxConns()
	}
	if o.eventsMax < 1 {
		return usagef("--events-max must be at least 1")
	}
	cfg.EventsMax = o.eventsMax
	retention, err := mockserver.ParseDuration(o.retention)
	if err != nil || retention < 0 {
		return usagef("--retention: %q is not a duration such as 7d or 12h", o.retention)
	}
	cfg.Retention = retention
	if o.loginRate != "" {
		n, err := strconv.ParseFloat(strings.TrimSuffix(o.loginRate, "/s"), 64)
		if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
			return usagef("--login-rate: %q is not a rate such as 5/s", o.loginRate)
		}
		cfg.LoginRate = n
	}
	return nil
}

// defaultMaxConns stays well below the open-files limit, which the
// database, the log and the listener need too; 1024 where the limit is
// unknown.
func defaultMaxConns() int {
	limit, ok := descriptorLimit()
	if !ok {
		return 1024
	}
	return int(min(4096, max(32, limit*3/4)))
}

func serveRun(ctx context.Context, std streams, opts serveOptions) error {
	cfg, err := opts.resolve()
	if err != nil {
		return err
	}
	clock, err := mockserver.NewClock(cfg.clock, time.Now)
	if err != nil {
		return usageError{err}
	}
	if cfg.db, err = databasePath(cfg.db); err != nil {
		return err
	}
	db, err := sqlite.Open(ctx, cfg.db)
	if err != nil {
		return err
	}
	defer db.Close()

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return usagef("%s is already in use; pick another address with --addr (127.0.0.1:0 picks a free port)", cfg.addr)
		}
		return usagef("cannot listen on %s: %v", cfg.addr, err)
	}
	defer ln.Close()
	url := "http://" + ln.Addr().String()
	if cfg.Issuer == "" {
		cfg.Issuer = url
	}
	cfg.SecureCookies = !isLoopback(ln.Addr())
	logs := newBatchedWriter(std.err, logFlushDelay)
	defer logs.Flush()
	cfg.Logger = newLogger(logs, opts)
	srv, err := mockserver.New(ctx, db, clock, cfg.Config)
	if errors.Is(err, mockserver.ErrBadConfig) {
		return usageError{errors.New(strings.TrimPrefix(err.Error(), mockserver.ErrBadConfig.Error()+": "))}
	}
	if err != nil {
		return err
	}
	defer srv.Close()
	printBanner(std, opts.json, url, cfg, clock)

	// A client sends its headers and body at once and reuses an idle
	// connection within seconds; holding more costs a descriptor each (see
	// --max-conns). The body's deadline is set by conns.Handler, so that
	// headers and body are bounded each on their own.
	conns := mockserver.NewConnLimiter(cfg.maxConns)
	hs := &http.Server{
		Handler:           conns.Handler(srv, cfg.bodyTimeout),
		ReadHeaderTimeout: cfg.headerTimeout,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       30 * time.Second,
		ConnState:         conns.ConnState,
		ConnContext:       conns.ConnContext,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(srv.WakeDelayed) // a fault's delay must not hold the shutdown
	served := make(chan error, 1)
	go func() { served <- hs.Serve(conns.Listener(ln)) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	cfg.Logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(shutdownCtx)
}

// newLogger logs to w in batches; warnings and errors are written at once.
func newLogger(w *batchedWriter, opts serveOptions) *slog.Logger {
	level := slog.LevelInfo
	if opts.quiet {
		level = slog.LevelWarn
	}
	ho := &slog.HandlerOptions{Level: level}
	if opts.logFormat == "json" {
		return slog.New(flushOnWarn{slog.NewJSONHandler(w, ho), w})
	}
	return slog.New(flushOnWarn{slog.NewTextHandler(w, ho), w})
}

// banner is the start-up summary; --json prints it as one line for scripts.
type banner struct {
	URL        string   `json:"url"`
	AdminToken string   `json:"adminToken,omitempty"` // only when generated
	Preset     string   `json:"preset,omitempty"`     // the vendor preset, when one was chosen
	DB         string   `json:"db"`
	Clock      string   `json:"clock"`
	Now        string   `json:"now"`
	Alg        string   `json:"alg"`
	AccessTTL  string   `json:"accessTtl"`
	RefreshTTL string   `json:"refreshTtl"`
	Users      []string `json:"users"`
	Clients    []string `json:"clients"` // IDs; the first is the public client tokenlab
	CodeTTL    string   `json:"codeTtl"`
	DeviceTTL  string   `json:"deviceTtl"`
	// Sources names where each setting not at its default came from:
	// flag, environment, .env or file.
	Sources  map[string]string `json:"sources,omitempty"`
	MaxConns int               `json:"maxConns"`
	Warnings []string          `json:"warnings,omitempty"`
	// Registration says whether RFC 7591 registration is on; Resources
	// are the RFC 8707 resources served besides the server's origin.
	Registration bool     `json:"registration"`
	Resources    []string `json:"resources,omitempty"`
}

// sensitiveSettings are the settings a stray ./.env must not change
// silently: whoever writes that file would hold the server's keys.
var sensitiveSettings = []string{"addr", "admin-token", "access-secret", "refresh-secret"}

// bannerWarnings are the sentences the banner highlights.
func bannerWarnings(cfg serveConfig, sources map[string]string) []string {
	var warnings []string
	var fromDotEnv []string
	for _, name := range sensitiveSettings {
		if sources[name] == ".env" {
			fromDotEnv = append(fromDotEnv, name)
		}
	}
	if len(fromDotEnv) > 0 {
		warnings = append(warnings, "./.env sets "+strings.Join(fromDotEnv, ", ")+": check that file is yours")
	}
	if cfg.AllowWeakSecrets && cfg.Alg == "HS256" && (weak(cfg.AccessSecret) || weak(cfg.RefreshSecret)) {
		warnings = append(warnings, fmt.Sprintf("weak HS256 secrets allowed (shorter than %d bytes): anyone can brute-force them and forge tokens; for teaching only",
			mockserver.MinSecretBytes))
	}
	if cfg.readableConfig != "" {
		warnings = append(warnings, cfg.readableConfig)
	}
	if cfg.OpenIntrospection {
		warnings = append(warnings, "open introspection: anyone who holds a token can ask whether it is live; for teaching only")
	}
	return warnings
}

func weak(secret string) bool { return secret != "" && len(secret) < mockserver.MinSecretBytes }

func printBanner(std streams, asJSON bool, url string, cfg serveConfig, clock *mockserver.Clock) {
	b := banner{URL: url, DB: cfg.db, Clock: clock.Mode(), Sources: cfg.sources, Warnings: bannerWarnings(cfg, cfg.sources), MaxConns: cfg.maxConns,
		Now: clock.Now().Format(time.RFC3339), Alg: cfg.Alg, AccessTTL: mockserver.FormatDuration(cfg.AccessTTL), RefreshTTL: mockserver.FormatDuration(cfg.RefreshTTL),
		Clients: []string{mockserver.DefaultClientID}, CodeTTL: mockserver.FormatDuration(cfg.CodeTTL), DeviceTTL: mockserver.FormatDuration(cfg.DeviceTTL),
		Registration: cfg.Registration, Resources: cfg.Resources, Preset: cfg.Preset}
	clients := []string{mockserver.DefaultClientID + " (public, loopback redirects)"}
	for _, c := range cfg.Clients {
		b.Clients = append(b.Clients, c.ID)
		clients = append(clients, c.ID+" (confidential)")
	}
	if cfg.secretOnCommandLine {
		// On stderr, in both forms: scripts read stdout's JSON line.
		fmt.Fprintln(std.err, "warning: --client puts a client secret on the command line, where ps and shell history show it; use --client-file (with secret_file) instead")
	}
	warnSecretFlags(std, cfg.sources)
	admin := "(as given; not shown)"
	if cfg.adminGenerated {
		// Printed because nobody else knows it; a token that was passed
		// in may be a CI secret, which must not reach the job's log.
		b.AdminToken, admin = cfg.AdminToken, cfg.AdminToken
	}
	var users []string
	for _, u := range cfg.Users {
		b.Users = append(b.Users, u.Username)
		if u.Username == demoUser.Username && u.Password == demoUser.Password {
			users = append(users, u.Username+" / "+u.Password)
		} else {
			users = append(users, u.Username+" (password as given)")
		}
	}
	if asJSON {
		json.NewEncoder(std.out).Encode(b)
		return
	}
	title := lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#7D56F4"))
	key := lipgloss.NewStyle().Foreground(lipgloss.Color("#888888")).Width(13)
	val := lipgloss.NewStyle().Foreground(lipgloss.Color("#04B575"))
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	rows := [][2]string{
		{"url", url},
		{"users", strings.Join(users, ", ")},
		{"admin token", admin},
		{"database", cfg.db},
		{"clock", b.Clock + " (now " + b.Now + ")"},
		{"tokens", fmt.Sprintf("%s · access %s · refresh %s · session max %s", cfg.Alg, b.AccessTTL, b.RefreshTTL, mockserver.FormatDuration(cfg.SessionMax))},
		{"clients", strings.Join(clients, ", ")},
		{"login flows", fmt.Sprintf("PKCE %s/oauth/authorize · device %s/device (code %s, device %s)", url, url, b.CodeTTL, b.DeviceTTL)},
		{"rotation", fmt.Sprintf("%s · reuse detection %s · grace %s · access denylist %s",
			onOff(cfg.Rotation), onOff(cfg.ReuseDetection), mockserver.FormatDuration(cfg.ReuseGrace), onOff(cfg.AccessDenylist))},
		{"openid", oidcSummary(url, cfg)},
	}
	if cfg.Preset != "" {
		rows = append(rows, [2]string{"preset", cfg.Preset + " (tokenlab serve --preset list shows its rules; flags given override them)"})
	}
	loginRate := "off"
	if cfg.LoginRate > 0 {
		loginRate = fmt.Sprintf("%g/s per address", cfg.LoginRate)
	}
	rows = append(rows, [2]string{"limits", fmt.Sprintf("%d connections · %d events · sessions kept %s after they end · login rate %s",
		cfg.maxConns, cfg.EventsMax, mockserver.FormatDuration(cfg.Retention), loginRate)})
	if from := settingSources(cfg.sources); from != "" {
		rows = append(rows, [2]string{"settings", from})
	}
	w := colorWriter(std, std.out)
	fmt.Fprintln(w, title.Render("tokenlab mock server")+" ready")
	for _, r := range rows {
		fmt.Fprintln(w, "  "+key.Render(r[0])+val.Render(r[1]))
	}
	warn := lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FFAF00"))
	for _, msg := range b.Warnings {
		fmt.Fprintln(w, "  "+key.Render("warning")+warn.Render(msg))
	}
	fmt.Fprintln(w, "  "+key.Render("try")+"curl -s "+url+`/login -H 'Content-Type: application/json' -d '{"username":"alice","password":"password123"}'`)
}

// settingSources lists the settings that came from somewhere other than a
// flag, as "access-ttl from environment · addr from .env".
func settingSources(sources map[string]string) string {
	var parts []string
	for name, src := range sources {
		if src != "flag" {
			parts = append(parts, name+" from "+src)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " · ")
}

// readUserFile reads name:password lines; blank lines and # comments are
// skipped.
func readUserFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--user-file: %v", err)
	}
	var users []string
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if name, pass, ok := strings.Cut(line, ":"); !ok || name == "" || pass == "" {
			return nil, usagef("--user-file: %s:%d: write each user as name:password", path, n+1)
		}
		users = append(users, line)
	}
	if len(users) == 0 {
		return nil, usagef("--user-file: %s names no user", path)
	}
	return users, nil
}

// demoUser is the built-in user; only its password is printed.
var demoUser = mockserver.Credentials{Username: "alice", Password: "password123"}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// databasePath makes ready the folder of a database file: the user's data
// dir when path is empty. ":memory:" needs nothing.
func databasePath(path string) (string, error) {
	if path == ":memory:" {
		return path, nil
	}
	// A URL is not a file name: a postgres:// DSN used to become a SQLite
	// file named after it, its password printed in the banner.
	if scheme, _, ok := strings.Cut(path, "://"); ok && scheme != "" && !strings.ContainsAny(scheme, `/\.`) {
		return "", usagef("--db takes a SQLite file or :memory:; %s:// URLs are not supported yet (the URL was not printed, in case it holds a password)", scheme)
	}
	if path == "" {
		dir, err := dataDir()
		if err != nil {
			return "", usagef("cannot find a data directory (%v); pass --db", err)
		}
		path = filepath.Join(dir, "tokenlab.db")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create the database folder: %w", err)
	}
	return path, nil
}

func dataDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "tokenlab"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "share", "tokenlab"), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// secretFlags are serve's secrets that have a -file twin and an
// environment variable.
var secretFlags = []struct{ flag, env string }{
	{"admin-token", "TOKENLAB_ADMIN_TOKEN"},
	{"access-secret", "ACCESS_TOKEN_SECRET"},
	{"refresh-secret", "REFRESH_TOKEN_SECRET"},
}

// warnSecretFlags warns, as every command does, about each secret given
// as a flag: ps shows it to every user on the machine.
func warnSecretFlags(std streams, sources map[string]string) {
	for _, s := range secretFlags {
		if sources[s.flag] == "flag" {
			warnVisibleSecret(std, "--"+s.flag, "--"+s.flag+"-file or "+s.env)
		}
	}
}
