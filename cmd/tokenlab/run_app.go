package main

// tokenlab run --app 'COMMAND': put an app under test (scenarios/app.go).

import (
	"github.com/spf13/pflag"
	"github.com/tokenlab/tokenlab/scenarios"
)

// appOptions are run's flags for an app under test.
type appOptions struct {
	command string
	paths   []string // NAME=/path overrides of the conventions
}

func (o *appOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.command, "app", "", "put this app under test: a shell command started for each scenario with TOKENLAB_ISSUER, TOKENLAB_CLIENT_ID, TOKENLAB_CLIENT_SECRET, TOKENLAB_REDIRECT_URI, TOKENLAB_API and PORT (with no scenario named, runs the app scenarios of tokenlab scenarios --app)")
	f.StringArrayVar(&o.paths, "app-path", nil, "override one of the app's conventional paths: NAME=/path, such as data=/api/me (login, callback, data, logout, healthz)")
}

// apply gives the runner the app.
func (o appOptions) apply(r *scenarios.Runner) error {
	if o.command == "" && len(o.paths) > 0 {
		return usagef("--app-path overrides a path of the app given with --app")
	}
	paths, err := scenarios.CheckAppPaths(o.paths)
	if err != nil {
		return usagef("--app-path: %v", err)
	}
	r.App = scenarios.AppConfig{Command: o.command, Paths: paths}
	return nil
}

// loadScenariosFor is loadScenarios, with the app scenarios as the
// default set when an app is under test.
func loadScenariosFor(std streams, opts runOptions, args []string) ([]*scenarios.Scenario, error) {
	if len(args) == 0 && opts.app.command != "" {
		return scenarios.AppBuiltins()
	}
	return loadScenarios(std, args)
}
