package main

// The scenario commands: run and scenarios.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/tokenlab/tokenlab/scenarios"
)

// runOptions are the flags of `tokenlab run`.
type runOptions struct {
	format     string
	out        string
	jobs       int
	server     string
	adminToken string
	// adminTokenFile holds the admin token on its first line, out of ps.
	adminTokenFile string
	profile        string
	// clientID and client name the OAuth client that login steps use
	// when they name none, for the oauth2 dialect.
	clientID string
	client   clientSecretOptions
	username string
	password string
	// The password without the command line: a file, stdin or the
	// environment.
	source       passwordSource
	clientSecret string   // resolved from client
	tags         []string // run only scenarios with one of these tags
	check        bool     // read and validate, run nothing
	// allowAllSkipped makes a run in which every scenario was skipped a
	// success; without it such a run tested nothing and fails.
	allowAllSkipped bool
	warnings        []func()        // secrets given as flags, said once the flags are right
	probe           runProbeOptions // the probe family (run_probe.go)

	app appOptions // --app and --app-path (run_app.go)
}

// interrupted is a run stopped by Ctrl-C: exit 130, as shells report SIGINT.
type interrupted struct{}

func (interrupted) Error() string { return "interrupted; the report covers what ran" }

// exitInterrupted is the shell's code for a process ended by SIGINT.
const exitInterrupted = 130

