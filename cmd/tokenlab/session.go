package main

// What the client commands share: the flags that choose a session, the
// token stores, the session index, and turning the client's errors into
// one sentence that says what to do next.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/pflag"
	"github.com/tokenlab/tokenlab/client"
)

const (
	defaultServer  = "http://127.0.0.1:8080"
	defaultProfile = "tokenlab"
	// keyringProbeTimeout bounds the check that the keyring answers, so
	// that a login without one fails fast.
	keyringProbeTimeout = 5 * time.Second
)

// sessionOptions choose a stored session: the current one by default, or
// the newest one matching --server and --username. --profile and
// --token-store override what the index says.
type sessionOptions struct {
	server     string
	username   string
	profile    string
	tokenStore string
	clientID   string
	client     clientSecretOptions
	apis       []string
	cacert     string
}

func (o *sessionOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.server, "server", "", "the session's server (default: the current session's)")
	f.StringVar(&o.username, "username", "", "the session's user or name (default: the current session's)")
	f.StringVar(&o.profile, "profile", "", "profile name or YAML file (default: the one the session logged in with)")
	f.StringVar(&o.tokenStore, "token-store", "", "keyring, memory or file (default: where the session was kept at login)")
	f.StringVar(&o.clientID, "client-id", "", "OAuth client id, for the oauth2 dialect (a secret from a flag or TOKENLAB_CLIENT_SECRET is used only with it)")
	o.client.addFlags(f)
	f.StringArrayVar(&o.apis, "api", nil, "another origin that may receive the access token for this command (repeatable)")
	addCACertFlag(f, &o.cacert)
}

// addCACertFlag adds --cacert, for servers whose certificate the system
// does not trust.
func addCACertFlag(f *pflag.FlagSet, path *string) {
	f.StringVar(path, "cacert", "", "also trust the CA certificates in this PEM file (a self-signed server's certificate or a private CA; SSL_CERT_FILE replaces the system's instead)")
}

// caCertOption is --cacert as a client option; none when not given.
func caCertOption(path string) ([]client.Option, error) {
	if path == "" {
		return nil, nil
	}
	opt, err := client.WithCACertFile(path)
	if err != nil {
		return nil, usagef("--cacert %s: %v", path, err)
	}
	return []client.Option{opt}, nil
}

// clientSecretOptions say where an OAuth client secret comes from: a
// file, TOKENLAB_CLIENT_SECRET, or a prompt. --client-secret still works
// but is deprecated: ps shows command lines to every user.
type clientSecretOptions struct {
	file, inline string
}

func (o *clientSecretOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.file, "client-secret-file", "", "read the OAuth client secret from the first line of this file")
	f.StringVar(&o.inline, "client-secret", "", "the OAuth client secret (deprecated: visible in ps; use --client-secret-file or TOKENLAB_CLIENT_SECRET)")
}

// warnVisibleSecret warns on stderr when a secret was given as a flag,
// which every user on the machine can read with ps.
func warnVisibleSecret(std streams, flag, instead string) {
	fmt.Fprintf(std.err, "warning: %s is deprecated: every user on this machine can read it with ps; use %s\n", flag, instead)
}

// secret returns the client secret: --client-secret-file, else
// TOKENLAB_CLIENT_SECRET, else --client-secret; when required and none
// is given, it is asked for on the terminal. Empty when none is needed.
func (o clientSecretOptions) secret(std streams, tty *os.File, required bool) (string, error) {
	switch {
	case o.file != "":
		return readSecretFile("--client-secret-file", o.file)
	case o.inline != "":
		warnVisibleSecret(std, "--client-secret", "--client-secret-file or TOKENLAB_CLIENT_SECRET")
		return o.inline, nil
	}
	if v, ok := std.env("TOKENLAB_CLIENT_SECRET"); ok && v != "" {
		return v, nil
	}
	if !required {
		return "", nil
	}
	if tty == nil {
		return "", usagef("the client-credentials flow needs the client's secret: give --client-secret-file FILE or set TOKENLAB_CLIENT_SECRET")
	}
	return secretFromTerminal(std, tty, "Client secret: ")
}

// secretFromTerminal asks for a secret without echo.
func secretFromTerminal(std streams, tty *os.File, prompt string) (string, error) {
	fmt.Fprint(std.err, prompt)
	b, err := term.ReadPassword(tty.Fd())
	fmt.Fprintln(std.err)
	if err != nil {
		return "", fmt.Errorf("read the secret: %w", err)
	}
	if len(b) == 0 {
		return "", usagef("no secret given")
	}
	return string(b), nil
}

