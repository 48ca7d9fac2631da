package main

// The client commands that manage a session: login, status, token, logout.
// request is in request.go; what they share is in session.go.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/internal/termtext"
)

// ---- login ----

type loginOptions struct {
	server, profile, username string
	password                  passwordSource
	tokenStore                string
	clientID, scope           string
	client                    clientSecretOptions
	flow                      string
	noBrowser                 bool
	redirectPort              int
	loginTimeout              time.Duration
	resources, apis           []string
	crossOriginEndpoints      bool
	json                      bool
	cacert                    string
}

func newLoginCmd(std streams) *cobra.Command {
	opts := loginOptions{server: defaultServer, profile: defaultProfile, tokenStore: client.StoreKeyring, loginTimeout: client.DefaultLoginTimeout}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in and keep the session",
		Long: `Log in and keep the session: the refresh and access tokens go to the OS keyring
(or, when asked, memory or a plaintext file), and the session becomes the current
one for status, token, request and logout.

Flows (--flow): password (a username and password; read from the first line of
stdin with --password-stdin or of a file with --password-file, or else asked
for on the terminal without echo),
pkce (the browser logs in at the server and comes back to a listener on
127.0.0.1: authorization code + PKCE), device (enter a code shown here on any
device: RFC 8628), client-credentials (the OAuth client itself, with its secret).
Without --flow, the seed and tokenlab profiles use password; the oauth2 profile
reads the server's discovery document and picks pkce when it has an authorization
endpoint and a browser can be opened, else device, else password, and says why.

PKCE and device logins need no --username: the session is named after the
token's preferred_username, username or sub claim (--username names it
yourself); a client-credentials session is named after the client id.

A confidential client's secret comes from --client-secret-file, the
TOKENLAB_CLIENT_SECRET environment variable, or a prompt (never the command line,
where ps shows it); it is kept with the session so refresh and logout work later.`,
		Example: `  printf %s "$PASSWORD" | tokenlab login --username alice --password-stdin
  tokenlab login --server https://api.example.com --profile seed-json --username bob
  tokenlab login --server http://127.0.0.1:4444 --profile oauth2 --client-id tokenlab --flow pkce
  tokenlab login --profile oauth2 --client-id tokenlab --flow device --no-browser
  tokenlab login --profile oauth2 --client-id robot --client-secret-file robot.secret --flow client-credentials
  tokenlab login --profile oauth2 --client-id cli --api http://127.0.0.1:8080 --resource http://127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			err := loginRun(cmd.Context(), std, opts)
			if err != nil && cmd.Context().Err() != nil {
				// Ctrl-C (or SIGTERM) at the prompt, in the browser wait or
				// the device poll: one sentence and 130, as run does.
				return loginInterrupted{}
			}
			return oneLine(err)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.server, "server", opts.server, "base URL of the API")
	f.StringVar(&opts.profile, "profile", opts.profile, "how to talk to the API: "+strings.Join(client.BuiltinProfileNames(), ", ")+", or a profile YAML file")
	f.StringVar(&opts.username, "username", "", "the user to log in as (password flow), or the session's name (other flows)")
	opts.password.addFlags(f, "the")
	f.StringVar(&opts.tokenStore, "token-store", opts.tokenStore, "where to keep the tokens: keyring, memory or file (plaintext)")
	f.StringVar(&opts.flow, "flow", "", "password, pkce, device or client-credentials (default: chosen from the profile and the server)")
	f.BoolVar(&opts.noBrowser, "no-browser", false, "do not open a browser: print the URL (pkce) or the code and URL (device) on stderr")
	f.IntVar(&opts.redirectPort, "redirect-port", 0, "the loopback port for the PKCE redirect (default: a free one)")
	f.DurationVar(&opts.loginTimeout, "login-timeout", opts.loginTimeout, "how long to wait for the browser (pkce) or the approval (device)")
	f.StringVar(&opts.clientID, "client-id", "", "OAuth client id, for the oauth2 dialect")
	opts.client.addFlags(f)
	f.StringVar(&opts.scope, "scope", "", "OAuth scope to ask for, for the oauth2 dialect")
	f.StringArrayVar(&opts.resources, "resource", nil, "an RFC 8707 resource indicator to ask tokens for (repeatable)")
	f.StringArrayVar(&opts.apis, "api", nil, "another origin that may receive the access token, e.g. http://127.0.0.1:8080 (repeatable; kept with the session)")
	f.BoolVar(&opts.crossOriginEndpoints, "allow-cross-origin-endpoints", false, "accept OAuth discovery that puts endpoints on another origin than the issuer")
	f.BoolVar(&opts.json, "json", false, "print the session as JSON")
	addCACertFlag(f, &opts.cacert)
	return cmd
}

// loginInterrupted is a login ended by a signal: exit code 130.
type loginInterrupted struct{}

func (loginInterrupted) Error() string { return "login interrupted; nothing was logged in" }

// loginResult is login's --json output. It holds no token.
type loginResult struct {
	Server           string    `json:"server"`
	Profile          string    `json:"profile"`
	Username         string    `json:"username"`
	Store            string    `json:"store"`
	Flow             string    `json:"flow"`
	AccessExpiresAt  time.Time `json:"accessExpiresAt,omitzero"`
	RefreshExpiresAt time.Time `json:"refreshExpiresAt,omitzero"`
}

func loginRun(ctx context.Context, std streams, opts loginOptions) error {
	if opts.flow != "" && !slices.Contains([]string{client.FlowPassword, client.FlowPKCE, client.FlowDevice, client.FlowClientCredentials}, opts.flow) {
		return usagef("--flow %q: use password, pkce, device or client-credentials", opts.flow)
	}
	if opts.flow == client.FlowPassword && opts.username == "" {
		return usagef("--username is required for the password flow, e.g. tokenlab login --username alice --password-stdin")
	}
	if opts.loginTimeout <= 0 {
		return usagef("--login-timeout must be positive, e.g. 5m")
	}
	if err := opts.password.check(); err != nil {
		return err
	}
	p, profileRef, err := resolveProfile(opts.profile)
	if err != nil {
		return err
	}
	if err := loginAtResource(ctx, std, &opts, p); err != nil {
		return err
	}
	if opts.flow == "" && p.Dialect != client.DialectOAuth2 && opts.username == "" {
		return usagef("--username is required, e.g. tokenlab login --username alice --password-stdin")
	}
	tty, isTTY := terminal(std.in)
	passwordFlow := opts.flow == client.FlowPassword || (opts.flow == "" && p.Dialect != client.DialectOAuth2)
	if passwordFlow && !opts.password.given() && !isTTY {
		return usagef("stdin is not a terminal, so the password cannot be asked for; pipe it in with --password-stdin or give --password-file")
	}
	secret, err := opts.client.secret(std, tty, opts.flow == client.FlowClientCredentials)
	if err != nil {
		return err
	}
	if err := applyOAuth(&p, oauthFlags{id: opts.clientID, secret: secret, scope: opts.scope, resources: opts.resources, crossOrigin: opts.crossOriginEndpoints}); err != nil {
		return err
	}
	p.APIs = append(p.APIs, opts.apis...)
	st, where, err := openStore(opts.tokenStore)
	if err != nil {
		return err
	}
	ca, err := caCertOption(opts.cacert)
	if err != nil {
		return err
	}
	c, err := client.New(opts.server, opts.username, p, st, append([]client.Option{lockDirOption()}, ca...)...)
	if err != nil {
		return usageError{err}
	}
	// Check the keyring before anything reaches the server or the disk.
	if ks, ok := st.(*client.KeyringStore); ok {
		pctx, cancel := context.WithTimeout(ctx, keyringProbeTimeout)
		err := ks.Probe(pctx)
		cancel()
		if err != nil {
			if errors.Is(err, client.ErrNoKeyring) || errors.Is(err, context.DeadlineExceeded) {
				return noKeyring(err)
			}
			return err
		}
	}
	// A damaged index fails the login before the server is asked.
	ix, err := loadIndex()
	if err != nil {
		return err
	}
	browser := !opts.noBrowser && canOpenBrowser(std)
	flow := opts.flow
	if flow == "" && opts.password.given() && p.Dialect == client.DialectOAuth2 {
		// A piped password says which flow is meant.
		flow = client.FlowPassword
		if err := c.CheckFlow(ctx, flow); err != nil {
			return fmt.Errorf("login failed: %w", explain(err))
		}
		fmt.Fprintf(std.err, "Using the password flow: %s was given.\n", opts.password.flag())
	}
	if flow == "" {
		choice, err := c.ChooseFlow(ctx, browser)
		if err != nil {
			return fmt.Errorf("login failed: %w", explain(err))
		}
		flow = choice.Flow
		if p.Dialect == client.DialectOAuth2 {
			fmt.Fprintf(std.err, "Using the %s flow: %s.\n", flow, choice.Reason)
		}
	} else if err := c.CheckFlow(ctx, flow); err != nil {
		return fmt.Errorf("login failed: %w", explain(err))
	}
	if fs, ok := st.(*client.FileStore); ok {
		path := fs.Dir
		if c.Username() != "" {
			path = fs.Path(c.Key())
		}
		fmt.Fprintf(std.err, "warning: --token-store file keeps the tokens in plaintext in %s (readable only by you); anyone who can read it holds the session\n", path)
	}
	sess, err := runFlow(ctx, std, c, flow, opts, tty, isTTY, browser)
	if err != nil {
		if errors.Is(err, client.ErrNoKeyring) {
			return noKeyring(err)
		}
		return fmt.Errorf("login failed: %w", explain(err))
	}
	entry := client.IndexEntry{Server: c.Server(), Profile: profileRef, Username: c.Username(), Store: opts.tokenStore,
		ClientID: c.Profile().OAuth.ClientID, Scope: c.Profile().OAuth.Scope, Resources: opts.resources, APIs: opts.apis,
		CrossOriginEndpoints: opts.crossOriginEndpoints}
	if opts.tokenStore != client.StoreMemory {
		if err := ix.Update(ctx, client.DefaultLockDir(), func(ix *client.Index) { ix.Put(entry, true) }); err != nil {
			return fmt.Errorf("logged in, but the session index could not be written (%v); tokenlab token will not find this session", err)
		}
	}
	if fs, ok := st.(*client.FileStore); ok {
		where = "plaintext file " + fs.Path(c.Key())
	}
	if opts.json {
		return writeJSON(std.out, loginResult{Server: entry.Server, Profile: entry.Profile, Username: entry.Username,
			Store: entry.Store, Flow: flow, AccessExpiresAt: sess.AccessExpiry, RefreshExpiresAt: sess.RefreshExpiry})
	}
	sty := newAuthStyles()
	now := time.Now()
	w := colorWriter(std, std.out)
	fmt.Fprintln(w, sty.good.Render("✓")+" Logged in as "+sty.title.Render(entry.Username)+" at "+c.Server())
	rows := [][2]string{
		{"profile", profileRef},
		{"flow", flow},
		{"tokens kept in", where},
		{"access token", expiryLine(sty, sess.AccessExpiry, now)},
		{"refresh token", refreshLine(sty, sess, now)},
	}
	if sess.IDToken != "" || len(sess.IDClaims) > 0 {
		rows = append(rows, [2]string{"ID token", idTokenRow(sty, sess, now)})
	}
	for _, r := range rows {
		fmt.Fprintln(w, "  "+sty.key.Render(r[0])+r[1])
	}
	if opts.tokenStore == client.StoreMemory {
		fmt.Fprintln(w, "  "+sty.warn.Render("the session lived in memory only: nothing was kept, so other tokenlab commands will not find it"))
	}
	return nil
}

// runFlow logs in with the chosen flow, talking to the user on stderr.
func runFlow(ctx context.Context, std streams, c *client.Client, flow string, opts loginOptions, tty *os.File, isTTY, browser bool) (client.Session, error) {
	switch flow {
	case client.FlowPKCE:
		// The browser is given only the one-time start URL (its command
		// line is public); the authorize URL goes to this user's stderr.
		opened := false
		var startBrowser client.Opener
		if browser {
			startBrowser = func(ctx context.Context, u string) error {
				err := client.OpenBrowser(ctx, u)
				opened = err == nil
				return err
			}
		}
		open := func(ctx context.Context, u string) error {
			if opened {
				fmt.Fprintf(std.err, "Opened the browser to log in; if it did not appear, open this URL:\n  %s\n", u)
				return nil
			}
			fmt.Fprintf(std.err, "Open this URL in a browser to log in:\n  %s\n", u)
			return nil
		}
		sess, err := c.LoginPKCE(ctx, client.PKCEOptions{Browser: startBrowser, Open: open, RedirectPort: opts.redirectPort, Timeout: opts.loginTimeout})
		if errors.Is(err, client.ErrLoginTimeout) {
			err = fmt.Errorf("%w; run tokenlab login again (--login-timeout waits longer), or use --flow device where no browser can reach this machine", err)
		}
		return sess, err
	case client.FlowDevice:
		show := func(ctx context.Context, d client.DeviceCode) error {
			fmt.Fprintf(std.err, "To log in, open %s and enter the code %s (it expires in %s).\n", d.VerificationURI, d.UserCode, client.HumanDuration(d.ExpiresIn))
			if browser {
				// Only the page: verification_uri_complete holds the user
				// code, and the opener's command line is readable by every
				// local user (ps), who could approve the login as
				// themselves. The code is on this user's terminal.
				client.OpenBrowser(ctx, d.VerificationURI)
			}
			return nil
		}
		sess, err := c.LoginDevice(ctx, client.DeviceOptions{Show: show, Timeout: opts.loginTimeout})
		if errors.Is(err, client.ErrLoginTimeout) {
			err = fmt.Errorf("%w; run tokenlab login again (--login-timeout waits longer)", err)
		}
		return sess, err
	case client.FlowClientCredentials:
		return c.LoginClientCredentials(ctx)
	}
	if c.Username() == "" {
		return client.Session{}, usagef("--username is required for the password flow, e.g. tokenlab login --username alice --password-stdin")
	}
	if !opts.password.given() && !isTTY {
		return client.Session{}, usagef("stdin is not a terminal, so the password cannot be asked for; pipe it in with --password-stdin or give --password-file")
	}
	var password string
	var err error
	if opts.password.given() {
		password, err = opts.password.read(std)
	} else {
		password, err = passwordFromTerminal(ctx, std, tty, fmt.Sprintf("Password for %s at %s: ", c.Username(), c.Server()))
	}
	if err != nil {
		return client.Session{}, err
	}
	return c.Login(ctx, password)
}

// canOpenBrowser says whether a browser can be shown here: always on
// macOS and Windows, with a display elsewhere.
func canOpenBrowser(std streams) bool {
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	for _, name := range []string{"DISPLAY", "WAYLAND_DISPLAY"} {
		if v, ok := std.env(name); ok && v != "" {
			return true
		}
	}
	return false
}

// refreshLine is the refresh token's row of login and status.
func refreshLine(st authStyles, sess client.Session, now time.Time) string {
	switch {
	case sess.RefreshToken != "":
		return expiryLine(st, sess.RefreshExpiry, now)
	case sess.Grant == client.FlowClientCredentials:
		return st.faint.Render("no refresh token: the grant runs again when the access token expires")
	}
	return st.faint.Render("no refresh token: the server gave none, so log in again when the access token expires")
}

func expiryLine(st authStyles, exp, now time.Time) string {
	if exp.IsZero() {
		return st.faint.Render("expiry unknown (not a JWT, and no expires_in)")
	}
	return timeText(exp) + " " + st.expiry(exp, now).Render("("+expiresPhrase(exp, now)+")")
}

// terminal returns stdin as a file when it is a terminal.
func terminal(in io.Reader) (*os.File, bool) {
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(f.Fd()) {
		return nil, false
	}
	return f, true
}

// passwordFromTerminal asks for the password without echo. Ctrl-C gives
// the terminal back as it was.
func passwordFromTerminal(ctx context.Context, std streams, tty *os.File, prompt string) (string, error) {
	fd := tty.Fd()
	state, err := term.GetState(fd)
	if err != nil {
		return "", fmt.Errorf("read the terminal's state: %w", err)
	}
	fmt.Fprint(std.err, prompt)
	type result struct {
		pw  []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		pw, err := term.ReadPassword(fd)
		done <- result{pw, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(std.err)
		if r.err != nil {
			return "", fmt.Errorf("read the password: %w", r.err)
		}
		if len(r.pw) == 0 {
			return "", usagef("no password given")
		}
		return string(r.pw), nil
	case <-ctx.Done():
		term.Restore(fd, state)
		fmt.Fprintln(std.err)
		return "", errors.New("login cancelled")
	}
}

// writeJSON writes v as indented JSON, the --json output of every
// command, with the characters a terminal would obey (C1 and bidi
// controls, which encoding/json passes) as \uXXXX escapes (termtext):
// the same JSON value, safe to show.
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(termtext.JSON(b.Bytes()))
	return err
}

// ---- status ----

type statusOptions struct {
	session sessionOptions
	json    bool
	all     bool
	now     func() time.Time
}

func newStatusCmd(std streams) *cobra.Command {
	opts := statusOptions{now: time.Now}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the current session",
		Long: `Show the current session (or the one chosen with --server and --username): who,
where, which profile, where the tokens are kept, when the access and refresh tokens
expire, and how often the session was refreshed. It does not contact the server.`,
		Example: `  tokenlab status
  tokenlab status --server http://127.0.0.1:8080 --username bob
  tokenlab status --json | jq .accessExpiresAt
  tokenlab status --all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return oneLine(statusRun(cmd.Context(), std, opts))
		},
	}
	opts.session.addFlags(cmd.Flags())
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the session as JSON")
	cmd.Flags().BoolVar(&opts.all, "all", false, "list every stored session: server, user, profile, where kept, expiries")
	return cmd
}