func newRunCmd(std streams) *cobra.Command {
	demo := scenarios.NewRunner()
	opts := runOptions{format: scenarios.FormatText, jobs: 1, profile: defaultProfile, username: demo.Username, password: demo.Password}
	cmd := &cobra.Command{
		Use:   "run [FILE or NAME ...]",
		Short: "Run scenarios and report what happened",
		Long: `Run scenarios: YAML files, or built-in scenarios by name (every one when none is
given; see tokenlab scenarios). Every file is read and checked before anything
runs; a broken one is reported as file:line: what is wrong, and nothing runs.

Each scenario gets a fresh embedded server (in-memory SQLite, a frozen clock that
the scenario moves). With --server the scenarios run against that API instead;
scenarios that move the clock or change settings need a tokenlab server and its
--admin-token, and are skipped, with the reason, when they cannot run there.

The text report shows the narration and a ✓ or ✗ per step as they happen, and
ends with "N passed, N failed, N skipped in Xs". --format json, junit or tap
give reports for programs and CI systems; with --out the report goes to a file
and the text progress still goes to stdout.

A scenario whose event checks could not be made (no admin API) still runs;
every report says which checks were skipped.

Login steps with flow: pkce or device play the person at the browser on
tokenlab's own login pages (embedded, or a tokenlab serve at --server); against
other servers they are skipped. A step's OAuth client secret comes from the
file, from its server: clients (embedded server), or from the environment
variable the step names with client_secret_env.

The name probe runs tokenlab probe's measurements against --server as a
family of scenarios, one per trait (probe/rotates_refresh_token, …), pinned
with --probe-expect to a file from tokenlab probe --json or to a preset.

--check reads and validates the files without running anything. --tag runs
only the scenarios with one of the tags. The password of --username comes from
--password-file, --password-stdin or TOKENLAB_PASSWORD (--password works too,
but puts it on the command line, where ps and shell history see it).

A server given with --server that does not answer stops the run before
anything runs. A run in which every scenario was skipped tested nothing: it
exits 2 unless --allow-all-skipped is given.

Exit codes: 0 every scenario passed, or some were skipped; 1 a scenario
failed; 2 a broken scenario file, a bad flag, a server that does not answer
or refuses the admin token, or every scenario skipped; 130 interrupted
(Ctrl-C or SIGTERM), after writing the report: TAP ends with "Bail out!",
JUnit has an error, JSON says "interrupted": true.`,
		Example: `  tokenlab run
  tokenlab run reuse-detection logout
  tokenlab run -j 4 --format junit --out scenarios.xml my-api.yaml
  tokenlab run --check tests/*.yaml
  tokenlab run --tag smoke tests/*.yaml
  TOKENLAB_ADMIN_TOKEN=… tokenlab run --server http://127.0.0.1:8080
  tokenlab run --server http://127.0.0.1:8080 probe --probe-expect rules.json --format junit --out probe.xml
  tokenlab run --server https://api.example.com --profile seed-json --username qa --password-file ~/.qa-pw basic-login tampered-token`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolveSecrets(std, cmd.Flags()); err != nil {
				return err
			}
			if _, err := opts.runner(std.env); err != nil {
				return err // a usage error says only what is wrong
			}
			for _, w := range opts.warnings {
				w()
			}
			if opts.check {
				return checkScenarios(std, opts, args)
			}
			return runScenarios(cmd.Context(), std, opts, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.format, "format", opts.format, "report format: "+strings.Join(scenarios.Formats, ", "))
	f.StringVar(&opts.out, "out", "", "write the report to this file (text progress still goes to stdout)")
	f.IntVarP(&opts.jobs, "jobs", "j", opts.jobs, "scenarios to run at once")
	f.StringVar(&opts.server, "server", "", "run against this API instead of a fresh embedded server per scenario")
	f.StringVar(&opts.adminToken, "admin-token", "", "admin token of the tokenlab server at --server, to move its clock, read its events and change its settings; prefer --admin-token-file or env TOKENLAB_ADMIN_TOKEN")
	f.StringVar(&opts.adminTokenFile, "admin-token-file", "", "read the admin token of --server from the first line of this file")
	f.StringVar(&opts.profile, "profile", opts.profile, "how to talk to the API: a built-in profile or a profile YAML file")
	f.StringVar(&opts.clientID, "client-id", "", "the OAuth client that login steps use when they name none (oauth2 dialect; the profile's oauth.client_id otherwise)")
	opts.client.addFlags(f)
	f.StringVar(&opts.username, "username", opts.username, "the user that login steps use when they name none")
	f.StringVar(&opts.password, "password", opts.password, "that user's password; prefer --password-file, --password-stdin or env TOKENLAB_PASSWORD")
	opts.source.addFlags(f, "that user's")
	f.StringSliceVar(&opts.tags, "tag", nil, "run only the scenarios with this tag (repeat or comma-separate for any of several)")
	f.BoolVar(&opts.check, "check", false, "read and validate the scenarios, run nothing")
	opts.app.addFlags(f)
	f.BoolVar(&opts.allowAllSkipped, "allow-all-skipped", false, "succeed even when every scenario was skipped (without it such a run, which tested nothing, exits 2)")
	opts.probe.addFlags(f)
	return cmd
}

// warn notes a warning about a secret on the command line, printed once
// the flags are known to be right.
func (o *runOptions) warn(std streams, flag, instead string) {
	o.warnings = append(o.warnings, func() { warnVisibleSecret(std, flag, instead) })
}

// resolveSecrets reads the admin token, the password and the client
// secret from where they were given: a file, stdin or the environment,
// out of ps and shell history; a secret given as a flag works, with a
// warning.
func (o *runOptions) resolveSecrets(std streams, f *pflag.FlagSet) error {
	switch {
	case o.adminTokenFile != "" && f.Changed("admin-token"):
		return usagef("give the admin token one way: --admin-token-file or --admin-token")
	case o.adminTokenFile != "":
		tok, err := readSecretFile("--admin-token-file", o.adminTokenFile)
		if err != nil {
			return err
		}
		o.adminToken = tok
	case f.Changed("admin-token"):
		o.warn(std, "--admin-token", "--admin-token-file or TOKENLAB_ADMIN_TOKEN")
	default:
		if v, ok := std.env("TOKENLAB_ADMIN_TOKEN"); ok {
			o.adminToken = v
		}
	}
	if f.Changed("password") {
		o.warn(std, "--password", "--password-file, --password-stdin or TOKENLAB_PASSWORD")
	}
	if err := o.resolvePassword(std, f.Changed("password")); err != nil {
		return err
	}
	if o.clientID == "" {
		if o.client.file != "" || o.client.inline != "" {
			return usagef("--client-secret-file and --client-secret need --client-id: a secret goes only to the client it is for")
		}
		return nil
	}
	secret, err := o.client.secret(std, nil, false)
	o.clientSecret = secret
	return err
}

// resolvePassword sets the password: --password-file or
// --password-stdin, else --password, else TOKENLAB_PASSWORD, else the
// demo user's.
func (o *runOptions) resolvePassword(std streams, inline bool) error {
	if inline && !o.source.given() {
		return nil
	}
	pw, err := o.source.password(std)
	if pw != "" {
		o.password = pw
	}
	return err
}

// checkScenarios reads and validates scenarios (the flags and the profile
// are checked before it) and runs nothing.
func checkScenarios(std streams, opts runOptions, args []string) error {
	args, family := splitProbeFamily(args)
	if family && len(args) == 0 {
		if _, _, err := probeFamilyConfig(opts); err != nil {
			return err
		}
		_, err := fmt.Fprintln(std.out, "the probe family is valid; nothing was run")
		return err
	}
	scs, err := loadScenariosFor(std, opts, args)
	if err != nil {
		return err
	}
	scs, err = withTags(scs, opts.tags)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(std.out, "%s valid; nothing was run\n", plural(len(scs), "scenario"))
	return err
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun + " is"
	}
	return fmt.Sprintf("%d %ss are", n, noun)
}

