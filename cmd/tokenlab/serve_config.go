package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tokenlab/tokenlab/mockserver"
	"go.yaml.in/yaml/v3"
)

// `tokenlab serve --config FILE`: one YAML file for every setting of the
// server, the users with their claims, the clients with their lifetimes,
// and the resources. A flag or the environment overrides the file. The
// file is walked node by node, so an unknown key or a value of the wrong
// kind is named with FILE:LINE and the key's path, never a Go type.

// fileSetting is a key of the file that stands for a flag.
type fileSetting struct {
	key, flag string
	kind      valueKind
}

type valueKind int

const (
	kindString valueKind = iota
	kindDuration
	kindBool
	kindInt
	kindOnOff // a bool in the file, on/off for the flag
	kindRate  // a number in the file, N/s or N/min for the flag
)

// fileSettings are the file's scalar keys, in the order --print-config
// lists them. Sections (policy., registration.) are mappings in the file.
var fileSettings = []fileSetting{
	{"addr", "addr", kindString},
	{"db", "db", kindString},
	{"issuer", "issuer", kindString},
	{"audience", "audience", kindString},
	{"alg", "alg", kindString},
	{"clock", "clock", kindString},
	{"admin_token_file", "admin-token-file", kindString},
	{"access_secret_file", "access-secret-file", kindString},
	{"refresh_secret_file", "refresh-secret-file", kindString},
	{"policy.access_ttl", "access-ttl", kindDuration},
	{"policy.refresh_ttl", "refresh-ttl", kindDuration},
	{"policy.session_max", "session-max", kindDuration},
	{"policy.reuse_grace", "reuse-grace", kindDuration},
	{"policy.rotation", "rotation", kindBool},
	{"policy.reuse_detection", "reuse-detection", kindBool},
	{"policy.access_denylist", "access-denylist", kindBool},
	{"code_ttl", "code-ttl", kindDuration},
	{"device_ttl", "device-ttl", kindDuration},
	{"device_interval", "device-interval", kindDuration},
	{"registration.enabled", "registration", kindOnOff},
	{"registration.max", "registration-max", kindInt},
	{"registration.per_minute", "registration-rate", kindRate},
	{"api_scope", "api-scope", kindString},
	{"login_rate", "login-rate", kindRate},
	{"events_max", "events-max", kindInt},
	{"retention", "retention", kindDuration},
	{"max_conns", "max-conns", kindInt},
	{"open_introspection", "open-introspection", kindBool},
	{"allow_weak_secrets", "allow-weak-secrets", kindBool},
	{"log_format", "log-format", kindString},
	{"quiet", "quiet", kindBool},
}

// fileLists are the keys that hold lists or records, not flags.
var fileLists = []string{"users", "clients", "resources", "access_token_claims"}

var (
	userKeys   = []string{"username", "password", "password_file", "claims"}
	clientKeys = []string{"id", "secret", "secret_file", "redirect_uris", "grant_types", "scopes", "access_ttl", "refresh_ttl"}
)

// serveFile is what a config file says.
type serveFile struct {
	path   string
	values map[string]string // flag -> value as the flag takes it
	users  []mockserver.Credentials
	// clients, resources and claims are set only when the file has them.
	clients           []mockserver.ClientConfig
	resources         []string
	hasResources      bool
	accessTokenClaims []string
	// inlineSecrets: a password or client secret is written in the file
	// itself; mode is the file's, to warn when others may read it.
	inlineSecrets bool
	mode          os.FileMode
}

