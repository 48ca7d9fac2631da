package tui

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/internal/termtext"
)

// claimHelp explains the standard header fields and claims.
var claimHelp = map[string]string{
	"alg":       "signing algorithm; the server accepts only the one it pinned",
	"typ":       "token type: at+jwt is an access token (RFC 9068), rt+jwt a refresh token",
	"kid":       "key ID: which of the server's keys signed it",
	"iss":       "issuer: the server that made the token",
	"sub":       "subject: the user's ID",
	"aud":       "audience: who the token is for; others must refuse it",
	"exp":       "expiry: after this moment the token is refused",
	"nbf":       "not before: refused until this moment",
	"iat":       "issued at: when the server made it",
	"jti":       "JWT ID: unique per token; logs name tokens by it, never by value",
	"username":  "the user's name, for display (not a standard claim)",
	"sid":       "session ID: the refresh-token family, checked by the logout denylist",
	"fid":       "family ID: every refresh token rotated from one login shares it",
	"scope":     "what the token may be used for (OAuth)",
	"client_id": "the OAuth client the token was issued to",
}

// claimOrder puts who the token is about first, then when it lives, then
// the rest; unknown claims follow in name order.
var claimOrder = []string{"alg", "typ", "kid", "sub", "username", "exp", "iat", "nbf", "iss", "aud", "scope", "client_id", "jti", "sid", "fid"}

// inspectorModel is a token debugger: the token's claims, each
// explained with human times; its signature checked against the server's
// key (✓/✗); its header; the encoded token in three colours, as jwt.io
// shows it. A claim can be edited (e) and the forged token sent to the
// API (S) to watch it be refused, with the server's reason.
type inspectorModel struct {
	c           *common
	session     client.Session
	showRefresh bool
	showID      bool // the login's OpenID Connect ID token (idtoken.go)
	vp          viewport.Model

	jwks    []byte // the server's published keys, for non-HMAC tokens
	jwksErr string

	// The editor.
	editing bool // e: a cursor over the claims
	cursor  int
	input   textinput.Model
	typing  bool              // the input is open on the claim at the cursor
	forged  string            // the edited token; "" while nothing was edited
	edits   map[string]string // edited claim → its value before
	sending bool
	status  status
}

func newInspectorModel(c *common) inspectorModel {
	vp := viewport.New(viewport.WithWidth(c.width), viewport.WithHeight(max(c.height-4, 3)))
	vp.KeyMap = viewport.KeyMap{}
	in := textinput.New()
	in.Prompt = ""
	in.CharLimit = 512
	if c.opts.NoColor {
		in.SetStyles(textinput.Styles{Cursor: textinput.CursorStyle{Blink: true}})
	}
	return inspectorModel{c: c, vp: vp, input: in}
}

// open shows the session's tokens, the access token first, unedited; it
// fetches the server's JWKS once, for tokens not signed with a secret.
func (in inspectorModel) open(s client.Session, server string) (inspectorModel, tea.Cmd) {
	in.session, in.showRefresh, in.showID = s, false, false
	in = in.reset()
	in = in.resize()
	in.vp.GotoTop()
	if in.jwks != nil || server == "" {
		return in, nil
	}
	if d, err := client.Decode(s.AccessToken); err == nil && !strings.HasPrefix(d.Alg(), "HS") || s.IDToken != "" {
		return in, jwksCmd(in.c.ctx, server) // ID tokens are RS256: checked with the published key
	}
	return in, nil
}

// reset drops the edits.
func (in inspectorModel) reset() inspectorModel {
	in.editing, in.typing, in.forged, in.edits, in.status, in.cursor = false, false, "", nil, status{}, 0
	in.input.Blur()
	return in
}

func (in inspectorModel) resize() inspectorModel {
	in.vp.SetWidth(in.c.width)
	in.vp.SetHeight(in.vpHeight())
	in.input.SetWidth(max(10, in.c.width-20))
	in.vp.SetContent(in.inspect())
	return in
}

// vpHeight leaves room for the title, the editor's line and the status.
func (in inspectorModel) vpHeight() int {
	h := in.c.height - 4
	if in.typing {
		h--
	}
	if in.status.text != "" {
		h -= lipgloss.Height(in.c.statusView(in.status))
	}
	return max(h, 3)
}

