package main

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
	"charm.land/lipgloss/v2/table"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/tokenlab/tokenlab/mockserver"
)

// presetList is the --preset value that prints the table instead.
const presetList = "list"

// policyFlags are serve's flags bound to the Policy: a preset replaces
// the whole policy, then each of these given on the command line (or from
// the environment) overrides its part again.
var policyFlags = []string{"access-ttl", "refresh-ttl", "session-max", "reuse-grace", "rotation", "reuse-detection",
	"access-denylist", "grace-forever", "grace-previous", "grace-replays", "reuse-revokes-access",
	"revocation-revokes-access", "revocation", "pkce", "omit-iss", "errors"}

// addPresetFlags binds the preset's own rules to flags of serve.
func addPresetFlags(f *pflag.FlagSet, opts *serveOptions) {
	pol := &opts.policy
	f.StringVar(&opts.preset, "preset", "", "behave like a provider: "+strings.Join(mockserver.PresetNames(), ", ")+
		" (list: print the presets and their rules); the other flags override its parts (env TOKENLAB_PRESET)")
	f.BoolVar(&pol.GraceForever, "grace-forever", pol.GraceForever, "a spent refresh token stays good until it expires (Keycloak, Entra ID)")
	f.BoolVar(&pol.GracePrevious, "grace-previous", pol.GracePrevious, "only the immediately previous refresh token gets the grace; an older one is a reuse (Auth0)")
	f.IntVar(&pol.GraceReplays, "grace-replays", pol.GraceReplays, "replays a spent token gets inside its grace; 0 for any number (Keycloak's Refresh Token Max Reuse)")
	f.BoolVar(&pol.ReuseRevokesAccess, "reuse-revokes-access", pol.ReuseRevokesAccess, "a reuse that revokes the session also rejects its access tokens (Hydra)")
	f.BoolVar(&pol.RevocationRevokesAccess, "revocation-revokes-access", pol.RevocationRevokesAccess, "revocation and logout also reject the session's access tokens")
	f.StringVar(&pol.Revocation, "revocation", mockserver.RevokeFamily, "what RFC 7009 revocation revokes: family, live_family (the family, unless the token is spent), token, none (answers 200) or absent (no endpoint)")
	f.StringVar(&pol.PKCE, "pkce", mockserver.PKCERequired, "PKCE for public clients: required_s256, optional or unsupported (the verifier is not checked)")
	f.BoolVar(&pol.OmitIss, "omit-iss", pol.OmitIss, "leave iss out of authorization responses (RFC 9207)")
	f.StringVar(&pol.Errors, "errors", "", "word the OAuth refusals as this preset's vendor does")
}

// presetUnderFlags replaces the policy with the preset's (when one is
// named) and then sets again every one of flags that was given, so that
// each overrides its part.
func presetUnderFlags(cmd *cobra.Command, preset string, policy *mockserver.Policy, flags []string) error {
	if preset == "" {
		return nil
	}
	pre, err := mockserver.PresetPolicy(preset)
	if err != nil {
		return err
	}
	given := map[string]string{}
	for _, name := range flags {
		if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed {
			given[name] = fl.Value.String()
		}
	}
	*policy = pre
	for name, v := range given {
		if err := cmd.Flags().Set(name, v); err != nil {
			return fmt.Errorf("--%s: %w", name, err)
		}
	}
	return nil
}

// presetTable is `tokenlab serve --preset list`: one row per preset and
// its rules, from the presets' data.
func presetTable() string {
	header := []string{"preset", "imitates", "grace", "reuse outside grace", "reuse error", "revocation", "access tokens die on", "pkce", "iss", "lifetimes (access · refresh · absolute)"}
	var rows [][]string
	for _, p := range mockserver.Presets() {
		rows = append(rows, presetRow(p))
	}
	bold := lipgloss.NewStyle().Bold(true)
	return table.New().Border(lipgloss.NormalBorder()).Headers(header...).Rows(rows...).
		StyleFunc(func(row, col int) lipgloss.Style {
			s := lipgloss.NewStyle().Padding(0, 1)
			if row == table.HeaderRow || col == 0 {
				return s.Inherit(bold)
			}
			return s
		}).Render()
}

func presetRow(p mockserver.Preset) []string {
	pol := p.Policy
	grace := "none"
	switch {
	case pol.GraceForever:
		grace = "forever"
	case pol.ReuseGrace > 0:
		grace = mockserver.FormatDuration(pol.ReuseGrace)
	}
	switch {
	case grace == "none" && pol.GracePrevious:
		grace = "none (previous token only, when set)"
	case grace != "none":
		if pol.GracePrevious {
			grace += " · previous token only"
		} else {
			grace += " · any spent token"
		}
		if pol.GraceReplays > 0 {
			grace += " · " + strconv.Itoa(pol.GraceReplays) + " replays"
		}
	}
	reuse, reuseErr := "refuses the token", ""
	switch {
	case pol.GraceForever:
		reuse = "accepted"
	case pol.ReuseDetection:
		reuse = "revokes the family"
	}
	if !pol.GraceForever {
		r := p.ReuseRefusal()
		reuseErr = strconv.Itoa(r.Status) + " " + r.Error
	} else {
		reuseErr = "—"
	}
	revocation := map[string]string{"": "family", mockserver.RevokeFamily: "family", mockserver.RevokeToken: "the token", mockserver.RevokeLiveFamily: "family, unless spent",
		mockserver.RevokeNothing: "nothing (200)", mockserver.RevokeAbsent: "no endpoint"}[pol.Revocation]
	var dies []string
	if pol.AccessDenylist || pol.ReuseRevokesAccess {
		dies = append(dies, "reuse")
	}
	if pol.AccessDenylist || pol.RevocationRevokesAccess {
		dies = append(dies, "revocation, logout")
	}
	if len(dies) == 0 {
		dies = []string{"never (until they expire)"}
	}
	pkce := pol.PKCE
	if pkce == "" {
		pkce = mockserver.PKCERequired
	}
	iss := "yes"
	if pol.OmitIss {
		iss = "no"
	}
	refresh := "idle " + mockserver.FormatDuration(pol.RefreshTTL)
	if pol.RefreshTTL >= pol.SessionMax {
		refresh = "absolute"
	}
	lifetimes := fmt.Sprintf("%s · %s · %s", mockserver.FormatDuration(pol.AccessTTL), refresh, mockserver.FormatDuration(pol.SessionMax))
	return []string{p.Name, p.Vendor, grace, reuse, reuseErr, revocation, strings.Join(dies, "; "), pkce, iss, lifetimes}
}