// loadServeFile reads and checks a config file.
func loadServeFile(path string) (*serveFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--config: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, usagef("--config %s: not valid YAML: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	f := &serveFile{path: path, values: map[string]string{}}
	if fi, err := os.Stat(path); err == nil {
		f.mode = fi.Mode().Perm()
	}
	if len(doc.Content) == 0 { // an empty file sets nothing
		return f, nil
	}
	return f, f.walkMapping(doc.Content[0], "")
}

// at is an error at a node's line.
func (f *serveFile) at(n *yaml.Node, format string, args ...any) error {
	return usagef("%s:%d: %s", f.path, n.Line, fmt.Sprintf(format, args...))
}

// walkMapping checks one mapping of the file; prefix is its section.
func (f *serveFile) walkMapping(n *yaml.Node, prefix string) error {
	if n.Kind != yaml.MappingNode {
		where := "the file"
		if prefix != "" {
			where = strings.TrimSuffix(prefix, ".")
		}
		return f.at(n, "%s must be a mapping of keys to values", where)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := prefix + k.Value
		if seen[key] {
			return f.at(k, "%s is given twice", key)
		}
		seen[key] = true
		if err := f.walkKey(k, v, key, prefix); err != nil {
			return err
		}
	}
	return nil
}

func (f *serveFile) walkKey(k, v *yaml.Node, key, prefix string) error {
	if prefix == "" && (key == "policy" || key == "registration") {
		return f.walkMapping(v, key+".")
	}
	if prefix == "" && slices.Contains(fileLists, key) {
		return f.walkList(key, v)
	}
	i := slices.IndexFunc(fileSettings, func(s fileSetting) bool { return s.key == key })
	if i < 0 {
		return f.at(k, "unknown key %q%s; known keys there: %s", k.Value, inSection(prefix), strings.Join(knownKeys(prefix), ", "))
	}
	s := fileSettings[i]
	value, err := f.scalar(v, key, s.kind)
	if err != nil {
		return err
	}
	if strings.HasSuffix(key, "_file") && !filepath.IsAbs(value) { // beside the config file
		value = filepath.Join(filepath.Dir(f.path), value)
	}
	f.values[s.flag] = value
	return nil
}

func inSection(prefix string) string {
	if prefix == "" {
		return ""
	}
	return " in " + strings.TrimSuffix(prefix, ".")
}

// knownKeys lists the keys of a section.
func knownKeys(prefix string) []string {
	var out []string
	for _, s := range fileSettings {
		rest, ok := strings.CutPrefix(s.key, prefix)
		if !ok {
			continue
		}
		if head, _, nested := strings.Cut(rest, "."); nested {
			rest = head
		}
		if !slices.Contains(out, rest) {
			out = append(out, rest)
		}
	}
	if prefix == "" {
		out = append(out, fileLists...)
	}
	sort.Strings(out)
	return out
}

// kindWords says what a value of each kind looks like.
var kindWords = map[valueKind]string{
	kindString: "a string", kindDuration: "a duration such as 90s, 15m or 7d", kindBool: "true or false",
	kindInt: "a whole number", kindOnOff: "true or false", kindRate: "a number (per second for login_rate, per minute for registration.per_minute)",
}

// scalar checks a value of a kind and returns it as its flag takes it.
func (f *serveFile) scalar(v *yaml.Node, key string, kind valueKind) (string, error) {
	bad := func() (string, error) {
		shown := v.Value
		if v.Kind != yaml.ScalarNode {
			shown = map[yaml.Kind]string{yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list"}[v.Kind]
			return "", f.at(v, "%s must be %s, not %s", key, kindWords[kind], shown)
		}
		return "", f.at(v, "%s must be %s, not %q", key, kindWords[kind], shown)
	}
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return bad()
	}
	switch kind {
	case kindString:
		if v.Tag != "!!str" {
			return bad()
		}
	case kindDuration:
		if _, err := mockserver.ParseDuration(v.Value); err != nil || v.Tag == "!!bool" {
			return bad()
		}
	case kindBool, kindOnOff:
		if v.Tag != "!!bool" {
			return bad()
		}
		if kind == kindOnOff {
			return map[string]string{"true": "on", "false": "off"}[v.Value], nil
		}
	case kindInt:
		if v.Tag != "!!int" {
			return bad()
		}
	case kindRate:
		if _, err := strconv.ParseFloat(v.Value, 64); err != nil || (v.Tag != "!!int" && v.Tag != "!!float") {
			return bad()
		}
		if key == "login_rate" {
			return v.Value + "/s", nil
		}
		return v.Value + "/min", nil
	}
	return v.Value, nil
}

// walkList reads users, clients, resources and access_token_claims.
func (f *serveFile) walkList(key string, v *yaml.Node) error {
	if v.Kind != yaml.SequenceNode {
		return f.at(v, "%s must be a list", key)
	}
	for _, item := range v.Content {
		var err error
		switch key {
		case "users":
			err = f.user(item)
		case "clients":
			err = f.client(item)
		case "resources":
			var s string
			if s, err = f.scalar(item, "each of resources", kindString); err == nil {
				f.resources = append(f.resources, s)
			}
		case "access_token_claims":
			var s string
			if s, err = f.scalar(item, "each of access_token_claims", kindString); err == nil {
				f.accessTokenClaims = append(f.accessTokenClaims, s)
			}
		}
		if err != nil {
			return err
		}
	}
	f.hasResources = f.hasResources || key == "resources"
	return nil
}

// fields reads a record's keys, refusing unknown and repeated ones.
func (f *serveFile) fields(n *yaml.Node, what string, known []string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, f.at(n, "each of %s must be a mapping with keys %s", what, strings.Join(known, ", "))
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		switch {
		case !slices.Contains(known, k.Value):
			return nil, f.at(k, "unknown key %q in %s; known keys there: %s", k.Value, what, strings.Join(known, ", "))
		case out[k.Value] != nil:
			return nil, f.at(k, "%s is given twice", k.Value)
		}
		out[k.Value] = n.Content[i+1]
	}
	return out, nil
}

