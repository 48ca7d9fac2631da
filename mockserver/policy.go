package mockserver

import (
	"errors"
	"fmt"
	"time"
)

// A server setting that may change while the server runs lives here as a
// field of Policy, a field of PolicyPatch (its JSON name is the one GET and
// PUT /admin/settings use), and a line in Apply and in Patch; Validate says
// what values may be. Outside this file it needs its flag in tokenlab serve
// (bound straight to the Policy field), a field and a line in the
// scenarios' ServerSettings and its patch(), and a row in the README's
// settings table.

// Policy is the part of the configuration that may change while the
// server runs: lifetimes and the rotation rules.
type Policy struct {
	AccessTTL      time.Duration
	RefreshTTL     time.Duration
	SessionMax     time.Duration // absolute lifetime of a family
	ReuseGrace     time.Duration
	Rotation       bool
	ReuseDetection bool
	AccessDenylist bool

	// The rules of the vendor presets (presets.go); their zero values are
	// tokenlab's own rules.
	Preset        string // the preset these settings started from; "" for none
	GraceForever  bool   // a spent refresh token stays good until it expires
	GracePrevious bool   // only the immediately previous token gets the grace
	GraceReplays  int    // how many replays a grace allows; 0 for any number
	// ReuseRevokesAccess: a reuse that revokes the family refuses its
	// access tokens too; RevocationRevokesAccess: so do revocation and
	// logout. AccessDenylist is both.
	ReuseRevokesAccess      bool
	RevocationRevokesAccess bool
	Revocation              string // what RFC 7009 revokes: RevokeFamily (""), RevokeLiveFamily, RevokeToken, RevokeNothing, RevokeAbsent
	PKCE                    string // PKCERequired (""), PKCEOptional, PKCEUnchecked
	OmitIss                 bool   // no iss in authorization responses (RFC 9207)
	Errors                  string // whose words the OAuth refusals use: a preset's name, "" for tokenlab's
}

// What revocation revokes (Policy.Revocation).
const (
	RevokeFamily = "family" // the session: every token of the family
	// RevokeLiveFamily revokes the family when the token could still be
	// redeemed (unused, or inside its grace); revoking a spent one does
	// nothing (Ory Hydra).
	RevokeLiveFamily = "live_family"
	RevokeToken      = "token"  // the one refresh token
	RevokeNothing    = "none"   // answers 200 and revokes nothing
	RevokeAbsent     = "absent" // no revocation endpoint at all
)

// PKCE rules (Policy.PKCE).
const (
	PKCERequired  = "required_s256" // public clients must send an S256 challenge
	PKCEPlain     = "s256_or_plain" // public clients must send a challenge, S256 or plain
	PKCEOptional  = "optional"      // a challenge is checked when sent (S256 only)
	PKCEUnchecked = "unsupported"   // the verifier is never checked
)

// Validate reports the first impossible setting.
func (p Policy) Validate() error {
	switch {
	case p.GraceReplays < 0:
		return errors.New("grace-replays must not be negative")
	case !oneOf(p.Revocation, "", RevokeFamily, RevokeLiveFamily, RevokeToken, RevokeNothing, RevokeAbsent):
		return fmt.Errorf("revocation must be %s, %s, %s, %s or %s", RevokeFamily, RevokeLiveFamily, RevokeToken, RevokeNothing, RevokeAbsent)
	case !oneOf(p.PKCE, "", PKCERequired, PKCEPlain, PKCEOptional, PKCEUnchecked):
		return fmt.Errorf("pkce must be %s, %s, %s or %s", PKCERequired, PKCEPlain, PKCEOptional, PKCEUnchecked)
	case p.Preset != "" && !isPreset(p.Preset):
		return unknownPreset(p.Preset)
	case p.Errors != "" && !isPreset(p.Errors):
		return fmt.Errorf("errors: %w", unknownPreset(p.Errors))
	case p.AccessTTL <= 0 || p.RefreshTTL <= 0 || p.SessionMax <= 0:
		return errors.New("access-ttl, refresh-ttl and session-max must be positive")
	case p.ReuseGrace < 0:
		return errors.New("reuse-grace must not be negative")
	case max(p.AccessTTL, p.RefreshTTL, p.SessionMax, p.ReuseGrace) > maxLifetime:
		return fmt.Errorf("lifetimes are limited to %s, so that every expiry stays storable", FormatDuration(maxLifetime))
	}
	return nil
}

