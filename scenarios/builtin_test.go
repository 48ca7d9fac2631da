package scenarios

import (
	"testing"

	"github.com/tokenlab/tokenlab/client"
)

// TestBuiltins runs every built-in scenario against its own embedded
// server, in each dialect the server speaks: each must pass, so `make
// test` proves what the scenarios teach.
func TestBuiltins(t *testing.T) {
	for _, profile := range []string{"tokenlab", "seed-cookie", "oauth2"} {
		for _, name := range BuiltinNames {
			t.Run(profile+"/"+name, func(t *testing.T) {
				t.Parallel()
				sc, err := Builtin(name)
				if err != nil {
					t.Fatal(err)
				}
				r := NewRunner()
				if r.Profile, err = client.ResolveProfile(profile); err != nil {
					t.Fatal(err)
				}
				res := r.Run(t.Context(), sc)
				for _, st := range res.Steps {
					t.Logf("%s %d %s: %s %v", st.Status, st.N, st.Kind, st.Summary, st.Failures)
				}
				if res.Status != Passed {
					t.Fatalf("%s %s: %s", name, res.Status, res.Reason)
				}
			})
		}
	}
}