func (in inspectorModel) update(msg tea.Msg) (inspectorModel, tea.Cmd) {
	switch msg := msg.(type) {
	case jwksMsg:
		if msg.err != nil {
			in.jwksErr = sentence(msg.err)
		} else {
			in.jwks = msg.jwks
		}
		return in, nil
	case forgedSentMsg:
		in.sending = false
		_, path := in.target()
		in.status = msg.result(path, in.forged != "")
		return in, nil
	case tea.KeyPressMsg:
		if in.typing {
			return in.typed(msg)
		}
		return in.key(msg)
	}
	if in.typing {
		var cmd tea.Cmd
		in.input, cmd = in.input.Update(msg)
		return in, cmd
	}
	return in, nil
}

func (in inspectorModel) key(k tea.KeyPressMsg) (inspectorModel, tea.Cmd) {
	keys := in.c.keys
	switch {
	case key.Matches(k, keys.Back) && in.editing:
		in.editing = false
	case key.Matches(k, keys.Back), key.Matches(k, keys.Inspect):
		return in, show(screenDashboard)
	case key.Matches(k, keys.Tab):
		in = in.nextToken()
		in = in.reset()
		in.vp.GotoTop()
	case key.Matches(k, keys.Edit):
		if _, tok := in.token(); tok != "" {
			in.editing = true
			in.status = status{"info", "↑/↓ pick a claim, enter edits it; then S sends the forged token to the API."}
		}
	case key.Matches(k, keys.Undo) && in.forged != "":
		in = in.reset()
		in.status = status{"info", "Back to the token as the server signed it."}
	case key.Matches(k, keys.Send):
		return in.send()
	case key.Matches(k, keys.Copy):
		name, tok := in.token()
		var cmd tea.Cmd
		in.status, cmd = copyToken(name, tok)
		in.vp.SetHeight(in.vpHeight())
		return in, cmd
	case key.Matches(k, keys.Up):
		if in.editing {
			in.cursor = max(in.cursor-1, 0)
		} else {
			in.vp.ScrollUp(1)
		}
	case key.Matches(k, keys.Down):
		if in.editing {
			in.cursor = min(in.cursor+1, max(len(in.claimNames())-1, 0))
		} else {
			in.vp.ScrollDown(1)
		}
	case key.Matches(k, keys.Apply) && in.editing:
		names := in.claimNames()
		if in.cursor < len(names) {
			in.typing = true
			in.input.SetValue(in.claimText(names[in.cursor]))
			in.input.CursorEnd()
			in.status = status{}
			in.vp.SetHeight(in.vpHeight())
			return in, in.input.Focus()
		}
	}
	in.vp.SetHeight(in.vpHeight())
	return in, nil
}

// typed handles keys while a claim's value is being typed.
func (in inspectorModel) typed(k tea.KeyPressMsg) (inspectorModel, tea.Cmd) {
	keys := in.c.keys
	switch {
	case key.Matches(k, keys.Back):
		in.typing = false
		in.input.Blur()
	case key.Matches(k, keys.Apply):
		claim := in.claimNames()[in.cursor]
		_, tok := in.token()
		forged, err := forge(tok, claim, in.input.Value())
		if err != nil {
			in.status = status{"bad", sentence(err)}
			return in, nil
		}
		if in.edits == nil {
			in.edits = map[string]string{}
		}
		if _, seen := in.edits[claim]; !seen {
			in.edits[claim] = in.claimText(claim)
		}
		in.forged, in.typing = forged, false
		in.input.Blur()
		in.status = status{"warn", claim + " edited: the signature no longer matches the payload. Press S to send the forged token to the API, u to undo."}
	default:
		var cmd tea.Cmd
		in.input, cmd = in.input.Update(k)
		return in, cmd
	}
	in.vp.SetHeight(in.vpHeight())
	return in, nil
}

// target is the API URL a token is sent to, and its path.
func (in inspectorModel) target() (url, path string) {
	path = in.c.opts.Profile.Paths.Protected
	if path == "" {
		path = "/protected"
	}
	return in.server() + path, path
}

func (in inspectorModel) server() string {
	if in.c.opts.Embedded != nil {
		return in.c.opts.Embedded.URL
	}
	return in.c.opts.Server
}

// send sends the token in view (forged or not) to the protected route.
func (in inspectorModel) send() (inspectorModel, tea.Cmd) {
	_, tok := in.token()
	switch {
	case tok == "" || in.sending:
		return in, nil
	case in.showRefresh:
		in.status = status{"warn", "The API takes access tokens: press tab for the access token, then e to edit it."}
		return in, nil
	case in.showID:
		in.status = status{"warn", "An ID token tells the client who logged in; APIs take access tokens. Press tab for the access token."}
		return in, nil
	case in.c.opts.Profile.Transport == client.ViaCookie:
		in.status = status{"warn", "This profile sends tokens as cookies; the inspector sends a bearer token only."}
		return in, nil
	}
	in.sending = true
	url, path := in.target()
	in.status = status{"info", "Sending the token to " + path + "…"}
	return in, func() tea.Msg { return sendForgedMsg{url: url, token: tok} }
}