// PolicyPatch changes some settings of a Policy; a nil field keeps the
// setting. It is the body of PUT /admin/settings (durations as text,
// "15m" or "7d"), and with every field set, the answer of GET.
type PolicyPatch struct {
	AccessTTL      *Duration `json:"accessTtl,omitempty"`
	RefreshTTL     *Duration `json:"refreshTtl,omitempty"`
	SessionMax     *Duration `json:"sessionMax,omitempty"`
	ReuseGrace     *Duration `json:"reuseGrace,omitempty"`
	Rotation       *bool     `json:"rotation,omitempty"`
	ReuseDetection *bool     `json:"reuseDetection,omitempty"`
	AccessDenylist *bool     `json:"accessDenylist,omitempty"`
	// Preset, applied first, sets every rule to the preset's; the other
	// fields of the patch then override theirs.
	Preset                  *string `json:"preset,omitempty"`
	GraceForever            *bool   `json:"graceForever,omitempty"`
	GracePrevious           *bool   `json:"gracePrevious,omitempty"`
	GraceReplays            *int    `json:"graceReplays,omitempty"`
	ReuseRevokesAccess      *bool   `json:"reuseRevokesAccess,omitempty"`
	RevocationRevokesAccess *bool   `json:"revocationRevokesAccess,omitempty"`
	Revocation              *string `json:"revocation,omitempty"`
	PKCE                    *string `json:"pkce,omitempty"`
	OmitIss                 *bool   `json:"omitIss,omitempty"`
	Errors                  *string `json:"errors,omitempty"`
}

// Apply returns p with the patch's settings, or an error when the result
// is not a valid Policy.
func (pp PolicyPatch) Apply(p Policy) (Policy, error) {
	if pp.Preset != nil {
		pre, err := PresetPolicy(*pp.Preset)
		if err != nil {
			return p, err
		}
		p = pre
	}
	set(&p.GraceForever, pp.GraceForever)
	set(&p.GracePrevious, pp.GracePrevious)
	set(&p.GraceReplays, pp.GraceReplays)
	set(&p.ReuseRevokesAccess, pp.ReuseRevokesAccess)
	set(&p.RevocationRevokesAccess, pp.RevocationRevokesAccess)
	set(&p.Revocation, pp.Revocation)
	set(&p.PKCE, pp.PKCE)
	set(&p.OmitIss, pp.OmitIss)
	set(&p.Errors, pp.Errors)
	set(&p.AccessTTL, (*time.Duration)(pp.AccessTTL))
	set(&p.RefreshTTL, (*time.Duration)(pp.RefreshTTL))
	set(&p.SessionMax, (*time.Duration)(pp.SessionMax))
	set(&p.ReuseGrace, (*time.Duration)(pp.ReuseGrace))
	set(&p.Rotation, pp.Rotation)
	set(&p.ReuseDetection, pp.ReuseDetection)
	set(&p.AccessDenylist, pp.AccessDenylist)
	return p, p.Validate()
}

// IsZero reports whether the patch changes nothing.
func (pp PolicyPatch) IsZero() bool { return pp == PolicyPatch{} }

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// Patch is the patch that sets every setting to p's: applied to any
// policy it gives p.
func (p Policy) Patch() PolicyPatch {
	return PolicyPatch{AccessTTL: (*Duration)(&p.AccessTTL), RefreshTTL: (*Duration)(&p.RefreshTTL),
		SessionMax: (*Duration)(&p.SessionMax), ReuseGrace: (*Duration)(&p.ReuseGrace),
		Rotation: &p.Rotation, ReuseDetection: &p.ReuseDetection, AccessDenylist: &p.AccessDenylist,
		Preset: &p.Preset, GraceForever: &p.GraceForever, GracePrevious: &p.GracePrevious, GraceReplays: &p.GraceReplays,
		ReuseRevokesAccess: &p.ReuseRevokesAccess, RevocationRevokesAccess: &p.RevocationRevokesAccess,
		Revocation: &p.Revocation, PKCE: &p.PKCE, OmitIss: &p.OmitIss, Errors: &p.Errors}
}

func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// Duration is a time.Duration written as text the way people write
// lifetimes ("15m", "7d", "2s500ms"): FormatDuration writes it and
// ParseDuration reads it, so the text gives back the same duration to the
// nanosecond. It is also a command-line flag value (flag.Value and
// pflag.Value).
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Duration) UnmarshalText(text []byte) error { return d.Set(string(text)) }

func (d Duration) String() string { return FormatDuration(time.Duration(d)) }

// Set parses s with ParseDuration.
func (d *Duration) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Type names the flag's value in pflag's help.
func (d *Duration) Type() string { return "duration" }
