package scenarios

import (
	"encoding/json"
	"testing"
)

func TestSameValue(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want any
		same      bool
	}{
		{"number as written vs YAML int", json.Number("1"), 1, true},
		{"number as written vs YAML float", json.Number("1.5"), 1.5, true},
		{"different numbers", json.Number("2"), 1, false},
		{"string", "alice", "alice", true},
		{"other string", "mallory", "alice", false},
		{"aud list holds it", []any{"tokenlab", "other"}, "tokenlab", true},
		{"aud list lacks it", []any{"other"}, "tokenlab", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameValue(tc.got, tc.want); got != tc.same {
				t.Fatalf("sameValue(%v, %v) = %v, want %v", tc.got, tc.want, got, tc.same)
			}
		})
	}
}