// sendForgedMsg asks the root to send a token (it knows where the
// server's event log stands).
type sendForgedMsg struct{ url, token string }

// token is the token in view and its name: the forged one once edited.
func (in inspectorModel) token() (which, tok string) {
	which, tok = "access token", in.session.AccessToken
	switch {
	case in.showRefresh:
		which, tok = "refresh token", in.session.RefreshToken
	case in.showID:
		which, tok = "ID token", in.session.IDToken
	}
	if in.forged != "" {
		return which + " (forged)", in.forged
	}
	return which, tok
}

// claimNames are the payload's claims in the order shown.
func (in inspectorModel) claimNames() []string {
	_, tok := in.token()
	d, err := client.Decode(tok)
	if err != nil {
		return nil
	}
	return orderedKeys(d.Claims)
}

// claimText is a claim's value as the editor shows it (JSON, strings bare).
func (in inspectorModel) claimText(name string) string {
	_, tok := in.token()
	d, err := client.Decode(tok)
	if err != nil {
		return ""
	}
	raw, _ := json.Marshal(d.Claims[name])
	return strings.Trim(string(raw), `"`)
}

func (in inspectorModel) view() string {
	s := in.c.styles
	which, tok := in.token()
	title := s.Title.Render("Token inspector") + s.Subtle.Render(" · "+which)
	if tok != "" { // the verdict stays in view however far the claims scroll
		check := in.checkSignature(tok, in.showRefresh)
		verdict := map[string]string{"✓": "✓ signature valid", "✗": "✗ signature invalid", "–": "signature not checked"}[check.mark]
		tone := map[string]func(...string) string{"good": s.Good.Render, "bad": s.Bad.Render}[check.tone]
		if tone == nil {
			tone = s.Subtle.Render
		}
		title = firstFit(in.c.width, title+s.Subtle.Render(" · ")+tone(verdict),
			s.Title.Render("Inspector")+s.Subtle.Render(" · "+which+" · ")+tone(verdict), title)
	}
	vp := in.vp
	vp.SetContent(in.inspect()) // times are relative to the lab's clock, which moves
	if in.editing {
		vp.SetYOffset(max(0, min(in.cursorLine()-2, vp.TotalLineCount()-vp.Height())))
	}
	k := in.c.keys
	var lines []string
	lines = append(lines, title, "", vp.View())
	if in.typing {
		name := in.claimNames()[in.cursor]
		lines = append(lines, s.Selected.Render("edit "+name+": ")+in.input.View())
	}
	if st := in.c.statusView(in.status); st != "" {
		lines = append(lines, st)
	}
	if in.sending {
		lines = append(lines, in.c.busyView("sending"))
	}
	var help []key.Binding
	switch {
	case in.typing:
		help = []key.Binding{named(k.Apply, "apply"), named(k.Back, "cancel")}
	case in.editing:
		help = []key.Binding{k.Up, k.Down, named(k.Apply, "edit"), named(k.Send, "send"), named(k.Undo, "undo"), k.Back}
	default:
		help = []key.Binding{k.Tab, named(k.Edit, "edit a claim"), named(k.Send, "send to API"), k.Down, k.Back}
	}
	lines = append(lines, in.c.footer(help))
	return strings.Join(lines, "\n")
}

// named is a binding with a shorter description, for a footer.
func named(b key.Binding, desc string) key.Binding { b.SetHelp(b.Help().Key, desc); return b }

// cursorLine is the line of the claim under the cursor in inspect's text.
func (in inspectorModel) cursorLine() int {
	for i, l := range strings.Split(ansi.Strip(in.inspect()), "\n") {
		if strings.HasPrefix(l, "› ") {
			return i
		}
	}
	return 0
}

