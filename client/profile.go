package client

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Profile says how to talk to one kind of API: where to log in, refresh
// and log out, what the fields are called, where tokens travel, and which
// statuses mean "the access token was rejected".
type Profile struct {
	Name string `yaml:"name"`
	// Extends names a built-in profile whose settings this one starts from
	// (only in profile files).
	Extends string `yaml:"extends,omitempty"`
	// Dialect is "json" (JSON bodies, like the seed articles) or "oauth2"
	// (form-encoded RFC 6749 with discovery from Issuer).
	Dialect string `yaml:"dialect"`
	// Transport is where the access token travels: "bearer" (the
	// Authorization header) or "cookie".
	Transport      string        `yaml:"transport"`
	Paths          Paths         `yaml:"paths"`
	Fields         Fields        `yaml:"fields"`
	Cookies        Cookies       `yaml:"cookies"`
	RejectStatuses []int         `yaml:"reject_statuses"`
	OAuth          OAuthSettings `yaml:"oauth"`
	// APIs are other origins (scheme://host[:port]) that may receive the
	// access token besides the server itself: with real identity providers
	// the API often lives elsewhere (the IdP on :4444, the API on :8080).
	APIs []string `yaml:"apis"`
}

// Paths are the API's endpoints, relative to the server URL (or absolute).
type Paths struct {
	Login     string `yaml:"login"`
	Refresh   string `yaml:"refresh"`
	Logout    string `yaml:"logout"`
	Protected string `yaml:"protected"`
}

// Fields are the JSON field names of the json dialect.
type Fields struct {
	Username       string `yaml:"username"`
	Password       string `yaml:"password"`
	AccessToken    string `yaml:"access_token"`
	RefreshToken   string `yaml:"refresh_token"`
	ExpiresIn      string `yaml:"expires_in"`
	RefreshRequest string `yaml:"refresh_request"` // the field that carries the refresh token to Paths.Refresh and Paths.Logout
}

// Cookies are the cookie names when tokens travel as cookies.
type Cookies struct {
	Access  string `yaml:"access"`
	Refresh string `yaml:"refresh"`
}

// OAuthSettings are the oauth2 dialect's client settings.
type OAuthSettings struct {
	Issuer       string `yaml:"issuer"` // discovery base; the server URL when empty
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	ClientAuth   string `yaml:"client_auth"` // "basic" (default when a secret is set) or "post"
	Scope        string `yaml:"scope"`
	// Resources are RFC 8707 resource indicators sent with every grant
	// (node-oidc-provider issues JWT access tokens only for a resource).
	Resources []string `yaml:"resources"`
	// AllowCrossOriginEndpoints accepts a discovery document whose
	// endpoints live on another origin than the issuer. Off by default: a
	// tampered or mistyped discovery document must not send passwords,
	// codes and refresh tokens to another host.
	AllowCrossOriginEndpoints bool `yaml:"allow_cross_origin_endpoints"`
}

// Dialects and transports.
const (
	DialectJSON   = "json"
	DialectOAuth2 = "oauth2"
	ViaBearer     = "bearer"
	ViaCookie     = "cookie"
)

// BuiltinProfiles returns the built-in profiles by name.
func BuiltinProfiles() map[string]Profile {
	seed := Profile{
		Dialect:   DialectJSON,
		Transport: ViaBearer,
		Paths:     Paths{Login: "/login", Refresh: "/token", Logout: "/logout", Protected: "/protected"},
		Fields: Fields{Username: "username", Password: "password", AccessToken: "accessToken",
			RefreshToken: "refreshToken", ExpiresIn: "expiresIn", RefreshRequest: "token"},
		Cookies: Cookies{Access: "AccessToken", Refresh: "RefreshToken"},
	}
	tokenlab := seed
	tokenlab.Name, tokenlab.RejectStatuses = "tokenlab", []int{401}
	seedJSON := seed
	// The seed articles answer 403 to an expired or invalid token.
	seedJSON.Name, seedJSON.RejectStatuses = "seed-json", []int{401, 403}
	seedCookie := seedJSON
	seedCookie.Name, seedCookie.Transport = "seed-cookie", ViaCookie
	oauth := Profile{
		Name:           "oauth2",
		Dialect:        DialectOAuth2,
		Transport:      ViaBearer,
		Paths:          Paths{Protected: "/protected"},
		RejectStatuses: []int{401},
	}
	return map[string]Profile{"tokenlab": tokenlab, "seed-json": seedJSON, "seed-cookie": seedCookie, "oauth2": oauth}
}