// withTags keeps the scenarios with one of the tags (all when none).
func withTags(scs []*scenarios.Scenario, tags []string) ([]*scenarios.Scenario, error) {
	if len(tags) == 0 {
		return scs, nil
	}
	var out []*scenarios.Scenario
	for _, sc := range scs {
		if slices.ContainsFunc(sc.Tags, func(t string) bool { return slices.Contains(tags, t) }) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, usagef("no scenario has the tag %s", strings.Join(tags, " or "))
	}
	return out, nil
}

func runScenarios(ctx context.Context, std streams, opts runOptions, args []string) error {
	runner, err := opts.runner(std.env)
	if err != nil {
		return err
	}
	args, family := splitProbeFamily(args)
	if family {
		if _, _, err := probeFamilyConfig(opts); err != nil {
			return err
		}
	}
	var scs []*scenarios.Scenario
	if !family || len(args) > 0 {
		if scs, err = loadScenariosFor(std, opts, args); err != nil {
			return err
		}
		if scs, err = withTags(scs, opts.tags); err != nil {
			return err
		}
	}
	if err := runner.CheckServer(ctx); err != nil {
		return usageError{err} // a server that does not answer, or refuses the admin token, tests nothing
	}
	var file *os.File
	if opts.out != "" {
		if file, err = os.Create(opts.out); err != nil {
			return usagef("--out %s: %v", opts.out, errors.Unwrap(err))
		}
		defer file.Close()
	}

	// Text goes to stdout as it happens unless stdout carries another format.
	var live *scenarios.Text
	if opts.format == scenarios.FormatText || file != nil {
		live = scenarios.NewText(colorWriter(std, std.out))
		runner.OnScenario = live.Done
		if opts.jobs == 1 {
			runner.OnStep = live.Step
		}
	}
	start := time.Now()
	results := runner.RunAll(ctx, scs, opts.jobs)
	planned := len(scs)
	if family && ctx.Err() == nil {
		probed, err := runProbeFamily(ctx, std, opts)
		if err != nil {
			return err
		}
		for _, r := range probed {
			if live != nil {
				live.Done(nil, r)
			}
		}
		results, planned = append(results, probed...), planned+len(probed)
	}
	report := scenarios.Run{Results: results, Elapsed: time.Since(start), Planned: planned, Interrupted: ctx.Err() != nil}
	if live != nil {
		live.Summary(report)
		if err := live.Err(); err != nil {
			return err
		}
	}
	switch {
	case file != nil:
		if err := scenarios.WriteReport(colorWriter(std, file), opts.format, report); err != nil {
			return fmt.Errorf("write %s: %w", opts.out, err)
		}
		if err := file.Close(); err != nil {
			return fmt.Errorf("write %s: %w", opts.out, err)
		}
	case opts.format != scenarios.FormatText:
		if err := scenarios.WriteReport(std.out, opts.format, report); err != nil {
			return err
		}
	}
	if report.Interrupted {
		return interrupted{}
	}
	c := scenarios.Count(results)
	if c.Failed > 0 {
		return silentFailure{fmt.Sprintf("%d of %d scenarios failed", c.Failed, len(results))}
	}
	if c.Skipped == len(results) && !opts.allowAllSkipped {
		return usagef("every scenario was skipped, so nothing was tested (the first: %s); give --allow-all-skipped if that is expected", results[0].Reason)
	}
	return nil
}

