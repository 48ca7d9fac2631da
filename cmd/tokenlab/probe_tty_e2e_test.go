package main

// `tokenlab probe` on a real terminal (tmux): it asks before it starts,
// sends nothing when the answer is no, and shows a progress line while it
// waits.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProbeE2ETerminal(t *testing.T) {
	t.Parallel()
	needTmux(t)
	bin := tokenlabBinary(t)
	p := startServe(t, "--clock", "real", "--reuse-grace", "3s")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("password123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	argv := []string{bin, "probe", p.banner.URL, "--username", "alice", "--password-file", "pw", "--max-wait", "5s"}
	env := tuiEnv(t, t.TempDir())

	no := newTmuxTerm(t, env)
	no.start(dir, argv...)
	no.wait("the question", `revokes that user's sessions`, `Continue\? \[y/N\]`)
	no.typeText("n")
	no.keys("Enter")
	if code := no.exitStatus(); code != "2" {
		t.Fatalf("answered no: exit %s\n%s", code, indent(no.screen()))
	}
	no.wait("the refusal", `nothing was sent`)
	for _, e := range p.client(t).events() {
		if e.Kind == "login" {
			t.Fatalf("a login happened after the answer no: %+v", e)
		}
	}

	yes := newTmuxTerm(t, env)
	yes.start(dir, argv...)
	yes.wait("the question", `Continue\? \[y/N\]`)
	yes.typeText("y")
	yes.keys("Enter")
	yes.wait("the progress line", `grace window: replay R1 \d+\.\d s after the rotation`)
	screen := yes.wait("the table", `closest preset`, `accepted_within_grace`, `grace_window_s`)
	if code := yes.exitStatus(); code != "0" {
		t.Fatalf("exit %s\n%s", code, indent(screen))
	}
	if strings.Contains(yes.screen(), "grace window: replay") {
		t.Errorf("the progress line is still on the screen:\n%s", indent(yes.lastScreen))
	}
	logins := 0
	for _, e := range p.client(t).events() {
		if e.Kind == "login" {
			logins++
		}
	}
	if logins != 4 { // the check after the answer no counts the same events
		t.Errorf("%d logins after the answer yes, want the 4 chains'", logins)
	}
}