// BuiltinProfileNames lists the built-in profiles, sorted.
func BuiltinProfileNames() []string {
	var names []string
	for n := range BuiltinProfiles() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ResolveProfile returns the built-in profile of that name, or loads the
// profile file at that path.
func ResolveProfile(nameOrPath string) (Profile, error) {
	if p, ok := BuiltinProfiles()[nameOrPath]; ok {
		return p, nil
	}
	if strings.HasSuffix(nameOrPath, ".yaml") || strings.HasSuffix(nameOrPath, ".yml") || strings.ContainsRune(nameOrPath, os.PathSeparator) {
		return LoadProfile(nameOrPath)
	}
	return Profile{}, fmt.Errorf("unknown profile %q: use one of %s, or the path of a profile YAML file",
		nameOrPath, strings.Join(BuiltinProfileNames(), ", "))
}

// LoadProfile reads a profile from a YAML file. Unknown keys are errors.
func LoadProfile(path string) (Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Profile{}, fmt.Errorf("read profile: %w", err)
	}
	p, err := ParseProfile(data)
	if err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

var yamlLine = regexp.MustCompile(`^yaml: (?:unmarshal errors:\n\s*)?line (\d+): `)

// ParseProfile parses a profile document.
func ParseProfile(data []byte) (Profile, error) {
	var head Profile
	if len(bytes.TrimSpace(stripComments(data))) == 0 {
		return head, fmt.Errorf("the profile is empty")
	}
	if err := decodeStrict(data, &head); err != nil {
		return head, err
	}
	p := Profile{}
	if head.Extends != "" {
		base, ok := BuiltinProfiles()[head.Extends]
		if !ok {
			return p, fmt.Errorf("extends: unknown built-in profile %q (want one of %s)", head.Extends, strings.Join(BuiltinProfileNames(), ", "))
		}
		p = base
		p.RejectStatuses = slices.Clone(base.RejectStatuses)
	}
	if err := decodeStrict(data, &p); err != nil {
		return p, err
	}
	if head.Name == "" {
		// Not the base's name: a profile of its own needs its own store key.
		p.Name = "custom"
	}
	return p, p.Validate()
}

// oauthKeys are OAuthSettings' keys, which belong under oauth:.
var oauthKeys = []string{"issuer", "client_id", "client_secret", "client_auth", "scope", "resources", "allow_cross_origin_endpoints"}

// goTypeField is the YAML decoder's "field X not found in type
// client.Profile": a reader wrote a key, not a Go field.
var goTypeField = regexp.MustCompile(`field (\S+) not found in type \S+`)

func decodeStrict(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		msg := goTypeField.ReplaceAllStringFunc(err.Error(), func(m string) string {
			key := goTypeField.FindStringSubmatch(m)[1]
			if slices.Contains(oauthKeys, key) {
				return fmt.Sprintf("unknown key %s (the oauth2 dialect's client settings go under oauth:, as oauth: {%s: …})", key, key)
			}
			return "unknown key " + key
		})
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			return fmt.Errorf("line %s: %s", m[1], strings.TrimSpace(msg[len(m[0]):]))
		}
		return fmt.Errorf("%s", strings.TrimPrefix(msg, "yaml: "))
	}
	return nil
}

// Validate reports the first thing wrong with a profile.
func (p Profile) Validate() error {
	switch {
	case p.Dialect != DialectJSON && p.Dialect != DialectOAuth2:
		return fmt.Errorf("dialect must be json or oauth2, not %q", p.Dialect)
	case p.Transport != ViaBearer && p.Transport != ViaCookie:
		return fmt.Errorf("transport must be bearer or cookie, not %q", p.Transport)
	case p.Transport == ViaCookie && (p.Cookies.Access == "" || p.Cookies.Refresh == ""):
		return fmt.Errorf("transport cookie needs cookies.access and cookies.refresh")
	case len(p.RejectStatuses) == 0:
		return fmt.Errorf("reject_statuses must list at least one status, such as 401")
	case p.OAuth.ClientAuth != "" && p.OAuth.ClientAuth != "basic" && p.OAuth.ClientAuth != "post":
		return fmt.Errorf("oauth.client_auth must be basic or post, not %q", p.OAuth.ClientAuth)
	}
	for _, api := range p.APIs {
		if _, err := Origin(api); err != nil {
			return fmt.Errorf("apis: %w", err)
		}
	}
	for _, st := range p.RejectStatuses {
		if st < 400 || st > 499 {
			return fmt.Errorf("reject_statuses must be 4xx statuses, not %d", st)
		}
	}
	if p.Dialect == DialectJSON {
		for name, v := range map[string]string{"paths.login": p.Paths.Login, "paths.refresh": p.Paths.Refresh,
			"fields.username": p.Fields.Username, "fields.password": p.Fields.Password,
			"fields.access_token": p.Fields.AccessToken} {
			if v == "" {
				return fmt.Errorf("%s is required for the json dialect", name)
			}
		}
	}
	return nil
}

// rejects reports whether an answer means the access token was rejected:
// one of the profile's statuses, or, for OAuth, a 403 that says
// `WWW-Authenticate: Bearer error="invalid_token"` (zitadel answers 403
// there; RFC 6750 §3.1 asks for 401).
func (p Profile) rejects(status int, header http.Header) bool {
	if slices.Contains(p.RejectStatuses, status) {
		return true
	}
	return p.Dialect == DialectOAuth2 && status == http.StatusForbidden && bearerInvalidToken(header)
}

// bearerInvalidToken reports whether a WWW-Authenticate header carries
// the Bearer scheme's error="invalid_token".
func bearerInvalidToken(h http.Header) bool {
	for _, v := range h.Values("WWW-Authenticate") {
		scheme, params, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			continue
		}
		for _, part := range strings.Split(params, ",") {
			name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && strings.EqualFold(strings.TrimSpace(name), "error") && strings.Trim(strings.TrimSpace(val), `"`) == "invalid_token" {
				return true
			}
		}
	}
	return false
}

// Origin returns the lower-cased scheme://host[:port] of an http(s) URL.
func Origin(rawURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL such as https://api.example.com:8080", rawURL)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// stripComments drops YAML comment lines, to tell an empty file.
func stripComments(data []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(data, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("---")) {
			out = append(out, line...)
		}
	}
	return out
}
