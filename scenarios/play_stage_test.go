package scenarios

import (
	"testing"

	"github.com/tokenlab/tokenlab/client"
)

// TestPlayStage: between steps a player reads the scenario's server (its
// URL and admin token), clock, the last client's session and the client
// events it has not seen yet.
func TestPlayStage(t *testing.T) {
	sc, err := Builtin("reuse-detection")
	if err != nil {
		t.Fatal(err)
	}
	play, skip, err := NewRunner().Start(t.Context(), sc)
	if err != nil || skip != "" {
		t.Fatalf("start: %v %s", err, skip)
	}
	defer play.Close()
	before := play.Stage(t.Context(), 0)
	if before.Server == "" || before.AdminToken == "" || before.Session.RefreshToken != "" || len(before.Events) != 0 {
		t.Fatalf("before the first step: %+v", before)
	}
	if r := play.Next(t.Context()); r.Status == Failed {
		t.Fatalf("login: %v", r.Failures)
	}
	st := play.Stage(t.Context(), 0)
	if st.Session.RefreshToken == "" || st.Now.IsZero() {
		t.Fatalf("after the login the stage holds no session: %+v", st)
	}
	logins := 0
	for _, e := range st.Events {
		if e.Event.Kind == client.EventLogin {
			logins++
		}
	}
	if logins != 1 {
		t.Errorf("the stage saw %d login events, want 1", logins)
	}
	if again := play.Stage(t.Context(), len(st.Events)); len(again.Events) != 0 {
		t.Errorf("events already seen came again: %d", len(again.Events))
	}
}
