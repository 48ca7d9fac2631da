// Package termtext makes untrusted text safe to show on a terminal: what
// servers, tokens and files say reaches tokenlab's output (claims in the
// TUI, an answer's status line and headers, --json bodies, error
// messages), and a terminal obeys control characters. One rule for every
// place that shows such text:
//
//   - C0 controls (U+0000–U+001F, with ESC), DEL and the C1 controls
//     (U+0080–U+009F, with U+009B, the one-byte CSI) start escape
//     sequences that can move the cursor, rewrite lines or set a title;
//   - the bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E,
//     U+2066–U+2069) reorder what is shown, so a name reads as another;
//   - invalid UTF-8 is shown as what it is.
//
// Each is shown as a visible \uXXXX escape instead.
//
// It imports nothing of tokenlab's, so the client side (client, the
// command line, the TUI) and anything else may use it.
package termtext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Unsafe reports whether r must not reach a terminal as it is.
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f, r == utf8.RuneError:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// Escape returns s with every unsafe character as a \uXXXX escape (a
// byte of invalid UTF-8 as \ufffd). Safe text is returned as it is.
func Escape(s string) string {
	if !strings.ContainsFunc(s, Unsafe) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if Unsafe(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Lines escapes each line of s and keeps the line breaks.
func Lines(s string) string {
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		lines[i] = Escape(line)
	}
	return strings.Join(lines, "\n")
}

// JSON escapes the unsafe characters of an encoded JSON text as JSON's
// own \uXXXX escapes, so the result is the same JSON value and safe on a
// terminal. encoding/json already escapes C0 controls, but lets DEL, the
// C1 controls and the bidi controls through as they are. Outside strings
// valid JSON has only ASCII structure and white space, so every unsafe
// character found is inside a string, where \uXXXX means the same.
func JSON(b []byte) []byte {
	if !strings.ContainsFunc(string(b), jsonUnsafe) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if jsonUnsafe(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// jsonUnsafe is Unsafe without the white space that JSON's structure
// uses (tab, line feed, carriage return): inside strings those are
// escaped by every encoder, so a raw one is structure.
func jsonUnsafe(r rune) bool {
	return r != '\t' && r != '\n' && r != '\r' && Unsafe(r)
}
