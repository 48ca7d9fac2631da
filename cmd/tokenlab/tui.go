package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver"
	"github.com/tokenlab/tokenlab/tui"
)

// tuiOptions are the flags of `tokenlab tui` (and of `tokenlab` alone).
type tuiOptions struct {
	server     string
	profile    string
	tokenStore string
	username   string
	db         string
	noBrowser  bool
	clientID   string
	preset     string // the embedded server's vendor preset
	// watch is an OAuth client's ID: the lab shows that client's families
	// and server events on --server, live (the admin token required).
	watch          string
	adminTokenFile string
	// storeChosen says --token-store was given: then a missing keyring is
	// an error, not a reason to keep the lab's tokens in memory.
	storeChosen bool
	// The embedded server's settings (serve's flags of the same names);
	// settingsChanged says one was given, which --server cannot take.
	policy          mockserver.Policy
	alg             string
	settingsChanged bool
}

// labSettingFlags are the flags that set the embedded server's policy.
var labSettingFlags = []string{"access-ttl", "refresh-ttl", "rotation", "reuse-detection", "reuse-grace", "access-denylist", "alg"}

func addTUIFlags(cmd *cobra.Command, o *tuiOptions) {
	f := cmd.Flags()
	f.StringVar(&o.server, "server", "", "another API to log in to (default: an embedded mock server)")
	f.StringVar(&o.profile, "profile", defaultProfile, "how to talk to the API: tokenlab, seed-json, seed-cookie, oauth2 or a profile YAML file")
	f.StringVar(&o.tokenStore, "token-store", client.StoreKeyring, "where tokens are kept: keyring, memory or file")
	f.StringVar(&o.username, "username", "", "user to prefill (default: the demo user alice on the embedded server)")
	f.StringVar(&o.db, "db", "", "SQLite file of the embedded server (default: tokenlab.db in the user's data dir)")
	f.StringVar(&o.clientID, "client-id", "", "OAuth client id for the browser and device logins, with --profile oauth2 (the embedded server's is tokenlab)")
	f.StringVar(&o.preset, "preset", "", "the embedded server behaves like a provider: "+strings.Join(mockserver.PresetNames(), ", "))
	f.StringVar(&o.watch, "watch", "", "with --server on a tokenlab server: watch this OAuth client's sessions live (its families and server events), e.g. your app's")
	f.StringVar(&o.adminTokenFile, "admin-token-file", "", "read the admin token of --server from the first line of this file (or set TOKENLAB_ADMIN_TOKEN)")
	f.BoolVar(&o.noBrowser, "no-browser", false, "for a browser (PKCE) login, show the authorize URL instead of opening a browser")
	def := mockserver.DefaultConfig()
	o.policy, o.alg = def.Policy, def.Alg
	f.Var((*mockserver.Duration)(&o.policy.AccessTTL), "access-ttl", "the embedded server's access-token lifetime (the settings screen , changes it live)")
	f.Var((*mockserver.Duration)(&o.policy.RefreshTTL), "refresh-ttl", "the embedded server's refresh-token lifetime")
	f.Var((*mockserver.Duration)(&o.policy.ReuseGrace), "reuse-grace", "a spent refresh token replayed within this window gets a fresh pair instead of revocation")
	f.BoolVar(&o.policy.Rotation, "rotation", o.policy.Rotation, "every refresh returns a new refresh token")
	f.BoolVar(&o.policy.ReuseDetection, "reuse-detection", o.policy.ReuseDetection, "replaying a spent refresh token revokes its whole family")
	f.BoolVar(&o.policy.AccessDenylist, "access-denylist", o.policy.AccessDenylist, "logout also rejects the session's unexpired access tokens")
	f.StringVar(&o.alg, "alg", o.alg, "the embedded server's signing algorithm: HS256, RS256, ES256 or EdDSA")
}

func newTUICmd(std streams) *cobra.Command {
	var o tuiOptions
	cmd := &cobra.Command{
		Use:   "tui",
		Short: "Watch tokens live in the terminal UI (the default command)",
		Long: `The terminal UI: log in, then watch the access and refresh tokens age, refresh,
rotate and die. With no --server it runs against an embedded mock server on
loopback whose clock the keys can move; the demo user is alice / password123.
With --server on a tokenlab server (tokenlab serve), TOKENLAB_ADMIN_TOKEN in the
environment gives the lab its admin routes: the clock keys, the server's rows in
the timeline and the family graph then work there too.`,
		Example: `  tokenlab
  tokenlab tui --token-store memory
  tokenlab tui --server http://127.0.0.1:8080 --profile seed-json --username alice
  TOKENLAB_ADMIN_TOKEN=… tokenlab tui --server http://127.0.0.1:8080
  tokenlab tui --server http://127.0.0.1:8080 --admin-token-file admin.txt --watch my-app`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.storeChosen = cmd.Flags().Changed("token-store")
			for _, name := range labSettingFlags {
				o.settingsChanged = o.settingsChanged || cmd.Flags().Changed(name)
			}
			if o.preset != "" && o.server == "" {
				// The preset is the base; each lab setting given overrides its part.
				if err := presetUnderFlags(cmd, o.preset, &o.policy, labSettingFlags); err != nil {
					return usageError{err}
				}
			}
			return tuiRun(cmd.Context(), std, o)
		},
	}
	addTUIFlags(cmd, &o)
	return cmd
}