// inspect lists a token's claims and header, each explained, its
// signature checked, and the encoded token.
func (in inspectorModel) inspect() string {
	s := in.c.styles
	_, tok := in.token()
	if in.showID && tok == "" {
		return in.idClaimsView()
	}
	if tok == "" {
		return s.Subtle.Render("No token yet: log in first.")
	}
	d, err := client.Decode(tok)
	if err != nil {
		return s.Error.Render(sentence(err))
	}
	times := map[string]string{}
	for _, t := range d.Times(in.c.now) {
		if t.Problem == "" {
			times[t.Claim] = t.At.UTC().Format("2006-01-02 15:04:05 UTC") + " (" + t.Relative + ")"
		}
	}
	width := max(in.vp.Width(), 30)
	var b strings.Builder
	const indent = "            "
	section := func(name string, style func(string) string, fields map[string]any, editable bool) {
		b.WriteString(style(name) + "\n")
		for i, k := range orderedKeys(fields) {
			val := times[k]
			if val == "" {
				raw, _ := json.Marshal(fields[k])
				val = termtext.Escape(strings.Trim(string(raw), `"`)) // the server chose it
			}
			lead := "  "
			if editable && in.editing && i == in.cursor {
				lead = "› "
			}
			b.WriteString(fmt.Sprintf("%s%s %s\n", lead, s.Selected.Render(fmt.Sprintf("%-9s", termtext.Escape(k))), s.Value.Render(truncate(val, width-12))))
			help := claimHelp[k]
			if old, ok := in.edits[k]; ok && editable {
				b.WriteString(indent + s.Warn.Render(truncate("✎ edited; the server signed "+termtext.Escape(old), width-len(indent))) + "\n")
			}
			if help != "" {
				for _, l := range strings.Split(ansi.Wordwrap(help, width-len(indent), ""), "\n") {
					b.WriteString(indent + s.Subtle.Render(l) + "\n")
				}
			}
		}
		b.WriteString("\n")
	}
	// What the token says first; how it is signed after.
	section("Payload (claims)", func(t string) string { return s.JWTPayload.Bold(true).Render(t) }, d.Claims, true)
	check := in.checkSignature(tok, in.showRefresh)
	tone := map[string]func(...string) string{"good": s.Good.Render, "bad": s.Bad.Render, "warn": s.Warn.Render}[check.tone]
	if tone == nil {
		tone = s.Info.Render
	}
	b.WriteString(s.JWTSignature.Bold(true).Render("Signature") + "\n")
	for i, l := range wrap(check.mark+" "+check.text, width-2) {
		if i > 0 {
			l = "  " + l
		}
		b.WriteString("  " + tone(l) + "\n")
	}
	for _, l := range wrap(signatureNote(d), width-2) {
		b.WriteString("  " + s.Subtle.Render(l) + "\n")
	}
	b.WriteString("\n")
	section("Header", func(t string) string { return s.JWTHeader.Bold(true).Render(t) }, d.Header, false)
	b.WriteString(s.Label.Render("Encoded") + s.Subtle.Render(" · ") + s.JWTHeader.Render("header") + s.Subtle.Render(".") +
		s.JWTPayload.Render("payload") + s.Subtle.Render(".") + s.JWTSignature.Render("signature") + "\n")
	b.WriteString(in.encoded(tok, width) + "\n")
	return b.String()
}

// encoded is the token as sent, each part in its colour, broken at the
// window's width (a token has no spaces to break at).
func (in inspectorModel) encoded(tok string, width int) string {
	s := in.c.styles
	styles := []func(...string) string{s.JWTHeader.Render, s.JWTPayload.Render, s.JWTSignature.Render}
	var lines []string
	line, n := "", 0
	part := 0
	for _, r := range tok {
		if n == width {
			lines = append(lines, line)
			line, n = "", 0
		}
		if r == '.' {
			line += s.Subtle.Render(".")
			part = min(part+1, 2)
		} else {
			line += styles[part](string(r))
		}
		n++
	}
	return strings.Join(append(lines, line), "\n")
}

// signatureNote says who can check the signature: with HS256 only the
// holder of the shared secret (the server); with a public-key algorithm
// anyone, with the key the server publishes.
func signatureNote(d client.Decoded) string {
	if strings.HasPrefix(d.Alg(), "HS") {
		return fmt.Sprintf("%d bytes: an HMAC (%s) made with a secret only the server holds, so it is checked by the server alone; there is no public key to publish.", len(d.Signature), d.Alg())
	}
	return fmt.Sprintf("%d bytes, signed with the server's %s private key; anyone can check it with the public key the server publishes (its JWKS).", len(d.Signature), d.Alg())
}

func orderedKeys(fields map[string]any) []string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		if i := slices.Index(claimOrder, k); i >= 0 {
			return i
		}
		return len(claimOrder)
	}
	sort.Slice(keys, func(i, j int) bool {
		if ri, rj := rank(keys[i]), rank(keys[j]); ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	return keys
}