// text reads an optional string field.
func (f *serveFile) text(fields map[string]*yaml.Node, key, what string) (string, error) {
	n := fields[key]
	if n == nil {
		return "", nil
	}
	return f.scalar(n, what+"."+key, kindString)
}

// secretOrFile reads KEY or KEY_file (relative to the config file).
func (f *serveFile) secretOrFile(n *yaml.Node, fields map[string]*yaml.Node, key, what string) (string, error) {
	inline, err := f.text(fields, key, what)
	if err != nil {
		return "", err
	}
	file, err := f.text(fields, key+"_file", what)
	switch {
	case err != nil:
		return "", err
	case file == "":
		f.inlineSecrets = f.inlineSecrets || inline != ""
		return inline, nil
	case inline != "":
		return "", f.at(n, "%s: give %s or %s_file, not both", what, key, key)
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(filepath.Dir(f.path), file)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", f.at(fields[key+"_file"], "%s.%s_file: %v", what, key, err)
	}
	return strings.TrimRight(string(data), "\r\n"), nil
}

func (f *serveFile) user(n *yaml.Node) error {
	fields, err := f.fields(n, "users", userKeys)
	if err != nil {
		return err
	}
	name, err := f.text(fields, "username", "users")
	if err != nil {
		return err
	}
	if name == "" {
		return f.at(n, "each of users needs a username")
	}
	what := "user " + name
	pass, err := f.secretOrFile(n, fields, "password", what)
	if err != nil {
		return err
	}
	if pass == "" {
		return f.at(n, "%s needs password or password_file", what)
	}
	u := mockserver.Credentials{Username: name, Password: pass}
	if c := fields["claims"]; c != nil {
		if c.Kind != yaml.MappingNode {
			return f.at(c, "%s: claims must be a mapping of claim names to values", what)
		}
		if err := c.Decode(&u.Claims); err != nil {
			return f.at(c, "%s: claims must be a mapping of claim names to values", what)
		}
		for i := 0; i < len(c.Content); i += 2 {
			if mockserver.IsProtocolClaim(c.Content[i].Value) {
				return f.at(c.Content[i], "%s: the claim %s is set by the server itself; choose another name", what, c.Content[i].Value)
			}
		}
		u.Claims = jsonClaims(u.Claims)
		if _, err := json.Marshal(u.Claims); err != nil { // tokens carry them as JSON
			return f.at(c, "%s: claims must be JSON values (a mapping's keys are strings, not numbers)", what)
		}
	}
	f.users = append(f.users, u)
	return nil
}

// jsonClaims turns YAML's values into JSON's (map[string]any in nested
// mappings, float64-free integers kept), so claims encode as in a token.
func jsonClaims(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = jsonValue(v)
	}
	return out
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return jsonClaims(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	}
	return v
}

