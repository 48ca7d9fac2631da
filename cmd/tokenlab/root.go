package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/colorprofile"
	"github.com/spf13/cobra"
	"github.com/tokenlab/tokenlab/client"
)

// Exit codes, as the README lists them.
const (
	exitOK      = 0
	exitFailed  = 1 // a scenario or check failed
	exitUsage   = 2 // usage or configuration error
	exitNoLogin = 3 // not logged in, or the session was revoked
)

// usageError is a mistake in how tokenlab was called or configured.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// silentFailure is a failure the command has already shown in its output
// (an invalid signature, a failed scenario): exit 1 without another line.
type silentFailure struct{ reason string }

func (e silentFailure) Error() string { return e.reason }

// streams are a command's standard streams, swapped for buffers in tests.
type streams struct {
	in       io.Reader
	out, err io.Writer
	env      func(string) (string, bool)
}

// run is the whole program; main only supplies the process's streams.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	std := streams{in: stdin, out: stdout, err: stderr, env: os.LookupEnv}
	root := newRootCmd(std)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	if !errors.As(err, new(silentFailure)) {
		// Errors quote servers and files; no control sequence reaches the terminal.
		fmt.Fprintln(stderr, "tokenlab: "+sentence(printableLines(err.Error())))
	}
	return exitCode(err)
}

// exitCode translates an error into the process's exit status, once.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, client.ErrLoginRequired):
		return exitNoLogin
	case errors.As(err, &ue), isFlagError(err):
		return exitUsage
	case errors.As(err, new(interrupted)), errors.As(err, new(loginInterrupted)):
		return exitInterrupted
	}
	return exitFailed
}

// isFlagError recognises cobra's and pflag's complaints about arguments.
func isFlagError(err error) bool {
	msg := err.Error()
	// Flag parsing errors come as usageError already; these are cobra's
	// argument checks. Not "invalid argument": that is also EINVAL's text.
	for _, p := range []string{"unknown flag", "unknown shorthand", "flag needs an argument",
		"unknown command", "accepts ", "requires at least", "bad flag syntax"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// sentence makes an error message read as one sentence.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "failed."
	}
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

func newRootCmd(std streams) *cobra.Command {
	var lab tuiOptions
	root := &cobra.Command{
		Use:   "tokenlab",
		Short: "A terminal lab for JWT access and refresh tokens",
		Long: `tokenlab shows and tests the life of JWT access and refresh tokens: a mock auth
server with rotation and reuse detection, a client that refreshes automatically,
and scripted scenarios.`,
		Example:       "  tokenlab            # the terminal UI on an embedded mock server (alice / password123)\n  tokenlab serve --clock frozen --access-ttl 1m\n  tokenlab run       # every built-in scenario",
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version(),
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lab.storeChosen = cmd.Flags().Changed("token-store")
			return tuiRun(cmd.Context(), std, lab)
		},
	}
	root.SetVersionTemplate("tokenlab {{.Version}}\n")
	addTUIFlags(root, &lab)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newServeCmd(std), newLoginCmd(std), newStatusCmd(std), newTokenCmd(std),
		newLogoutCmd(std), newRequestCmd(std), newDecodeCmd(std), newRunCmd(std), newScenariosCmd(std), newTUICmd(std), newLoadCmd(std), newProbeCmd(std))
	return root
}

// colorWriter downsamples lipgloss output to what w can show, and honours
// NO_COLOR with any non-empty value (no-color.org), which colorprofile
// alone does not.
func colorWriter(std streams, w io.Writer) io.Writer {
	cw := colorprofile.NewWriter(w, os.Environ())
	if v, ok := std.env("NO_COLOR"); ok && v != "" {
		cw.Profile = colorprofile.NoTTY
	}
	return cw
}