// sayLockWaits passes the client's events to next (when not nil) and
// says on stderr when this process waits for another one's refresh,
// naming its PID.
func sayLockWaits(std streams, next func(client.Event)) func(client.Event) {
	return func(e client.Event) {
		if e.Kind == client.EventLockWait {
			fmt.Fprintln(std.err, "tokenlab: "+sentence(e.Detail))
		}
		if next != nil {
			next(e)
		}
	}
}

// session is a chosen session and the client that works with it.
type session struct {
	c     *client.Client
	entry client.IndexEntry // as the index has it (or as the flags named it)
	store client.Store
	kind  string // the store kind in use
	where string // where the tokens are kept, in words
	index *client.Index
	// indexed says the entry came from the index and is used as it was
	// recorded there, so an ended session may be removed from it.
	indexed bool
	// guessed says the index has no such entry: the session is looked
	// for in the keyring all the same, and may not exist at all.
	guessed bool
}

// notLoggedIn is "there is no session": exit code 3, in our own words.
type notLoggedIn struct{ msg string }

func (e notLoggedIn) Error() string { return e.msg }
func (e notLoggedIn) Unwrap() error { return client.ErrLoginRequired }

// open finds the session chosen by the flags and returns a client for it.
func (o sessionOptions) open(opts ...client.Option) (*session, error) {
	ix, err := loadIndex()
	if err != nil {
		return nil, err
	}
	server := strings.TrimRight(o.server, "/")
	e, found := ix.Find(server, o.username)
	switch {
	case found:
	case server != "" && o.username != "":
		// Not in the index: look in the store all the same.
		e = client.IndexEntry{Server: server, Username: o.username, Profile: defaultProfile, Store: client.StoreKeyring}
	case server == "" && o.username == "":
		return nil, notLoggedIn{"not logged in; run tokenlab login"}
	default:
		return nil, notLoggedIn{fmt.Sprintf("no session matches %s; run tokenlab login", describeChoice(server, o.username))}
	}
	return o.openEntry(ix, e, found, opts...)
}

// openEntry returns a client for the session e names; found says e is
// the index's own entry.
func (o sessionOptions) openEntry(ix *client.Index, e client.IndexEntry, found bool, opts ...client.Option) (*session, error) {
	s := &session{entry: e, index: ix, indexed: found, guessed: !found}
	use := e
	if o.profile != "" && o.profile != e.Profile {
		use.Profile, s.indexed = o.profile, false
	}
	if o.tokenStore != "" && o.tokenStore != e.Store {
		use.Store, s.indexed = o.tokenStore, false
	}
	p, _, err := resolveProfile(use.Profile)
	if err != nil {
		return nil, err
	}
	clientID := o.clientID
	if clientID == "" {
		clientID = e.ClientID // as at login
	}
	secret, err := o.secretFor()
	if err != nil {
		return nil, err
	}
	if err := applyOAuth(&p, oauthFlags{id: clientID, secret: secret, scope: e.Scope, resources: e.Resources, crossOrigin: e.CrossOriginEndpoints}); err != nil {
		return nil, err
	}
	p.APIs = append(append(p.APIs, e.APIs...), o.apis...)
	s.store, s.where, err = openStore(use.Store)
	if err != nil {
		return nil, err
	}
	s.kind = use.Store
	ca, err := caCertOption(o.cacert)
	if err != nil {
		return nil, err
	}
	s.c, err = client.New(use.Server, use.Username, p, s.store, append(append([]client.Option{lockDirOption()}, ca...), opts...)...)
	if err != nil {
		return nil, usageError{err}
	}
	return s, nil
}

// secretFor returns the client secret given to this command, for the
// client it names. A secret given on the command line or in
// TOKENLAB_CLIENT_SECRET belongs to the client named with --client-id:
// without one, the session's own kept secret is used and the environment
// is not read, so a secret exported for one client never goes to another
// session's server.
func (o sessionOptions) secretFor() (string, error) {
	if o.clientID != "" {
		return o.client.secret(streams{err: os.Stderr, env: os.LookupEnv}, nil, false)
	}
	if o.client.file != "" || o.client.inline != "" {
		return "", usagef("--client-secret-file and --client-secret need --client-id: a secret goes only to the client it is for")
	}
	return "", nil
}

