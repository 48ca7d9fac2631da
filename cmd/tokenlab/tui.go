package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
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
	// storeChosen says --token-store was given: then a missing keyring is
	// an error, not a reason to keep the lab's tokens in memory.
	storeChosen bool
}

func addTUIFlags(cmd *cobra.Command, o *tuiOptions) {
	f := cmd.Flags()
	f.StringVar(&o.server, "server", "", "another API to log in to (default: an embedded mock server)")
	f.StringVar(&o.profile, "profile", defaultProfile, "how to talk to the API: tokenlab, seed-json, seed-cookie, oauth2 or a profile YAML file")
	f.StringVar(&o.tokenStore, "token-store", client.StoreKeyring, "where tokens are kept: keyring, memory or file")
	f.StringVar(&o.username, "username", "", "user to prefill (default: the demo user alice on the embedded server)")
	f.StringVar(&o.db, "db", "", "SQLite file of the embedded server (default: tokenlab.db in the user's data dir)")
	f.StringVar(&o.clientID, "client-id", "", "OAuth client id for the browser and device logins, with --profile oauth2 (the embedded server's is tokenlab)")
	f.StringVar(&o.preset, "preset", "", "the embedded server behaves like a provider: "+strings.Join(mockserver.PresetNames(), ", "))
	f.BoolVar(&o.noBrowser, "no-browser", false, "for a browser (PKCE) login, show the authorize URL instead of opening a browser")
}

func newTUICmd(std streams) *cobra.Command {
	var o tuiOptions
	cmd := &cobra.Command{
		Use:   "tui",
		Short: "Watch tokens live in the terminal UI (the default command)",
		Long: `The terminal UI: log in, then watch the access and refresh tokens age, refresh,
rotate and die. With no --server it runs against an embedded mock server on
loopback whose clock the keys can move; the demo user is alice / password123.`,
		Example: `  tokenlab
  tokenlab tui --token-store memory
  tokenlab tui --server http://127.0.0.1:8080 --profile seed-json --username alice`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.storeChosen = cmd.Flags().Changed("token-store")
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
	if o.server == "" {
		// The lab picks its server's HS256 secrets, so the inspector can
		// check signatures as the server does (they live in memory only).
		secrets := tui.NewSecrets()
		e, err := startLabServer(ctx, o.db, o.preset, secrets)
		if err != nil {
			return err
		}
		defer e.Close()
		opts.Embedded, opts.Secrets = e, secrets
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
// With a preset the server's policy is the preset's.
func startLabServer(ctx context.Context, db, preset string, secrets tui.Secrets) (*mockserver.Embedded, error) {
	db, err := databasePath(db)
	if err != nil {
		return nil, err
	}
	policy, err := mockserver.PresetPolicy(preset)
	if err != nil {
		return nil, err
	}
	configure := func(c *mockserver.Config) {
		secrets.Configure(c)
		if preset != "" {
			c.Policy = policy
		}
	}
	return mockserver.StartEmbedded(ctx, mockserver.EmbeddedOptions{DB: db, ClockMode: mockserver.ClockOffset, Configure: configure})
}
