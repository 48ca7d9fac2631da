package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"charm.land/lipgloss/v2"
	"charm.land/lipgloss/v2/table"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/loadgen"
)

type loadOptions struct {
	profile     string
	mode        string
	clients     int
	duration    time.Duration
	requests    int64
	username    string
	register    bool
	prefix      string
	password    passwordSource
	json        bool
	allowRemote bool
}

func newLoadCmd(std streams) *cobra.Command {
	opts := loadOptions{profile: "tokenlab", mode: string(loadgen.ModeRefresh), clients: 32,
		duration: 10 * time.Second, username: "alice", prefix: "load"}
	cmd := &cobra.Command{
		Use:   "load URL",
		Short: "Put an auth API under load, each client following its own refresh-token chain",
		Long: `Put an auth API under load. Every client logs in first (untimed), then sends
requests of the chosen mode on its own keep-alive connection:

  protected  GET the profile's protected path with the access token
  refresh    POST the refresh path, following its own rotation chain: each answer's
             refresh token is the next request's, so rotating servers work
  login      POST the login path
  mixed      8 protected, 1 refresh and 1 login in every 10

With the oauth2 dialect a client logs in with the password grant at the token
endpoint named by the issuer's discovery document, and refreshes with the
refresh_token grant. A chain that ends (a refused token) is started again with
an untimed login. The
report gives requests per second, latency percentiles, non-2xx answers and
errors, and any reuse or revocation the run caused (there should be none).

The password comes from --password-file, --password-stdin or TOKENLAB_PASSWORD,
never from the command line. Only targets on this machine are loaded unless
--allow-remote is given.`,
		Example: `  TOKENLAB_PASSWORD=password123 tokenlab load http://127.0.0.1:8080 --mode refresh --clients 32 --duration 60s
  tokenlab load http://localhost:3000 --profile seed-json --register --prefix bench --password-file pw.txt --json
  tokenlab load http://127.0.0.1:8080 --profile oauth2 --mode refresh --password-stdin <pw.txt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return loadRun(cmd.Context(), std, opts, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.profile, "profile", opts.profile, "how to talk to the API: a built-in profile or a profile YAML file (json or oauth2 dialect, bearer tokens)")
	f.StringVar(&opts.mode, "mode", opts.mode, "protected, refresh, login or mixed")
	f.IntVar(&opts.clients, "clients", opts.clients, "concurrent clients, each with its own connection and chain")
	f.DurationVar(&opts.duration, "duration", opts.duration, "how long to run (0: until --requests are sent)")
	f.Int64Var(&opts.requests, "requests", 0, "stop after this many timed requests (0: no bound)")
	f.StringVar(&opts.username, "username", opts.username, "the user every client logs in as")
	f.BoolVar(&opts.register, "register", false, "register one user per client, named PREFIX-N, and log in as it")
	f.StringVar(&opts.prefix, "prefix", opts.prefix, "the name prefix of --register's users")
	opts.password.addFlags(f, "the")
	f.BoolVar(&opts.json, "json", false, "print the report as JSON")
	f.BoolVar(&opts.allowRemote, "allow-remote", false, "allow a target outside loopback (only load servers you run)")
	return cmd
}

func loadRun(ctx context.Context, std streams, opts loadOptions, target string) error {
	profile, err := client.ResolveProfile(opts.profile)
	if err != nil {
		return usageError{err}
	}
	password, err := opts.password.password(std)
	if err != nil {
		return err
	}
	if password == "" {
		return usagef("no password: give --password-file, --password-stdin or TOKENLAB_PASSWORD")
	}
	cfg := loadgen.Config{Target: target, Profile: profile, Mode: loadgen.Mode(opts.mode), Clients: opts.clients,
		Duration: opts.duration, MaxRequests: opts.requests, Username: opts.username, Password: password,
		Register: opts.register, Prefix: opts.prefix, AllowRemote: opts.allowRemote}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	if f, ok := std.err.(*os.File); ok && term.IsTerminal(f.Fd()) {
		cfg.Progress = func(p loadgen.Progress) {
			fmt.Fprintf(f, "\r\033[K%5.1fs  %d requests  %.0f req/s  non-2xx %d  errors %d",
				p.Elapsed.Seconds(), p.Requests, float64(p.Requests)/p.Elapsed.Seconds(), p.Non2xx, p.Errors)
		}
		defer fmt.Fprint(f, "\r\033[K")
	}
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if opts.json {
		enc := json.NewEncoder(std.out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	_, err = fmt.Fprintln(colorWriter(std, std.out), loadTable(rep))
	return err
}

// loadTable renders a report as an aligned table.
func loadTable(r loadgen.Report) string {
	ms := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
	}
	rows := [][]string{
		{"target", r.Target},
		{"profile · mode", r.Profile + " · " + string(r.Mode)},
		{"clients", strconv.Itoa(r.Clients)},
		{"duration", strconv.FormatFloat(r.Elapsed.Seconds(), 'f', 1, 64) + " s"},
		{"requests", strconv.FormatInt(r.Requests, 10)},
		{"req/s", strconv.FormatFloat(r.PerSecond, 'f', 0, 64)},
		{"p50 · p90", ms(r.P50) + " · " + ms(r.P90)},
		{"p99 · max", ms(r.P99) + " · " + ms(r.Max)},
		{"non-2xx", strconv.FormatInt(r.Non2xx, 10)},
		{"errors", strconv.FormatInt(r.Errors, 10)},
		{"rotated · re-logins", strconv.Itoa(r.Rotated) + " · " + strconv.Itoa(r.Relogins)},
		{"reuse · revoked", strconv.Itoa(r.Reused) + " · " + strconv.Itoa(r.Revoked)},
	}
	bold := lipgloss.NewStyle().Bold(true)
	return table.New().Border(lipgloss.NormalBorder()).Rows(rows...).
		StyleFunc(func(row, col int) lipgloss.Style {
			s := lipgloss.NewStyle().Padding(0, 1)
			if col == 1 && row >= 4 {
				s = s.Align(lipgloss.Right)
			}
			if col == 0 {
				return s.Inherit(bold)
			}
			return s
		}).Render()
}
