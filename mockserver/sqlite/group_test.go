package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// TestBatchFailureUndoesOnlyItsOwnWork: three refreshes committed in one
// batch; the middle one fails after marking its token used. Its savepoint
// is rolled back (its token stays unused, no successor), and the other
// two are committed with their successors.
func TestBatchFailureUndoesOnlyItsOwnWork(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	chains := []*chain{newChain(t, db, 24*time.Hour), newChain(t, db, 24*time.Hour), newChain(t, db, 24*time.Hour)}
	now := t0.Add(time.Minute)
	mintFails := errors.New("signing failed")
	batch := make([]*writeRequest, len(chains))
	outs := make([]auth.Redeemed, len(chains))
	for i, c := range chains {
		req := auth.RedeemRequest{JTI: c.fam.ID + "-t0", Now: now, Rotate: true, DetectReuse: true,
			Mint: func(f auth.Family) (auth.RefreshToken, error) {
				if i == 1 {
					return auth.RefreshToken{}, mintFails
				}
				j := f.ID + "-t1"
				return auth.RefreshToken{JTI: j, Hash: hash(j), IssuedAt: now, ExpiresAt: now.Add(time.Hour)}, nil
			}}
		batch[i] = &writeRequest{ctx: t.Context(), done: make(chan error, 1), fn: func(tx wtx) error {
			var err error
			outs[i], err = redeem(tx, req)
			return err
		}}
	}
	db.runBatch(batch) // one transaction, as the writer would run them
	for i, req := range batch {
		err := <-req.done
		if (i == 1) != errors.Is(err, mintFails) {
			t.Errorf("request %d: %v", i, err)
		}
	}
	for i, c := range chains {
		sessions, err := allSessions(t.Context(), db)
		if err != nil {
			t.Fatal(err)
		}
		var tokens []auth.RefreshToken
		for _, s := range sessions {
			if s.Family.ID == c.fam.ID {
				tokens = s.Tokens
			}
		}
		if i == 1 {
			if len(tokens) != 1 || !tokens[0].UsedAt.IsZero() {
				t.Errorf("the failed refresh left %+v; want its token alone and unused", tokens)
			}
			continue
		}
		if len(tokens) != 2 || tokens[1].UsedAt.IsZero() {
			t.Errorf("chain %d: %+v; want the used login token and its successor", i, tokens)
		}
	}
	// The failed token can still be redeemed: nothing of its attempt stayed.
	if _, err := chains[1].redeem(t, chains[1].fam.ID+"-t0", now, 0); err != nil {
		t.Fatalf("redeem after the failed attempt: %v", err)
	}
}

// TestGroupCommitConcurrentChains: 32 clients rotate their own chains at
// once; every refresh is answered with its own successor and the store
// holds exactly the chains the clients were handed.
func TestGroupCommitConcurrentChains(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const clients, rounds = 32, 20
	chains := make([]*chain, clients)
	for i := range chains {
		chains[i] = newChain(t, db, 24*time.Hour)
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for _, c := range chains {
		wg.Go(func() {
			cur := c.fam.ID + "-t0"
			for n := 1; n <= rounds; n++ {
				next := fmt.Sprintf("%s-t%d", c.fam.ID, n)
				r, err := db.Redeem(context.Background(), auth.RedeemRequest{JTI: cur, Now: t0, Rotate: true, DetectReuse: true,
					Mint: func(auth.Family) (auth.RefreshToken, error) {
						return auth.RefreshToken{JTI: next, Hash: hash(next), IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)}, nil
					}})
				if err != nil || r.Successor.JTI != next {
					errs <- fmt.Errorf("%s: %+v %v", cur, r.Successor, err)
					return
				}
				cur = next
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	sessions, err := allSessions(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		if len(s.Tokens) != rounds+1 || s.Family.Revoked() {
			t.Errorf("family %s: %d tokens, revoked %v", s.Family.ID, len(s.Tokens), s.Family.Revoked())
		}
	}
}

// TestGraceReplaysShareOneSuccessor (token rule 7, in the store): 100
// replays inside the grace window get the same successor back; the family
// keeps two tokens, not 101.
func TestGraceReplaysShareOneSuccessor(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := newChain(t, db, 24*time.Hour)
	first := c.fam.ID + "-t0"
	r, err := c.redeem(t, first, t0, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		var resigned string
		again, err := db.Redeem(t.Context(), auth.RedeemRequest{JTI: first, Now: t0.Add(5 * time.Second), Rotate: true, DetectReuse: true,
			Grace: 10 * time.Second,
			Mint: func(auth.Family) (auth.RefreshToken, error) {
				t.Fatal("a grace replay must not mint a new successor")
				return auth.RefreshToken{}, nil
			},
			Resign: func(_ auth.Family, s auth.RefreshToken) error { resigned = s.JTI; return nil }})
		if err != nil || !again.Grace || again.Successor.JTI != r.Successor.JTI || resigned != r.Successor.JTI {
			t.Fatalf("grace replay: %+v %v (resigned %q)", again, err, resigned)
		}
	}
	sessions, err := allSessions(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		if s.Family.ID == c.fam.ID && len(s.Tokens) != 2 {
			t.Fatalf("family holds %d tokens after 100 grace replays, want 2", len(s.Tokens))
		}
	}
}