func describeChoice(server, username string) string {
	switch {
	case server != "" && username != "":
		return fmt.Sprintf("user %s at %s", username, server)
	case server != "":
		return "server " + server
	}
	return "user " + username
}

// fail is the last word on an error of the client: a session that ended
// (refresh refused, or no longer stored) leaves the index too.
func (s *session) fail(err error) error {
	if errors.Is(err, client.ErrLoginRequired) && s.indexed {
		if serr := s.forgetEntry(context.Background()); serr != nil {
			err = errors.Join(err, fmt.Errorf("the session index could not be updated: %w", serr))
		}
		return fmt.Errorf("%w; run tokenlab login --server %s --username %s", explain(err), s.entry.Server, s.entry.Username)
	}
	if s.guessed && errors.Is(err, client.ErrNoKeyring) && !errors.Is(err, client.ErrKeyringLocked) {
		// Nothing says the session exists: not "its tokens are in the keyring".
		return notLoggedIn{fmt.Sprintf("no session of %s at %s is in the session index, and the OS keyring, where one could be kept, cannot be reached (%s); run tokenlab login",
			s.entry.Username, s.entry.Server, keyringReason(err))}
	}
	return explain(err)
}

// keyringReason is the reason in a keyring error's parentheses ("there
// is no D-Bus session"), or the whole error.
func keyringReason(err error) string {
	msg := err.Error()
	if i, j := strings.Index(msg, "("), strings.LastIndex(msg, ")"); i >= 0 && j > i {
		return msg[i+1 : j]
	}
	return msg
}

// forgetEntry removes the session from the index, as one locked update.
func (s *session) forgetEntry(ctx context.Context) error {
	key := s.entry.Key()
	return s.index.Update(ctx, client.DefaultLockDir(), func(ix *client.Index) { ix.Remove(key) })
}

// explain turns the client's errors into what the user can act on.
func explain(err error) error {
	if ue, ok := err.(*url.Error); ok && ue.Err != nil {
		// From http.Client.Do: its "Get "…": " prefix repeats what the
		// client's own error says.
		err = ue.Err
	}
	switch {
	case errors.Is(err, client.ErrUntrustedCertificate):
		return fmt.Errorf("%w; if the server has a self-signed certificate or one from a private CA, give that certificate with --cacert FILE (or set SSL_CERT_FILE)", err)
	case errors.Is(err, client.ErrKeyringLocked):
		return usageError{err} // it says: unlock it
	case errors.Is(err, client.ErrNoKeyring):
		return usageError{fmt.Errorf("%w; this session's tokens are in the OS keyring, so run tokenlab where the keyring is reachable, or log in again with --token-store file or --token-store memory", err)}
	}
	return err
}

// noKeyring is login's answer when the keyring cannot be used: unlock a
// locked one; else the file store, which keeps the session (memory keeps
// nothing for the next command).
func noKeyring(err error) error {
	if errors.Is(err, client.ErrKeyringLocked) {
		return usageError{err}
	}
	return usageError{fmt.Errorf("%w; log in with --token-store file (a plaintext file readable only by you) or --token-store memory (nothing is kept: only this command has the session)", err)}
}

// resolveProfile returns the profile and how the index should name it: a
// built-in name, or a profile file's absolute path.
func resolveProfile(nameOrPath string) (client.Profile, string, error) {
	if nameOrPath == "" {
		nameOrPath = defaultProfile
	}
	p, err := client.ResolveProfile(nameOrPath)
	if err != nil {
		return p, "", usagef("profile: %v", err)
	}
	ref := nameOrPath
	if _, builtin := client.BuiltinProfiles()[nameOrPath]; !builtin {
		if abs, err := filepath.Abs(nameOrPath); err == nil {
			ref = abs
		}
	}
	return p, ref, nil
}

// oauthFlags are the OAuth client settings given on the command line (or
// kept in the session index).
type oauthFlags struct {
	id, secret, scope string
	resources         []string
	crossOrigin       bool
}

