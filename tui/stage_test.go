package tui

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/scenarios"
)

// stageFamily reads the playing scenario's family from its own server,
// the way any admin client would: what the stage must agree with.
func stageFamily(t *testing.T, l *lab) familyView {
	t.Helper()
	st := l.m.player.play.Stage(t.Context(), 0)
	fid := familyOf(st.Session.RefreshToken)
	if fid == "" {
		fid = l.m.player.stage.fid
	}
	fam, err := newAdminAPI(st.Server, st.AdminToken).family(t.Context(), fid)
	if err != nil {
		t.Fatal(err)
	}
	return fam
}

// wantCardsOn fails unless the card titles on screen show these states
// ("" for any).
func (l *lab) wantCardsOn(access, refresh string) {
	l.tb.Helper()
	if access == "" {
		access = `[A-Z]+`
	}
	titles := l.cardTitles()
	if !regexp.MustCompile(`ACCESS TOKEN\s+` + access + `\b.*REFRESH TOKEN\s+` + refresh + `\b`).MatchString(titles) {
		l.tb.Errorf("card titles %q, want ACCESS TOKEN %s and REFRESH TOKEN %s", titles, access, refresh)
	}
}

// TestPlayerDrivesTheStage: playing a scenario moves the cards, the
// timeline and the family of the scenario's own server, with the step's
// narration above them, and pauses at each step of R.
func TestPlayerDrivesTheStage(t *testing.T) {
	sc, err := scenarios.Builtin("reuse-detection")
	if err != nil {
		t.Fatal(err)
	}
	l := newLab(t, pinnedRunner)
	l.login()
	l.key("s", "down", "down", "down")
	l.wantView("› reuse-detection")
	l.key("enter")
	if l.m.player.play == nil {
		t.Fatalf("no play started; status %q", l.m.statusText())
	}
	l.wantView("reuse-detection · step 0 of 7", "A refresh token is copied", "no token yet", "family: none yet")

	l.key("n") // login
	l.wantView("log in as alice → 200", sc.Steps[0].Say, "sub 1 · alice")
	l.wantCardsOn(StateValid, StateValid)
	fam := stageFamily(t, l)
	if fam.State != "active" || fam.TokenCount != 1 {
		t.Fatalf("the scenario's server says family %s with %d tokens", fam.State, fam.TokenCount)
	}
	l.wantView("family "+short(fam.ID)+" alice · 1 token · active  ●",
		"server   login", "A new family of refresh tokens started")

	l.key("n", "n") // save, refresh: the copy is spent
	l.wantView(sc.Steps[2].Say, "server   rotation", "○→●")
	if fam := stageFamily(t, l); fam.TokenCount != 2 {
		t.Fatalf("the server holds %d tokens after the refresh, want 2", fam.TokenCount)
	}

	l.key("R") // the replay, then a pause: the next step waits for its moment
	if len(l.m.player.results) != 4 {
		t.Fatalf("R ran %d steps before its first pause, want 4", len(l.m.player.results))
	}
	if !strings.Contains(flat(l.view()), flat(sc.Steps[3].Say)) {
		t.Errorf("the replay's narration is not above the cards:\n%s", l.view())
	}
	l.wantView("server   reuse_detected", "server   family_revoked", "revoked (reuse_detected)")
	l.wantCardsOn("", StateRevoked)
	if fam := stageFamily(t, l); fam.State != "revoked" || fam.RevokeReason != "reuse_detected" {
		t.Fatalf("the server says %s (%s); the stage says revoked (reuse_detected)", fam.State, fam.RevokeReason)
	}
	l.wantSentence("Step 4 of 7 done")
	for !l.m.player.play.Done() {
		l.send(stagePauseMsg{play: l.m.player.play})
	}
	l.wantSentence("All 7 steps passed")
	l.wantView("GET /protected → 200", "· 1 token · active")
	l.wantCardsOn(StateValid, StateValid)

	// The text-only player stays as a view.
	l.key("v")
	l.wantView("✓  7 GET /protected → 200")
	if regexp.MustCompile(`ACCESS TOKEN`).MatchString(l.view()) {
		t.Error("v should show the steps as text, without the cards")
	}
	l.key("v")
	if !strings.Contains(l.view(), "ACCESS TOKEN") {
		t.Error("v again should bring the scenario's dashboard back")
	}
}

// TestStageFamilyGraph: g on a playing scenario draws its family whole,
// from the scenario server's records: the replayed token marked.
func TestStageFamilyGraph(t *testing.T) {
	l := newLab(t, pinnedRunner)
	l.login()
	l.key("s", "down", "down", "down", "enter", "n", "n", "n", "n", "g")
	fam := stageFamily(t, l)
	l.wantView("REVOKED", "(reuse_detected)", "▲ REPLAYED at", "(login)", "│ rotated")
	if fam.State != "revoked" || len(fam.Tokens) != 2 {
		t.Fatalf("the server holds family %s with %d tokens", fam.State, len(fam.Tokens))
	}
	l.wantFits("stage graph")
	l.key("g")
	l.wantView("ACCESS TOKEN")
}