// statusResult is status's --json output. It holds no token.
type statusResult struct {
	Server           string    `json:"server"`
	Profile          string    `json:"profile"`
	Username         string    `json:"username"`
	Store            string    `json:"store"`
	StoreDescription string    `json:"storeDescription"`
	Current          bool      `json:"current"`
	AccessExpiresAt  time.Time `json:"accessExpiresAt,omitzero"`
	AccessExpired    bool      `json:"accessExpired"`
	RefreshExpiresAt time.Time `json:"refreshExpiresAt,omitzero"`
	RefreshExpired   bool      `json:"refreshExpired"`
	HasRefreshToken  bool      `json:"hasRefreshToken"`
	Refreshes        int       `json:"refreshes"`
	// IDToken holds the verified ID token's claims; absent without one.
	IDToken client.IDClaims `json:"idToken,omitempty"`
	// ServerClockOffset is the server's clock minus this machine's as its
	// last answer said (over a second only), e.g. "16m0s".
	ServerClockOffset string `json:"serverClockOffset,omitempty"`
}

func statusRun(ctx context.Context, std streams, opts statusOptions) error {
	if opts.all {
		return statusAllRun(ctx, std, opts)
	}
	s, err := opts.session.open()
	if err != nil {
		return err
	}
	sess, err := s.c.Session(ctx)
	if err != nil {
		if errors.Is(err, client.ErrLoginRequired) && s.indexed {
			s.fail(err) // drop the index entry that points nowhere
			return notLoggedIn{fmt.Sprintf("not logged in: the session of %s at %s is no longer stored; run tokenlab login", s.entry.Username, s.entry.Server)}
		}
		return s.fail(err)
	}
	// Expiry is judged by the server's clock, as the session's last
	// answer told it.
	offset := s.c.ServerClockOffset()
	now := opts.now().Add(offset)
	profile := s.entry.Profile
	if opts.session.profile != "" {
		profile = opts.session.profile
	}
	res := statusResult{Server: s.c.Server(), Profile: profile, Username: sess.Username, Store: s.kind,
		StoreDescription: s.where, Current: s.index.Current == s.entry.Key(),
		AccessExpiresAt: sess.AccessExpiry, AccessExpired: !sess.AccessExpiry.IsZero() && !now.Before(sess.AccessExpiry),
		RefreshExpiresAt: sess.RefreshExpiry, RefreshExpired: !sess.RefreshExpiry.IsZero() && !now.Before(sess.RefreshExpiry),
		HasRefreshToken: sess.RefreshToken != "", IDToken: sess.IDTokenClaims(), Refreshes: sess.Refreshes}
	if res.Username == "" {
		res.Username = s.entry.Username
	}
	if offset.Abs() > time.Second {
		res.ServerClockOffset = offset.Round(time.Second).String()
	}
	if fs, ok := s.store.(*client.FileStore); ok {
		res.StoreDescription = "plaintext file " + fs.Path(s.c.Key())
	}
	if opts.json {
		return writeJSON(std.out, res)
	}
	st := newAuthStyles()
	w := colorWriter(std, std.out)
	head := st.title.Render(res.Username) + " at " + res.Server
	if res.Current {
		head += st.faint.Render(" (current session)")
	}
	fmt.Fprintln(w, head)
	rows := [][2]string{
		{"user", res.Username},
		{"server", res.Server},
		{"profile", res.Profile},
		{"tokens kept in", res.StoreDescription},
		{"access token", expiryLine(st, res.AccessExpiresAt, now)},
		{"refresh token", refreshLine(st, sess, now)},
	}
	if res.ServerClockOffset != "" {
		rows = append(rows, [2]string{"server clock", st.warn.Render(clockOffsetPhrase(offset)) +
			st.faint.Render(" (its Date header at the last answer; expiry is judged by it)")})
	}
	if s.c.Profile().Dialect == client.DialectOAuth2 {
		rows = append(rows, [2]string{"ID token", idTokenRow(st, sess, now)})
	}
	rows = append(rows, [2]string{"refreshes", fmt.Sprintf("%d since login", res.Refreshes)})
	for _, r := range rows {
		fmt.Fprintln(w, "  "+st.key.Render(r[0])+r[1])
	}
	return nil
}

