package scenarios

import "testing"

// BenchmarkBuiltins runs every built-in, each on its own embedded server,
// one after another (the docs report the number; no test asserts time).
func BenchmarkBuiltins(b *testing.B) {
	scs := builtins(b)
	r := NewRunner()
	for b.Loop() {
		for _, res := range r.RunAll(b.Context(), scs, 1) {
			if res.Status != Passed {
				b.Fatalf("%s %s: %s", res.Name, res.Status, res.Reason)
			}
		}
	}
}

// BenchmarkBuiltinsParallel is the same with -j 4.
func BenchmarkBuiltinsParallel(b *testing.B) {
	scs := builtins(b)
	r := NewRunner()
	for b.Loop() {
		for _, res := range r.RunAll(b.Context(), scs, 4) {
			if res.Status != Passed {
				b.Fatalf("%s %s: %s", res.Name, res.Status, res.Reason)
			}
		}
	}
}
