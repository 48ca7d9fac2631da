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

// -j changes how long a run takes, not what it finds.
func TestParallelRunsGiveTheSameResults(t *testing.T) {
	scs := builtins(t)
	one := NewRunner().RunAll(t.Context(), scs, 1)
	four := NewRunner().RunAll(t.Context(), scs, 4)
	for i := range one {
		a, b := one[i], four[i]
		if a.Name != b.Name || a.Status != b.Status || len(a.Steps) != len(b.Steps) || a.SkippedChecks != b.SkippedChecks {
			t.Errorf("%s: -j 1 gave %s (%d steps), -j 4 gave %s (%d steps)", a.Name, a.Status, len(a.Steps), b.Status, len(b.Steps))
			continue
		}
		for j := range a.Steps {
			if a.Steps[j].Status != b.Steps[j].Status || a.Steps[j].Got.Status != b.Steps[j].Got.Status ||
				a.Steps[j].Got.Refreshes != b.Steps[j].Got.Refreshes || a.Steps[j].Got.Rotations != b.Steps[j].Got.Rotations {
				t.Errorf("%s step %d differs between -j 1 and -j 4: %+v / %+v", a.Name, j+1, a.Steps[j].Got, b.Steps[j].Got)
			}
		}
	}
}