// clockOffsetPhrase says how far the server's clock is from this
// machine's: "16m 0s ahead of this machine's".
func clockOffsetPhrase(offset time.Duration) string {
	if offset < 0 {
		return client.HumanDuration(-offset) + " behind this machine's"
	}
	return client.HumanDuration(offset) + " ahead of this machine's"
}

// ---- token ----

func newTokenCmd(std streams) *cobra.Command {
	var opts sessionOptions
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a valid access token",
		Long: `Print the session's access token on stdout and nothing else, refreshing it first
when it expires within 30 seconds. Several tokenlab processes refresh one session
only once between them.`,
		Example: `  curl -H "Authorization: Bearer $(tokenlab token)" http://127.0.0.1:8080/protected
  tokenlab token --server http://127.0.0.1:8080 --username bob | tokenlab decode`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return oneLine(tokenRun(cmd.Context(), std, opts))
		},
	}
	opts.addFlags(cmd.Flags())
	return cmd
}

func tokenRun(ctx context.Context, std streams, opts sessionOptions) error {
	// stdout carries only the token; a wait on another process's refresh
	// is said on stderr, naming that process.
	s, err := opts.open(client.WithEvents(sayLockWaits(std, nil)))
	if err != nil {
		return err
	}
	// The token's exp is in the server's time, and a lab server's clock
	// may have moved since the session's last answer: ask it first. An
	// unreachable server leaves the judgment to the kept offset.
	s.c.SyncServerClock(ctx)
	tok, err := s.c.Token(ctx)
	if err != nil {
		return s.fail(err)
	}
	_, err = fmt.Fprintln(std.out, tok)
	return err
}

