package tui

import (
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/internal/termtext"
)

// Token states shown on the cards.
const (
	StateValid    = "VALID"
	StateExpiring = "EXPIRING"
	StateExpired  = "EXPIRED"
	StateRotated  = "ROTATED"
	StateRevoked  = "REVOKED"
	StateNone     = "NONE"
	// StateUnknown: the session ended and the API's policy cannot be read
	// (another API): only it knows whether the access token still works.
	StateUnknown = "UNKNOWN"
)

const cardHeight = 8 // 6 lines and the border

func (d dashboardModel) accessState() string {
	ended := d.ended != endNone && d.ended != endExpired
	if ended && d.policy.accessDenylist {
		return StateRevoked // the API checks the session on every call
	}
	if state := tokenState(d.session.AccessToken, d.c.now, false, false, time.Minute); ended && !d.policy.known && state != StateExpired {
		return StateUnknown // stateless or denylist: the lab cannot tell
	}
	// Otherwise a JWT access token is stateless: the API checks its
	// signature, exp, nbf, iss, aud and typ with no database, so it lives on
	// after the session ends.
	return tokenState(d.session.AccessToken, d.c.now, false, false, time.Minute)
}

func (d dashboardModel) refreshState() string {
	switch {
	case d.ended == endExpired:
		return StateExpired
	case d.ended != endNone:
		return StateRevoked
	}
	return tokenState(d.session.RefreshToken, d.c.now, false, d.prevRefresh != "", time.Hour)
}

// accessFate says, once the session ended, what the API will do with the
// access token still in hand; "" while the session lives.
func (d dashboardModel) accessFate() string {
	exp := expiry(d.session.AccessToken)
	switch {
	case d.ended == endNone || d.session.AccessToken == "":
		return ""
	case !exp.IsZero() && !d.c.now.Before(exp):
		return "refused: past its exp"
	case d.ended != endExpired && d.policy.accessDenylist:
		return "refused (denylist)"
	case d.policy.known:
		return "still accepted until exp (stateless)"
	}
	return "may be accepted until exp (stateless APIs do) or refused (with a denylist)"
}

// tokenState judges a token at now. soon is how close to exp counts as
// expiring.
func tokenState(tok string, now time.Time, revoked, rotated bool, soon time.Duration) string {
	if tok == "" {
		return StateNone
	}
	if revoked {
		return StateRevoked
	}
	exp := expiry(tok)
	switch {
	case !exp.IsZero() && !now.Before(exp):
		return StateExpired
	case !exp.IsZero() && exp.Sub(now) <= soon:
		return StateExpiring
	case rotated:
		return StateRotated
	}
	return StateValid
}

func expiry(tok string) time.Time {
	d, err := client.Decode(tok)
	if err != nil {
		return time.Time{}
	}
	return d.Expiry()
}

// card renders one token: claims, a lifetime bar and where it is kept.
// note, when set, is the card's last line: what the API will do with it.
func (d dashboardModel) card(title, tok, state, note string, width int) string {
	s := d.c.styles
	inner := max(width-4, 10)
	lines := []string{s.Title.Render(title) + "  " + s.Badge(state)}
	dec, err := client.Decode(tok)
	if tok == "" || err != nil {
		hint := "no token: press L to log in"
		if d.onStage {
			hint = "no token yet"
		}
		lines = append(lines, s.Subtle.Render(hint))
	} else {
		lines = append(lines, d.cardClaims(dec, state == StateRevoked, inner)...)
	}
	if note != "" { // after the session: what the API does replaces how it is kept
		lines = lines[:min(len(lines), cardHeight-4)]
		for _, l := range strings.Split(ansi.Wordwrap(note, inner, ""), "\n") {
			lines = append(lines, s.Warn.Render(l))
		}
	}
	for len(lines) < cardHeight-2 {
		lines = append(lines, "")
	}
	box := s.Card
	if state == StateExpired || state == StateRevoked {
		box = box.BorderForeground(lipgloss.NoColor{})
	}
	for i, l := range lines {
		lines[i] = truncate(l, inner)
	}
	return box.Width(width).Render(strings.Join(lines[:cardHeight-2], "\n"))
}

// revoked empties the bar: a revoked token's exp no longer matters.
func (d dashboardModel) cardClaims(tok client.Decoded, revoked bool, inner int) []string {
	s := d.c.styles
	// The server chose every claim: escaped before it reaches the terminal.
	str := func(k string) string { v, _ := tok.Claims[k].(string); return termtext.Escape(v) }
	var iat, exp time.Time
	for _, t := range tok.Times(d.c.now) {
		switch t.Claim {
		case "iat":
			iat = t.At
		case "exp":
			exp = t.At
		}
	}
	who := "sub " + str("sub")
	if u := str("username"); u != "" {
		who += " · " + u
	}
	family := ""
	if f := str("fid"); f != "" {
		family = " · family " + short(f)
	}
	jti := " · jti " + short(str("jti"))
	store, storeShort := d.whereKept()
	left := "—"
	switch {
	case revoked:
		left = "revoked"
	case !exp.IsZero():
		left = "expired " + client.HumanDuration(d.c.now.Sub(exp)) + " ago"
		if d.c.now.Before(exp) {
			left = client.HumanDuration(exp.Sub(d.c.now)) + " left"
		}
	}
	return []string{
		firstFit(inner, s.Label.Render(who+family)+s.Subtle.Render(jti), s.Label.Render(who+family), s.Label.Render(who)),
		d.cardTimes(iat, exp, inner),
		d.bar(iat, exp, revoked, inner-lipgloss.Width(left)-1) + " " + s.Value.Render(left),
		firstFit(inner, s.Subtle.Render(termtext.Escape(tok.Typ()+" · "+tok.Alg())+" · "+store), s.Subtle.Render(store), s.Subtle.Render(storeShort)),
	}
}

// firstFit is the first of the lines, richest first, that fits width; the
// last one, cut, when none does. Cards drop details rather than cut words.
func firstFit(width int, lines ...string) string {
	for _, l := range lines {
		if lipgloss.Width(l) <= width {
			return l
		}
	}
	return truncate(lines[len(lines)-1], width)
}

// cardTimes shows when a token was issued and when it expires; when both
// do not fit, the expiry alone, never cut.
func (d dashboardModel) cardTimes(iat, exp time.Time, inner int) string {
	s := d.c.styles
	expires := s.Label.Render("expires ") + s.Value.Render(d.c.stamp(exp))
	if both := s.Label.Render("issued ") + s.Value.Render(d.c.stamp(iat)) + "  " + expires; lipgloss.Width(both) <= inner {
		return both
	}
	return expires
}

// bar drains from full at iat to empty at exp.
func (d dashboardModel) bar(iat, exp time.Time, revoked bool, width int) string {
	width = max(width, 4)
	frac := 0.0
	if total := exp.Sub(iat); total > 0 && d.c.now.Before(exp) && !revoked {
		frac = float64(exp.Sub(d.c.now)) / float64(total)
	}
	full := int(frac*float64(width) + 0.5)
	full = min(max(full, 0), width)
	return d.c.styles.BarFull.Render(strings.Repeat("█", full)) + d.c.styles.BarEmpty.Render(strings.Repeat("░", width-full))
}

// stamp shows a time briefly in the learner's zone: the clock time
// today, the date otherwise.
func (c *common) stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t, now := t.In(c.opts.Location), c.now.In(c.opts.Location)
	if t.Format("2006-01-02") == now.Format("2006-01-02") {
		return t.Format("15:04:05")
	}
	return t.Format("Jan 02 15:04")
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}