func (f *serveFile) client(n *yaml.Node) error {
	fields, err := f.fields(n, "clients", clientKeys)
	if err != nil {
		return err
	}
	id, err := f.text(fields, "id", "clients")
	if err != nil {
		return err
	}
	if id == "" {
		return f.at(n, "each of clients needs an id")
	}
	what := "client " + id
	c := mockserver.ClientConfig{ID: id}
	if c.Secret, err = f.secretOrFile(n, fields, "secret", what); err != nil {
		return err
	}
	for key, dst := range map[string]*[]string{"redirect_uris": &c.RedirectURIs, "grant_types": &c.GrantTypes, "scopes": &c.Scopes} {
		list := fields[key]
		if list == nil {
			continue
		}
		if list.Kind != yaml.SequenceNode {
			return f.at(list, "%s: %s must be a list", what, key)
		}
		for _, item := range list.Content {
			s, err := f.scalar(item, what+"."+key, kindString)
			if err != nil {
				return err
			}
			*dst = append(*dst, s)
		}
	}
	for key, dst := range map[string]*mockserver.Duration{"access_ttl": &c.AccessTTL, "refresh_ttl": &c.RefreshTTL} {
		if d := fields[key]; d != nil {
			s, err := f.scalar(d, what+"."+key, kindDuration)
			if err != nil {
				return err
			}
			dst.Set(s)
		}
	}
	f.clients = append(f.clients, c)
	return nil
}

// readableSecrets is the banner's warning about a config file that holds
// secrets and that other users may read, "" when there is none to give.
func (f *serveFile) readableSecrets() string {
	if f == nil || !f.inlineSecrets || f.mode&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("%s holds passwords or client secrets and other users may read it (mode %v): chmod 600 it, or move them to password_file and secret_file",
		filepath.Base(f.path), f.mode)
}

// applyServeFile loads --config (or TOKENLAB_CONFIG) and sets every flag
// the command line and the environment left alone; sources say so.
func applyServeFile(cmd *cobra.Command, opts *serveOptions, sources map[string]string) error {
	if opts.configFile == "" {
		return nil
	}
	f, err := loadServeFile(opts.configFile)
	if err != nil {
		return err
	}
	label := "file " + filepath.Base(opts.configFile)
	for _, s := range fileSettings {
		v, ok := f.values[s.flag]
		if !ok || sources[s.flag] != "" || sources[strings.TrimSuffix(s.flag, "-file")] != "" {
			continue
		}
		if err := cmd.Flags().Set(s.flag, v); err != nil {
			return usagef("--config %s: %s: %v", opts.configFile, s.key, err)
		}
		sources[s.flag] = label
	}
	opts.file = f
	if f.hasResources && sources["resource"] == "" {
		opts.resources, sources["resource"] = f.resources, label
	}
	if len(f.users) > 0 {
		sources["users"] = label
	}
	if len(f.clients) > 0 {
		sources["clients"] = label
	}
	return nil
}

// printConfig writes the effective configuration, one setting a line
// with where it came from; secrets are never printed.
func printConfig(w io.Writer, cmd *cobra.Command, opts serveOptions, cfg serveConfig) {
	src := func(flag string) string {
		if s := cfg.sources[flag]; s != "" {
			return s
		}
		return "default"
	}
	fmt.Fprintln(w, "# the effective configuration of tokenlab serve; secrets are redacted")
	for _, s := range fileSettings {
		v := cmd.Flags().Lookup(s.flag).Value.String()
		if v == "" {
			v = `""`
		}
		fmt.Fprintf(w, "%-28s %-28s # %s\n", s.key+":", v, src(s.flag))
	}
	for _, secret := range []string{"access-secret", "refresh-secret", "admin-token"} {
		if cmd.Flags().Lookup(secret).Value.String() != "" || cfg.sources[secret] != "" {
			fmt.Fprintf(w, "%-28s %-28s # %s\n", strings.ReplaceAll(secret, "-", "_")+":", "(redacted)", src(secret))
		}
	}
	fmt.Fprintf(w, "%-28s %-28s # %s\n", "resources:", "["+strings.Join(cfg.Resources, ", ")+"]", src("resource"))
	fmt.Fprintf(w, "%-28s %-28s # %s\n", "access_token_claims:", "["+strings.Join(cfg.AccessTokenClaims, ", ")+"]", src("access_token_claims"))
	fmt.Fprintln(w, "users:")
	for _, u := range cfg.Users {
		var names []string
		for name := range u.Claims {
			names = append(names, name)
		}
		sort.Strings(names)
		fmt.Fprintf(w, "  - %s (password redacted; claims: [%s])  # %s\n", u.Username, strings.Join(names, ", "), userSource(opts, u.Username))
	}
	fmt.Fprintln(w, "clients:")
	fmt.Fprintf(w, "  - %s (public, built in)  # default\n", mockserver.DefaultClientID)
	for _, c := range cfg.Clients {
		kind := "public"
		if c.Secret != "" {
			kind = "confidential, secret redacted"
		}
		life := ""
		if c.AccessTTL > 0 || c.RefreshTTL > 0 {
			life = fmt.Sprintf("; access_ttl %s, refresh_ttl %s", c.AccessTTL, c.RefreshTTL)
		}
		fmt.Fprintf(w, "  - %s (%s%s)  # %s\n", c.ID, kind, life, clientSource(opts, c.ID))
	}
}