// runner checks the flags and makes the runner they describe.
func (o runOptions) runner(env func(string) (string, bool)) (*scenarios.Runner, error) {
	if !slices.Contains(scenarios.Formats, o.format) {
		return nil, usagef("--format %q: use one of %s", o.format, strings.Join(scenarios.Formats, ", "))
	}
	if o.jobs < 1 {
		return nil, usagef("-j %d: run at least one scenario at a time", o.jobs)
	}
	if o.server != "" {
		u, err := url.Parse(o.server)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, usagef("--server %q is not an http(s) URL; write it like http://127.0.0.1:8080", o.server)
		}
	} else if o.adminToken != "" {
		return nil, usagef("--admin-token is for the server given with --server; the embedded servers need none")
	}
	if o.username == "" {
		return nil, usagef("--username is empty")
	}
	p, _, err := resolveProfile(o.profile)
	if err != nil {
		return nil, err
	}
	if o.clientID != "" {
		p.OAuth.ClientID, p.OAuth.ClientSecret = o.clientID, o.clientSecret
	}
	r := scenarios.NewRunner()
	r.Server, r.AdminToken, r.Profile, r.Username, r.Password = o.server, o.adminToken, p, o.username, o.password
	r.LookupEnv = env // client_secret_env
	if err := o.app.apply(r); err != nil {
		return nil, err
	}
	return r, nil
}

// loadScenarios reads and checks every scenario before any runs: all the
// built-ins when args is empty. Each broken file is one line on stderr,
// file:line: what is wrong.
func loadScenarios(std streams, args []string) ([]*scenarios.Scenario, error) {
	if len(args) == 0 {
		scs, err := scenarios.Builtins()
		if err != nil {
			return nil, err // a broken built-in is a bug, not a usage error
		}
		return scs, nil
	}
	var scs []*scenarios.Scenario
	broken := 0
	for _, arg := range args {
		sc, err := scenarios.Load(arg)
		if err != nil {
			fmt.Fprintln(std.err, strings.Join(strings.Fields(err.Error()), " "))
			broken++
			continue
		}
		scs = append(scs, sc)
	}
	if broken > 0 {
		return nil, usageError{silentFailure{fmt.Sprintf("%d of %d scenarios cannot be loaded", broken, len(args))}}
	}
	return scs, nil
}

// ---- scenarios ----

// scenarioInfo is one line of `tokenlab scenarios --json`.
type scenarioInfo struct {
	Name        string   `json:"name"`
	Summary     string   `json:"summary"`
	Description string   `json:"description"`
	Requires    []string `json:"requires"`
	Tags        []string `json:"tags"`
	Steps       int      `json:"steps"`
}

func newScenariosCmd(std streams) *cobra.Command {
	var asJSON, appOnly bool
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List the built-in scenarios",
		Long: `List the built-in scenarios with the first sentence of what each one shows.
Run one with tokenlab run NAME, or all of them with tokenlab run.`,
		Example: `  tokenlab scenarios
  tokenlab scenarios --json | jq -r '.[] | select(.requires | index("clock") | not) | .name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return listScenarios(std, asJSON, appOnly)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print name, summary, description, requires, tags and steps as JSON")
	cmd.Flags().BoolVar(&appOnly, "app", false, "list the scenarios for an app under test (tokenlab run --app)")
	return cmd
}

func listScenarios(std streams, asJSON, appOnly bool) error {
	list := scenarios.Builtins
	if appOnly {
		list = scenarios.AppBuiltins
	}
	scs, err := list()
	if err != nil {
		return err
	}
	if asJSON {
		infos := make([]scenarioInfo, len(scs))
		for i, sc := range scs {
			infos[i] = scenarioInfo{Name: sc.Name, Summary: sc.Summary(), Description: sc.Description,
				Requires: append([]string{}, sc.Requires...), Tags: append([]string{}, sc.Tags...), Steps: len(sc.Steps)}
		}
		enc := json.NewEncoder(std.out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(infos)
	}
	width := 0
	for _, sc := range scs {
		width = max(width, len(sc.Name))
	}
	name := lipgloss.NewStyle().Bold(true).Width(width + 2)
	w := colorWriter(std, std.out)
	for _, sc := range scs {
		if _, err := io.WriteString(w, name.Render(sc.Name)+sc.Summary()+"\n"); err != nil {
			return err
		}
	}
	return nil
}
