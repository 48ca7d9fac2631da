package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/internal/termtext"
)

// Bounds on what decode reads.
const (
	maxTokenBytes = 64 << 10
	maxJWKSBytes  = 1 << 20
	jwksTimeout   = 10 * time.Second
)

// decodeOptions are the flags of `tokenlab decode`.
type decodeOptions struct {
	secret       string
	secretFile   string
	secretPrompt bool
	jwks         string
	json         bool
	idToken      bool             // decode the current session's ID token
	at           string           // --now, as typed
	now          func() time.Time // the clock; time.Now outside tests
}

func newDecodeCmd(std streams) *cobra.Command {
	opts := decodeOptions{now: time.Now}
	cmd := &cobra.Command{
		Use:   "decode [TOKEN]",
		Short: "Decode a JWT: header, claims and times; verify it with --secret or --jwks",
		Long: `Decode a JWT without trusting it: print its header and claims, and its iat, nbf
and exp as dates and in words ("expires in 14m 52s"). The token comes from the
argument or, without one, from stdin; a "Bearer " prefix is fine.

Verification is optional: --secret-file (or --secret-prompt, or the environment
variable TOKENLAB_DECODE_SECRET) checks an HS256 token with the shared secret,
--jwks checks RS256, ES256 or EdDSA tokens with the issuer's key set, taken from a
URL, a file, or inline JSON. The key is chosen by the token's kid and the algorithm
pinned to the key, so alg "none", an HS256 token "signed" with a public key, or a
changed byte are reported as INVALID (exit 1). Verification does not judge expiry;
the times section shows it.

Exit codes: 0 decoded (and valid, when checked); 1 signature invalid; 2 not a JWT,
or a bad flag, secret or key set.`,
		Example: `  tokenlab decode eyJhbGciOi...
  curl -s localhost:8080/login -H 'Content-Type: application/json' -d '{"username":"alice","password":"password123"}' | jq -r .accessToken | tokenlab decode
  tokenlab decode --secret-file access.secret "$TOKEN"
  TOKENLAB_DECODE_SECRET="$ACCESS_TOKEN_SECRET" tokenlab decode "$TOKEN"
  tokenlab decode --jwks http://127.0.0.1:8080/.well-known/jwks.json --json "$TOKEN"
  tokenlab decode --now 2026-01-02T04:00:00Z "$TOKEN"   # judge the times as of another moment
  tokenlab decode --id-token                          # the current session's ID token`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("secret") && opts.secret == "" {
				return usagef("--secret is empty; pass the secret the token was signed with")
			}
			if err := opts.resolveSecret(std); err != nil {
				return err
			}
			if opts.secret != "" && opts.jwks != "" {
				return usagef("give --secret or --jwks, not both")
			}
			if opts.idToken {
				if len(args) > 0 {
					return usagef("give a token or --id-token, not both")
				}
				tok, printed, err := sessionIDToken(cmd.Context(), std)
				if err != nil || printed {
					return oneLine(err)
				}
				args = []string{tok}
			}
			return decodeRun(cmd.Context(), std, opts, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.secretFile, "secret-file", "", "verify an HS256/384/512 signature with the shared secret on this file's first line")
	f.BoolVar(&opts.secretPrompt, "secret-prompt", false, "ask for the shared secret on the terminal, without echo")
	f.StringVar(&opts.secret, "secret", "", "the shared secret itself (deprecated: visible in ps; use --secret-file, --secret-prompt or TOKENLAB_DECODE_SECRET)")
	f.StringVar(&opts.jwks, "jwks", "", "verify with a JWK set: a URL, a file, or inline JSON")
	f.BoolVar(&opts.json, "json", false, "print {header, claims, times, signature, reason} as JSON")
	f.BoolVar(&opts.idToken, "id-token", false, "decode the current session's OpenID Connect ID token (verified at login)")
	f.StringVar(&opts.at, "now", "", "judge the times as of this RFC 3339 moment, e.g. the mock server's moved clock")
	return cmd
}

// resolveSecret finds the shared secret: --secret-file, --secret-prompt,
// --secret (deprecated), or TOKENLAB_DECODE_SECRET.
func (o *decodeOptions) resolveSecret(std streams) error {
	n := 0
	for _, given := range []bool{o.secretFile != "", o.secretPrompt, o.secret != ""} {
		if given {
			n++
		}
	}
	if n > 1 {
		return usagef("give one of --secret-file, --secret-prompt and --secret")
	}
	if o.secret != "" {
		warnVisibleSecret(std, "--secret", "--secret-file, --secret-prompt or TOKENLAB_DECODE_SECRET")
	}
	switch {
	case o.secretFile != "":
		s, err := readSecretFile("--secret-file", o.secretFile)
		o.secret = s
		return err
	case o.secretPrompt:
		tty, ok := terminal(std.in)
		if !ok {
			return usagef("--secret-prompt needs a terminal on stdin; use --secret-file or TOKENLAB_DECODE_SECRET")
		}
		s, err := secretFromTerminal(std, tty, "Shared secret: ")
		o.secret = s
		return err
	case o.secret == "":
		if v, ok := std.env("TOKENLAB_DECODE_SECRET"); ok && v != "" && o.jwks == "" {
			o.secret = v
		}
	}
	return nil
}

// decodeReport is what decode found; --json prints it as is.
type decodeReport struct {
	Header    json.RawMessage     `json:"header"`
	Claims    json.RawMessage     `json:"claims"`
	Kind      string              `json:"kind,omitempty"`
	Now       string              `json:"now"`
	Times     map[string]timeJSON `json:"times"`
	Signature string              `json:"signature"` // valid, invalid or unchecked
	Reason    string              `json:"reason,omitempty"`
	// Warning marks a token that verified with a secret shorter than its
	// algorithm's hash (RFC 7518 §3.2): it can be brute-forced from the
	// token alone, and every token signed with it forged.
	Warning string `json:"warning,omitempty"`

	decoded client.Decoded
	times   []client.TimeClaim
	now     time.Time
	how     string // what checked the signature
}

type timeJSON struct {
	Time     string `json:"time,omitempty"`
	Unix     int64  `json:"unix,omitempty"`
	Relative string `json:"relative,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// Values of decodeReport.Signature.
const (
	sigValid     = "valid"
	sigInvalid   = "invalid"
	sigUnchecked = "unchecked"
)

func decodeRun(ctx context.Context, std streams, opts decodeOptions, args []string) error {
	now := opts.now()
	if opts.at != "" {
		t, err := time.Parse(time.RFC3339, opts.at)
		if err != nil {
			return usagef("--now %q is not an RFC 3339 time; write it like 2026-01-02T03:04:05Z", opts.at)
		}
		now = t
	}
	token, err := readToken(std, args)
	if err != nil {
		return err
	}
	d, err := client.Decode(token)
	if err != nil {
		if strings.HasPrefix(token, "{") {
			return usagef("this is JSON, not a JWT; pick the token out of it first, e.g. with jq -r .accessToken")
		}
		return usageError{err}
	}
	rep := decodeReport{Header: d.RawHeader, Claims: d.RawClaims, Kind: d.Kind(), Now: now.UTC().Format(time.RFC3339),
		Times: map[string]timeJSON{}, Signature: sigUnchecked, decoded: d, times: d.Times(now), now: now}
	for _, tc := range rep.times {
		tj := timeJSON{Relative: tc.Relative, Problem: tc.Problem}
		if tc.Problem == "" {
			tj.Time, tj.Unix = tc.At.Format(time.RFC3339), tc.At.Unix()
		}
		rep.Times[tc.Claim] = tj
	}

	var verr error
	switch {
	case opts.secret != "":
		verr = client.VerifyHMAC(token, opts.secret)
		rep.how = d.Alg() + " with the given secret"
		if verr == nil {
			rep.Warning = weakSecretWarning(d.Alg(), opts.secret)
		}
	case opts.jwks != "":
		keys, source, err := loadJWKS(ctx, opts.jwks)
		if err != nil {
			return err
		}
		verr = client.VerifyJWKS(token, keys)
		if errors.Is(verr, client.ErrBadJWKS) {
			return usagef("the JWKS from %s cannot be used: %v", source, verr)
		}
		rep.how = fmt.Sprintf("%s with key %q from %s", d.Alg(), d.Kid(), source)
		if d.Kid() == "" {
			rep.how = d.Alg() + " with a key from " + source
		}
	}
	if opts.secret != "" || opts.jwks != "" {
		rep.Signature = sigValid
		if verr != nil {
			rep.Signature, rep.Reason = sigInvalid, verr.Error()
		}
	}

	if opts.json {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return err
		}
		// Bidi overrides can only be inside JSON strings, where \uXXXX
		// means the same: escape them so a terminal shows them.
		if _, err := io.WriteString(std.out, printableLines(buf.String())); err != nil {
			return err
		}
	} else {
		printDecoded(colorWriter(std, std.out), rep)
	}
	if rep.Signature == sigInvalid {
		return silentFailure{"the signature is invalid"}
	}
	return nil
}

// readToken takes the token from the argument or stdin and strips what
// people paste around it: whitespace, quotes, "Authorization:", "Bearer ".
func readToken(std streams, args []string) (string, error) {
	var raw string
	if len(args) == 1 && args[0] != "-" {
		raw = args[0]
	} else {
		if isTerminal(std.in) {
			return "", usagef("no token given; pass one as an argument, or pipe one in: echo \"$TOKEN\" | tokenlab decode")
		}
		b, err := io.ReadAll(io.LimitReader(std.in, maxTokenBytes+1))
		if err != nil {
			return "", fmt.Errorf("read the token from stdin: %w", err)
		}
		if len(b) > maxTokenBytes {
			return "", usagef("stdin holds more than %d KiB, which is not one token", maxTokenBytes>>10)
		}
		raw = string(b)
	}
	tok := cleanToken(raw)
	if tok == "" {
		return "", usagef("no token given; pass one as an argument or on stdin")
	}
	return tok, nil
}

func cleanToken(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	s = trimPrefixFold(s, "Authorization:")
	s = trimPrefixFold(strings.TrimSpace(s), "Bearer ")
	return strings.TrimSpace(s)
}

func trimPrefixFold(s, prefix string) string {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):]
	}
	return s
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// loadJWKS reads a key set from a URL, a file, or the flag itself, and
// names its source for messages.
func loadJWKS(ctx context.Context, src string) ([]byte, string, error) {
	if strings.HasPrefix(strings.TrimSpace(src), "{") {
		return []byte(src), "--jwks", nil
	}
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		b, err := fetchJWKS(ctx, src)
		return b, src, err
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, src, usagef("cannot read the JWKS file %s (%v); pass a file, a URL or inline JSON", src, errors.Unwrap(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxJWKSBytes+1))
	if err != nil {
		return nil, src, usagef("cannot read the JWKS file %s: %v", src, err)
	}
	if len(b) > maxJWKSBytes {
		return nil, src, usagef("the JWKS file %s is larger than %d KiB, which no key set is", src, maxJWKSBytes>>10)
	}
	return b, src, nil
}

func fetchJWKS(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, jwksTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, usagef("--jwks %q is not a usable URL: %v", url, err)
	}
	req.Header.Set("Accept", "application/json")
	// Redirects are not followed: a key set must come from the address
	// given, not from wherever that server sends the request.
	hc := &http.Client{Timeout: jwksTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, usagef("cannot fetch the JWKS from %s (%v); check the address, or pass a file", url, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 3 {
		return nil, usagef("the JWKS URL %s redirects to %s, which is not followed; pass the key set's own address", url, client.Printable(resp.Header.Get("Location")))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, usagef("the JWKS URL %s answered %s; the mock server publishes its keys at /.well-known/jwks.json", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, usagef("cannot read the JWKS from %s: %v", url, err)
	}
	if len(b) > maxJWKSBytes {
		return nil, usagef("the JWKS at %s is larger than %d KiB, which no key set is", url, maxJWKSBytes>>10)
	}
	return b, nil
}

// decodeStyles are the looks of decode's text output.
type decodeStyles struct {
	title, key, dim, good, bad, warn lipgloss.Style
}

func newDecodeStyles() decodeStyles {
	return decodeStyles{
		title: lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#7D56F4")),
		key:   lipgloss.NewStyle().Foreground(lipgloss.Color("#5FAFFF")),
		dim:   lipgloss.NewStyle().Foreground(lipgloss.Color("#888888")),
		good:  lipgloss.NewStyle().Foreground(lipgloss.Color("#04B575")),
		bad:   lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FF5F87")),
		warn:  lipgloss.NewStyle().Foreground(lipgloss.Color("#FFAF00")),
	}
}

// typMeaning explains the header's typ.
func typMeaning(d client.Decoded) string {
	switch d.Kind() {
	case "access token":
		return "an access token (RFC 9068): short-lived, sent with every API request"
	case "refresh token":
		return "a refresh token: long-lived, sent only to the token endpoint to get new tokens"
	case "JWT":
		return "a JWT that does not say whether it is an access or a refresh token"
	}
	if d.Typ() == "" {
		return "none: the header does not say what kind of token this is"
	}
	return "not a kind tokenlab knows"
}

func printDecoded(w io.Writer, rep decodeReport) {
	st := newDecodeStyles()
	d := rep.decoded

	fmt.Fprintln(w, st.title.Render("header"))
	fmt.Fprintln(w, prettyJSON(rep.Header, st))
	typ := client.Printable(d.Typ())
	if typ == "" {
		typ = "(none)"
	}
	fmt.Fprintln(w, "  "+st.dim.Render("typ "+typ+" = "+typMeaning(d)))

	fmt.Fprintln(w)
	fmt.Fprintln(w, st.title.Render("claims"))
	fmt.Fprintln(w, prettyJSON(rep.Claims, st))

	fmt.Fprintln(w)
	fmt.Fprintln(w, st.title.Render("times")+" "+st.dim.Render("(now "+formatTime(rep.now)+")"))
	if len(rep.times) == 0 {
		fmt.Fprintln(w, "  "+st.dim.Render("no iat, nbf or exp: nothing says when this token was issued or when it ends"))
	}
	for _, tc := range rep.times {
		name := st.key.Render(fmt.Sprintf("%-3s", tc.Claim))
		if tc.Problem != "" {
			fmt.Fprintln(w, "  "+name+"  "+st.warn.Render(tc.Problem))
			continue
		}
		phrase := st.good
		if strings.HasPrefix(tc.Relative, "expired") || strings.HasPrefix(tc.Relative, "not valid") {
			phrase = st.bad
		} else if strings.Contains(tc.Relative, "future") {
			phrase = st.warn
		}
		fmt.Fprintln(w, "  "+name+"  "+formatTime(tc.At)+"  "+phrase.Render("("+tc.Relative+")"))
	}
	if _, ok := d.Claims["exp"]; !ok {
		fmt.Fprintln(w, "  "+st.warn.Render("no exp: this token never expires"))
	}

	fmt.Fprintln(w)
	switch rep.Signature {
	case sigValid:
		fmt.Fprintln(w, "signature: "+st.good.Render("valid")+" "+st.dim.Render("("+client.Printable(rep.how)+")"))
		if rep.Warning != "" {
			fmt.Fprintln(w, "           "+st.warn.Render("WEAK SECRET: "+rep.Warning))
		}
	case sigInvalid:
		fmt.Fprintln(w, "signature: "+st.bad.Render("INVALID")+" — "+client.Printable(rep.Reason))
	default:
		fmt.Fprintln(w, "signature: "+st.dim.Render("not checked (pass --secret-file or --jwks to verify it)"))
	}
}

// weakSecretWarning says why a verifying HMAC secret is too short: RFC
// 7518 §3.2 asks for a key at least as long as the hash (32 bytes for
// HS256), or the secret can be guessed offline from any one token.
func weakSecretWarning(alg, secret string) string {
	need := map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}[alg]
	if len(secret) >= need {
		return ""
	}
	return fmt.Sprintf("%d bytes, under the %d that %s needs (RFC 7518 §3.2): anyone holding one token can brute-force it offline and forge others", len(secret), need, alg)
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 MST") }

// jsonKey matches a key at the start of a line of indented JSON.
var jsonKey = regexp.MustCompile(`(?m)^(\s*)("(?:[^"\\]|\\.)*")(:)`)

// prettyJSON indents raw JSON by two spaces and colours its keys; json.Indent
// keeps the issuer's key order.
func prettyJSON(raw json.RawMessage, st decodeStyles) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "  ", "  "); err != nil {
		return "  " + client.Printable(string(raw))
	}
	return "  " + jsonKey.ReplaceAllStringFunc(printableLines(buf.String()), func(m string) string {
		sub := jsonKey.FindStringSubmatch(m)
		return sub[1] + st.key.Render(sub[2]) + sub[3]
	})
}

// printableLines escapes each line of untrusted text (see
// client.Printable), keeping the line breaks.
func printableLines(s string) string { return termtext.Lines(s) }
