package termtext

import (
	"encoding/json"
	"testing"
)

func TestEscape(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"plain", "alice", "alice"},
		{"unicode letters stay", "zoë 東京", "zoë 東京"},
		{"ESC", "a\x1b[2Jb", `a\u001b[2Jb`},
		{"C1 CSI", "a\u009b2Jb", `a\u009b2Jb`},
		{"DEL", "a\x7fb", `a\u007fb`},
		{"bidi override", "evil\u202egnp.exe", `evil\u202egnp.exe`},
		{"bidi isolate", "\u2066x\u2069", `\u2066x\u2069`},
		{"arabic letter mark", "\u061c", `\u061c`},
		{"invalid UTF-8", "a\xffb", `a\ufffdb`},
		{"new line", "a\nb", `a\u000ab`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Escape(tt.in); got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if got := Lines("a\x1b\nb\u202e"); got != "a\\u001b\nb\\u202e" {
		t.Errorf("Lines = %q", got)
	}
}

// TestJSON: the escaped JSON is the same value, and holds no unsafe
// character.
func TestJSON(t *testing.T) {
	in := map[string]any{"name": "a\u009bb\u202ec\x7f", "n": 1, "nested": []any{"\u2066"}}
	enc, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got := JSON(enc)
	for _, r := range string(got) {
		if jsonUnsafe(r) {
			t.Fatalf("JSON left %U in %s", r, got)
		}
	}
	var back map[string]any
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("not JSON any more: %v\n%s", err, got)
	}
	if back["name"] != in["name"] || back["nested"].([]any)[0] != "\u2066" {
		t.Errorf("the value changed: %v", back)
	}
}
