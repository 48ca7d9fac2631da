package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/loadgen"
	"github.com/tokenlab/tokenlab/probe"
)

type probeOptions struct {
	profile     string
	clientID    string
	secret      clientSecretOptions
	flow        string
	username    string
	password    passwordSource
	scope       string
	resources   []string
	protected   string
	loginHelper string
	maxWait     time.Duration
	json        bool
	markdown    bool
	yes         bool
	allowRemote bool
}

func newProbeCmd(std streams) *cobra.Command {
	opts := probeOptions{profile: "oauth2", scope: probe.DefaultScope, maxWait: probe.DefaultMaxWait}
	cmd := &cobra.Command{
		Use:   "probe URL",
		Short: "Measure a provider's refresh-token rules from outside",
		Long: `Measure an OAuth 2.0 provider's refresh-token rules from outside, in real
time: whether it rotates refresh tokens, how long a spent one stays good
(its grace window), what a reuse after it revokes and how it is refused,
what five refreshes of one token at once do, what revocation revokes, how
it treats PKCE, whether its authorization responses carry iss (RFC 9207)
and whether logins return an ID token. It names the closest of tokenlab's
presets and shows the evidence for every trait (--json, --markdown).

Each trait waits at most --max-wait. The probe logs in several times (four
chains, and three more logins to try PKCE variants): with --flow password
it needs --username and a password; with pkce or device, --login-helper CMD
runs CMD with the authorize (or verification) URL as its last argument to
complete the provider's login page (TOKENLAB_USERNAME, TOKENLAB_PASSWORD_FILE
and TOKENLAB_USER_CODE are in its environment, never on a command line);
without a helper the probe asks you each time. With --flow password, PKCE
is tried only when a login helper is given.

It replays and revokes refresh tokens on purpose, which revokes the user's
sessions at most providers, so it asks first unless --yes. Only providers on
this machine are probed unless --allow-remote.`,
		Example: `  tokenlab serve &  # then, with its demo user:
  tokenlab probe http://127.0.0.1:8080 --flow password --username alice --password-file pw.txt --protected http://127.0.0.1:8080/protected --yes
  tokenlab probe http://127.0.0.1:4444 --client-id cli --flow pkce --login-helper ./login.sh --json
  tokenlab probe https://login.example.com --allow-remote --client-id cli --flow device --markdown > rules.md`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return probeRun(cmd.Context(), std, opts, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.profile, "profile", opts.profile, "an oauth2-dialect profile (built-in name or YAML file) for the client id, scope, resources and client auth")
	f.StringVar(&opts.clientID, "client-id", "", "the OAuth client id (default: the profile's, else tokenlab)")
	opts.secret.addFlags(f)
	f.StringVar(&opts.flow, "flow", "", "password, pkce, device or client-credentials (default: password with --username, else pkce)")
	f.StringVar(&opts.username, "username", "", "the user to log in as (password flow; also given to the login helper)")
	opts.password.addFlags(f, "the user's")
	f.StringVar(&opts.scope, "scope", opts.scope, "the scope of every login")
	f.StringArrayVar(&opts.resources, "resource", nil, "an RFC 8707 resource indicator sent with every grant (repeatable)")
	f.StringVar(&opts.protected, "protected", "", "a URL that answers 2xx to a good access token, to check access tokens when there is no introspection or userinfo")
	f.StringVar(&opts.loginHelper, "login-helper", "", "a command that completes a login; run with the authorize URL as its last argument")
	f.DurationVar(&opts.maxWait, "max-wait", opts.maxWait, "the longest the probe waits for one trait")
	f.BoolVar(&opts.json, "json", false, "print the report as JSON")
	f.BoolVar(&opts.markdown, "markdown", false, "print the report as Markdown, with the evidence")
	f.BoolVar(&opts.yes, "yes", false, "do not ask before replaying and revoking the user's refresh tokens")
	f.BoolVar(&opts.allowRemote, "allow-remote", false, "allow a provider outside loopback (only probe providers and users you may disturb)")
	return cmd
}

func probeRun(ctx context.Context, std streams, opts probeOptions, target string) error {
	cfg, err := probeConfig(std, opts, target)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	if err := confirmProbe(std, opts, cfg); err != nil {
		return err
	}
	if f, ok := std.err.(*os.File); ok && term.IsTerminal(f.Fd()) {
		cfg.Progress = func(s string) { fmt.Fprintf(f, "\r\033[K%s", s) }
		defer fmt.Fprint(f, "\r\033[K")
	}
	rep, err := probe.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if cfg.Progress != nil {
		fmt.Fprint(std.err, "\r\033[K")
	}
	switch {
	case opts.json:
		enc := json.NewEncoder(std.out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // grace_window_s ">15" stays readable
		return enc.Encode(rep)
	case opts.markdown:
		_, err = fmt.Fprint(std.out, probe.Markdown(rep))
		return err
	}
	_, err = fmt.Fprintln(colorWriter(std, std.out), probe.Table(rep))
	return err
}

// probeConfig turns the flags into the probe's configuration.
func probeConfig(std streams, opts probeOptions, target string) (probe.Config, error) {
	if opts.json && opts.markdown {
		return probe.Config{}, usagef("give --json or --markdown, not both")
	}
	profile, err := client.ResolveProfile(opts.profile)
	if err != nil {
		return probe.Config{}, usageError{err}
	}
	if profile.Dialect != client.DialectOAuth2 {
		return probe.Config{}, usagef("profile %s speaks the %s dialect; the probe measures OAuth 2.0 providers (use --profile oauth2)", profile.Name, profile.Dialect)
	}
	issuer := strings.TrimRight(target, "/")
	if profile.OAuth.Issuer != "" {
		issuer = strings.TrimRight(profile.OAuth.Issuer, "/")
	}
	for _, u := range []string{issuer, opts.protected} {
		if err := checkProbeTarget(u, opts.allowRemote); err != nil {
			return probe.Config{}, err
		}
	}
	cfg := probe.Config{Issuer: issuer, ClientID: profile.OAuth.ClientID, ClientAuth: profile.OAuth.ClientAuth,
		Username: opts.username, Scope: opts.scope, Resources: append(profile.OAuth.Resources, opts.resources...),
		Protected: opts.protected, MaxWait: opts.maxWait, Flow: opts.flow}
	if opts.clientID != "" {
		cfg.ClientID = opts.clientID
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "tokenlab"
	}
	if cfg.ClientSecret, err = opts.secret.secret(std, nil, false); err != nil {
		return probe.Config{}, err
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = profile.OAuth.ClientSecret
	}
	if cfg.Password, err = opts.password.password(std); err != nil {
		return probe.Config{}, err
	}
	if cfg.Flow == "" {
		cfg.Flow = probe.FlowPKCE
		if opts.username != "" {
			cfg.Flow = probe.FlowPassword
		}
	}
	if opts.maxWait <= 0 {
		return probe.Config{}, usagef("--max-wait must be positive, not %s", opts.maxWait)
	}
	helper := loginHelper{std: std, cmd: opts.loginHelper, username: opts.username, passwordFile: opts.password.file}
	switch {
	case opts.loginHelper != "":
		cfg.Authorize, cfg.Device = helper.authorize, helper.device
	case cfg.Flow == probe.FlowPKCE || cfg.Flow == probe.FlowDevice:
		cfg.Authorize, cfg.Device = helper.askPerson, helper.askPersonDevice
	}
	return cfg, nil
}

// checkProbeTarget refuses a URL outside loopback unless allowed, as
// `tokenlab load` does.
func checkProbeTarget(raw string, allowRemote bool) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("%q is not an http(s) URL", raw)
	}
	if !allowRemote && !loadgen.Loopback(u.Hostname()) {
		return usagef("%s is not on this machine (127.0.0.0/8, ::1 or localhost); pass --allow-remote to probe a provider you may disturb", u.Host)
	}
	return nil
}