// labFPS is the TUI's frame rate.
const labFPS = 20

func tuiRun(ctx context.Context, std streams, o tuiOptions) error {
	if o.preset != "" && o.server != "" {
		return usageError{errors.New("--preset sets the rules of the embedded server; another server (--server) keeps its own")}
	}
	if _, err := mockserver.PresetPolicy(o.preset); err != nil {
		return usageError{err}
	}
	if o.settingsChanged && o.server != "" {
		return usagef("--access-ttl, --rotation and the other lab settings are the embedded server's; %s keeps its own (with TOKENLAB_ADMIN_TOKEN the settings screen , changes a tokenlab server's)", o.server)
	}
	if err := o.policy.Validate(); err != nil {
		return usagef("%v", err)
	}
	adminToken, err := tuiAdminToken(std, o)
	if err != nil {
		return err
	}
	if !isTTY(std.in) || !isTTY(std.out) {
		return usagef("the lab is a terminal UI and stdin or stdout is not a terminal; run tokenlab in a terminal, or script it with tokenlab run, login, token and request")
	}
	profile, _, err := resolveProfile(o.profile)
	if err != nil {
		return err
	}
	if o.clientID != "" {
		profile.OAuth.ClientID = o.clientID
	}
	st, _, err := openStore(o.tokenStore)
	if err != nil {
		return err
	}
	opts := tui.Options{Server: o.server, Profile: profile, Store: st, Username: o.username,
		ClientOptions: []client.Option{lockDirOption()}, NoBrowser: o.noBrowser}
	if prefs, err := tui.DefaultPrefsFile(); err == nil {
		opts.PrefsFile = prefs // else nothing is remembered, which costs only a hint
	}
	if ks, ok := st.(*client.KeyringStore); ok && !o.storeChosen {
		// A newcomer without a keyring (a headless box, a container) still
		// gets a working lab: tokens in memory, and the screen says so.
		probeCtx, cancel := context.WithTimeout(ctx, keyringProbeTimeout)
		err := ks.Probe(probeCtx)
		cancel()
		if err != nil {
			opts.Store = client.NewMemoryStore()
			why := err.Error() // "no OS keyring is reachable (there is no D-Bus session)"
			opts.StoreNote = strings.ToUpper(why[:1]) + why[1:] + ", so this run keeps the tokens in memory; pass --token-store file to keep them on disk."
		}
	}
	if v, ok := std.env("NO_COLOR"); ok && v != "" {
		opts.NoColor = true
	}
	opts.AdminToken, opts.Watch = adminToken, o.watch // from a file or the environment only: a secret stays out of argv
	if o.server == "" {
		// The lab picks its server's HS256 secrets, so the inspector can
		// check signatures as the server does (they live in memory only).
		secrets := tui.NewSecrets()
		configure := func(cfg *mockserver.Config) {
			cfg.Policy, cfg.Alg = o.policy, o.alg
			secrets.Configure(cfg) // after the alg: it gives HS256 its secrets
		}
		e, err := startLabServer(ctx, o.db, configure)
		if err != nil {
			return err
		}
		defer func() { e.Close() }() // the server of the last reset
		opts.Embedded, opts.Secrets = e, secrets
		// ctrl+r (twice): the lab again on a new database, for the next class.
		opts.Reset = func(ctx context.Context) (*mockserver.Embedded, error) {
			db, err := databasePath(o.db)
			if err != nil {
				return nil, err
			}
			e.Close()
			for _, f := range []string{db, db + "-wal", db + "-shm"} {
				if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return nil, fmt.Errorf("remove the lab's database: %w", err)
				}
			}
			next, err := startLabServer(ctx, db, configure)
			if err != nil {
				return nil, err
			}
			e = next
			return next, nil
		}
		if opts.Username == "" {
			opts.Username, opts.Password = "alice", "password123"
		}
	}
	// 20 frames a second instead of Bubble Tea's 60: the lab's screens change
	// once a second when idle, and the renderer's ticker waking 60 times a
	// second was most of the idle CPU; 50 ms is still quicker than typing.
	progOpts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(std.in), tea.WithOutput(std.out), tea.WithFPS(labFPS)}
	if opts.NoColor {
		progOpts = append(progOpts, tea.WithColorProfile(colorprofile.Ascii))
	}
	final, err := tea.NewProgram(tui.New(ctx, opts), progOpts...).Run()
	if m, ok := final.(tui.Model); ok {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if cerr := m.Close(closeCtx); cerr != nil {
			fmt.Fprintln(std.err, "tokenlab: could not remove the lab's session: "+cerr.Error())
		}
	}
	if err == tea.ErrProgramKilled && ctx.Err() != nil {
		return nil // interrupted: a normal way to leave
	}
	return err
}

// startLabServer starts the embedded server the TUI runs against: a
// movable (offset) clock and a database in the user's data dir.
func startLabServer(ctx context.Context, db string, configure func(*mockserver.Config)) (*mockserver.Embedded, error) {
	db, err := databasePath(db)
	if err != nil {
		return nil, err
	}
	return mockserver.StartEmbedded(ctx, mockserver.EmbeddedOptions{DB: db, ClockMode: mockserver.ClockOffset, Configure: configure})
}

// isTTY says whether a stream is a terminal (Bubble Tea's own error
// without one is about epoll).
func isTTY(s any) bool {
	f, ok := s.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}
