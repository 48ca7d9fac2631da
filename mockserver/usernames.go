package mockserver

import (
	"unicode"

	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// Usernames are taken roughly as PRECIS (RFC 8265) takes them: a name in
// the FreeformClass (spaces and punctuation inside a name were accepted
// before, so they still are) with fullwidth forms folded to their usual
// width, in NFC, passing the Bidi Rule (RFC 5893), case kept (names were
// case-sensitive before). Before, /register stored bidi overrides,
// zero-width characters and unnormalised forms, so two accounts could look
// the same on screen, or one could reorder the text shown around it.
var usernameProfile = precis.NewFreeform(precis.FoldWidth, precis.Norm(norm.NFC), precis.BidiRule, precis.DisallowEmpty)

// canonicalUsername returns the form of name that is stored and looked
// up, or an error naming what is wrong with it.
func canonicalUsername(name string) (string, error) {
	for i, r := range name {
		if why := invisibleKind(r); why != "" {
			return "", badRequest("username must not contain %U (%s): such characters hide or reorder what a screen shows", r, why)
		}
		if i == 0 && unicode.Is(unicode.M, r) {
			return "", badRequest("username must not begin with a combining mark (%U)", r)
		}
	}
	out, err := usernameProfile.String(name)
	if err != nil {
		return "", badRequest("username must be letters, digits, punctuation, symbols and inner spaces, in one writing direction (PRECIS, RFC 8265): %v", err)
	}
	if out != name && len([]rune(out)) > maxUsernameRunes {
		return "", badRequest("username must be at most %d characters once normalised", maxUsernameRunes)
	}
	return out, nil
}

// invisibleKind names the class of a character that shows nothing of its
// own, or "" for others.
func invisibleKind(r rune) string {
	switch {
	case unicode.Is(unicode.Cc, r):
		return "a control character"
	case unicode.Is(unicode.Cf, r):
		return "a format character, such as a bidi control or a zero-width character"
	case unicode.Is(unicode.Co, r):
		return "a private-use character"
	case unicode.Is(unicode.Cs, r) || r == unicode.ReplacementChar:
		return "not a character"
	}
	return ""
}

// lookupUsername is the name to look a login up by: the canonical form,
// or the name as typed when it has none (it then matches no account made
// since names were normalised, and fails as an unknown user does).
func lookupUsername(name string) string {
	if out, err := canonicalUsername(name); err == nil {
		return out
	}
	return name
}