// confirmProbe warns what the probe does and asks, unless --yes.
func confirmProbe(std streams, opts probeOptions, cfg probe.Config) error {
	who := cfg.Username
	if who == "" {
		who = "the user who logs in"
	}
	fmt.Fprintf(std.err, "warning: tokenlab probe logs in to %s as %s about 8 times, replays spent refresh tokens and revokes them:\n"+
		"at most providers this revokes that user's sessions for client %s and may raise security alerts. It takes a few minutes at most (--max-wait %s a trait).\n",
		cfg.Issuer, who, cfg.ClientID, opts.maxWait)
	if opts.yes {
		return nil
	}
	tty, ok := terminal(std.in)
	if !ok {
		return usagef("the probe asks before it starts, and stdin is not a terminal: pass --yes to probe without asking")
	}
	fmt.Fprint(std.err, "Continue? [y/N] ")
	answer, err := firstLine(tty)
	if err != nil {
		return err
	}
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return usagef("nothing was sent: the probe was not confirmed")
	}
	return nil
}

// loginHelper completes the provider's logins: a command, or the person.
type loginHelper struct {
	std          streams
	cmd          string
	username     string
	passwordFile string
}

// authorize runs the helper with the authorize URL as its last argument
// (through sh, so CMD may carry its own arguments and quoting). Secrets
// go in the environment as a file name, never on its command line.
func (h loginHelper) authorize(ctx context.Context, authorizeURL string) error {
	return h.run(ctx, authorizeURL, nil)
}

func (h loginHelper) device(ctx context.Context, verificationURL, userCode string) error {
	return h.run(ctx, verificationURL, []string{"TOKENLAB_USER_CODE=" + userCode})
}

func (h loginHelper) run(ctx context.Context, target string, env []string) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", h.cmd+` "$@"`, "tokenlab-login-helper", target)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "TOKENLAB_USERNAME="+h.username)
	if h.passwordFile != "" {
		if abs, err := filepath.Abs(h.passwordFile); err == nil {
			cmd.Env = append(cmd.Env, "TOKENLAB_PASSWORD_FILE="+abs)
		}
	}
	cmd.Stdout, cmd.Stderr = h.std.err, h.std.err
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", h.cmd, err)
	}
	return nil
}

// askPerson shows the authorize URL; the probe then waits for the redirect.
func (h loginHelper) askPerson(_ context.Context, authorizeURL string) error {
	fmt.Fprintf(h.std.err, "\r\033[KOpen this URL in a browser and log in (the probe waits for the redirect):\n  %s\n", authorizeURL)
	return nil
}

func (h loginHelper) askPersonDevice(_ context.Context, verificationURL, userCode string) error {
	fmt.Fprintf(h.std.err, "\r\033[KOpen %s in a browser and enter the code %s (the probe waits for the approval).\n", verificationURL, userCode)
	return nil
}