func userSource(opts serveOptions, name string) string {
	if opts.file != nil && slices.ContainsFunc(opts.file.users, func(u mockserver.Credentials) bool { return u.Username == name }) {
		return "file " + filepath.Base(opts.file.path)
	}
	if opts.userFile != "" {
		return "--user-file"
	}
	return "flag or default"
}

func clientSource(opts serveOptions, id string) string {
	if opts.file != nil && slices.ContainsFunc(opts.file.clients, func(c mockserver.ClientConfig) bool { return c.ID == id }) {
		return "file " + filepath.Base(opts.file.path)
	}
	if opts.clientFile != "" {
		return "--client-file"
	}
	return "flag"
}

// overrideUser adds u, or gives a user of the same name u's password (a
// flag overrides the file) while keeping the file's claims.
func overrideUser(users []mockserver.Credentials, u mockserver.Credentials) []mockserver.Credentials {
	for i := range users {
		if users[i].Username == u.Username {
			users[i].Password = u.Password
			return users
		}
	}
	return append(users, u)
}

// resolveOIDC checks the registration, resource and claim settings.
func (o serveOptions) resolveOIDC(cfg *serveConfig) error {
	switch o.registration {
	case "on", "true":
		cfg.Registration = true
	case "off", "false":
		cfg.Registration = false
	default:
		return usagef("--registration: %q is neither on nor off", o.registration)
	}
	n, err := strconv.Atoi(strings.TrimSuffix(o.registrationRate, "/min"))
	if err != nil || n < 1 {
		return usagef("--registration-rate: %q is not a rate such as 10/min", o.registrationRate)
	}
	if o.registrationMax < 1 {
		return usagef("--registration-max must be at least 1")
	}
	cfg.RegistrationPerMinute, cfg.RegistrationMax = n, o.registrationMax
	// tokenlab serve always names its resources: its own origin and these.
	cfg.Resources = []string{}
	for _, r := range o.resources {
		if !strings.Contains(r, "://") && !strings.HasPrefix(r, "urn:") {
			return usagef("--resource %q: a resource is an absolute URI such as https://api.example/", r)
		}
		cfg.Resources = append(cfg.Resources, r)
	}
	cfg.APIScope = o.apiScope
	if o.file != nil {
		cfg.AccessTokenClaims = o.file.accessTokenClaims
	}
	return nil
}

// oidcSummary is the banner's line on OpenID Connect, registration and
// resources.
func oidcSummary(url string, cfg serveConfig) string {
	reg := "registration off"
	if cfg.Registration {
		reg = fmt.Sprintf("registration %s/oauth/register (at most %d, %d/min per address)", url, cfg.RegistrationMax, cfg.RegistrationPerMinute)
	}
	resources := "resources: this origin"
	if len(cfg.Resources) > 0 {
		resources += ", " + strings.Join(cfg.Resources, ", ")
	}
	return "ID tokens RS256 · " + url + "/.well-known/openid-configuration · " + reg + " · " + resources
}