// applyOAuth sets the OAuth client settings given on the command line.
func applyOAuth(p *client.Profile, f oauthFlags) error {
	if f.id == "" && f.secret == "" && f.scope == "" && len(f.resources) == 0 && !f.crossOrigin {
		return nil
	}
	if p.Dialect != client.DialectOAuth2 {
		return usagef("--client-id, --client-secret-file, --scope, --resource and --allow-cross-origin-endpoints apply to the oauth2 dialect only, and profile %s speaks %s", p.Name, p.Dialect)
	}
	if f.id != "" {
		p.OAuth.ClientID = f.id
	}
	if f.secret != "" {
		p.OAuth.ClientSecret = f.secret
	}
	if f.scope != "" {
		p.OAuth.Scope = f.scope
	}
	p.OAuth.Resources = append(p.OAuth.Resources, f.resources...)
	p.OAuth.AllowCrossOriginEndpoints = p.OAuth.AllowCrossOriginEndpoints || f.crossOrigin
	return nil
}

// openStore returns the store of that kind and where it keeps tokens, in
// words.
func openStore(kind string) (client.Store, string, error) {
	switch kind {
	case client.StoreKeyring:
		st := client.NewKeyringStore()
		return st, fmt.Sprintf("OS keyring (service %q)", st.Service), nil
	case client.StoreMemory:
		return client.NewMemoryStore(), "memory only (gone when this command ends)", nil
	case client.StoreFile:
		dir, err := sessionsDir()
		if err != nil {
			return nil, "", err
		}
		return &client.FileStore{Dir: dir}, "plaintext file in " + dir, nil
	}
	return nil, "", usagef("--token-store %q: use keyring, memory or file", kind)
}

// sessionsDir is where the file store keeps sessions.
func sessionsDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", usagef("cannot find a config directory (%v); set XDG_CONFIG_HOME", err)
	}
	return filepath.Join(dir, "tokenlab", "sessions"), nil
}

// lockDirOption makes refreshes of several tokenlab processes take turns.
// There is always a lock dir (the cache dir, the config dir, or the temp
// dir): without one, parallel refreshes would revoke the family.
func lockDirOption() client.Option {
	return client.WithLockDir(client.DefaultLockDir())
}

func loadIndex() (*client.Index, error) {
	path, err := client.DefaultIndexPath()
	if err != nil {
		return nil, usagef("cannot find a config directory (%v); set XDG_CONFIG_HOME", err)
	}
	ix, err := client.LoadIndex(path)
	if err != nil {
		return nil, usagef("session index: %v", err)
	}
	return ix, nil
}

// oneLine keeps an error to one line (YAML errors can span several) while
// keeping what it wraps, so exitCode still sees it.
type oneLineError struct{ err error }

func (e oneLineError) Error() string {
	var parts []string
	for _, line := range strings.Split(e.err.Error(), "\n") {
		if line = strings.Join(strings.Fields(line), " "); line != "" {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; ")
}
func (e oneLineError) Unwrap() error { return e.err }

func oneLine(err error) error {
	if err == nil {
		return nil
	}
	return oneLineError{err}
}

// expiresPhrase says when exp is relative to now: "expires in 14m 52s" or
// "expired 3m ago".
func expiresPhrase(exp, now time.Time) string {
	switch {
	case exp.IsZero():
		return "expiry unknown"
	case now.Before(exp):
		return "expires in " + client.HumanDuration(exp.Sub(now))
	}
	return "expired " + client.HumanDuration(now.Sub(exp)) + " ago"
}

// timeText is how the client commands show a time.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.Local().Format("2006-01-02 15:04:05 MST")
}

// styles of the client commands' output.
type authStyles struct {
	title, key, value, good, warn, bad, faint lipgloss.Style
}

func newAuthStyles() authStyles {
	return authStyles{
		title: lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#7D56F4")),
		key:   lipgloss.NewStyle().Foreground(lipgloss.Color("#888888")).Width(16),
		value: lipgloss.NewStyle(),
		good:  lipgloss.NewStyle().Foreground(lipgloss.Color("#04B575")),
		warn:  lipgloss.NewStyle().Foreground(lipgloss.Color("#E5C07B")),
		bad:   lipgloss.NewStyle().Foreground(lipgloss.Color("#E06C75")),
		faint: lipgloss.NewStyle().Foreground(lipgloss.Color("#888888")),
	}
}

// expiryStyle colours an expiry: red when past, yellow within a minute.
func (st authStyles) expiry(exp, now time.Time) lipgloss.Style {
	switch {
	case exp.IsZero():
		return st.faint
	case !now.Before(exp):
		return st.bad
	case exp.Sub(now) < time.Minute:
		return st.warn
	}
	return st.good
}