// ---- logout ----

func newLogoutCmd(std streams) *cobra.Command {
	var opts sessionOptions
	var all bool
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Log out: revoke the session and forget it",
		Long: `Revoke the session on the server, then remove its tokens from the store and the
session from the index. The local session is removed even when the server cannot
be told, and tokenlab says so.`,
		Example: `  tokenlab logout
  tokenlab logout --server http://127.0.0.1:8080 --username bob
  tokenlab logout --all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all {
				return oneLine(logoutAllRun(cmd.Context(), std, opts))
			}
			return oneLine(logoutRun(cmd.Context(), std, opts))
		},
	}
	opts.addFlags(cmd.Flags())
	cmd.Flags().BoolVar(&all, "all", false, "log out every stored session")
	return cmd
}

func logoutRun(ctx context.Context, std streams, opts sessionOptions) error {
	s, err := opts.open()
	if err != nil {
		return err
	}
	rep, err := s.c.LogoutReport(ctx)
	if errors.Is(err, client.ErrLoginRequired) {
		if s.indexed {
			s.fail(err)
		}
		return notLoggedIn{fmt.Sprintf("not logged in as %s at %s; nothing to log out", s.entry.Username, s.entry.Server)}
	}
	if errors.Is(err, client.ErrNoKeyring) {
		return s.fail(err)
	}
	// When the local session is gone (the client removes it even when the
	// server could not be told), so is its index entry.
	if _, lerr := s.store.Load(ctx, s.c.Key()); errors.Is(lerr, client.ErrNoSession) && s.kind == s.entry.Store {
		if serr := s.forgetEntry(ctx); serr != nil {
			err = errors.Join(err, fmt.Errorf("the session index could not be updated: %w", serr))
		}
	}
	if err != nil {
		return explain(err)
	}
	st := newAuthStyles()
	fmt.Fprintln(colorWriter(std, std.out), st.good.Render("✓")+" Logged out "+st.title.Render(s.entry.Username)+" at "+s.c.Server()+
		": "+rep.Server+"; the local session is removed from the "+s.where)
	return nil
}
