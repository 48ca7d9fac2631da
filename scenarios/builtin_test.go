package scenarios

import (
	"testing"
)

// TestBuiltins runs every built-in scenario against its own embedded
// server: each must pass, so `make test` proves what the scenarios teach.
func TestBuiltins(t *testing.T) {
	for _, name := range BuiltinNames {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc, err := Builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			res := NewRunner().Run(t.Context(), sc)
			for _, st := range res.Steps {
				t.Logf("%s %d %s: %s %v", st.Status, st.N, st.Kind, st.Summary, st.Failures)
			}
			if res.Status != Passed {
				t.Fatalf("%s %s: %s", name, res.Status, res.Reason)
			}
		})
	}
}
