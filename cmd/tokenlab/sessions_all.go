package main

// status --all and logout --all: every session the index lists.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tokenlab/tokenlab/client"
)

// sessionRow is one session of status --all (and its --json output). It
// holds no token.
type sessionRow struct {
	Server           string    `json:"server"`
	Username         string    `json:"username"`
	Profile          string    `json:"profile"`
	Store            string    `json:"store"`
	StoreDescription string    `json:"storeDescription"`
	Current          bool      `json:"current"`
	AccessExpiresAt  time.Time `json:"accessExpiresAt,omitzero"`
	RefreshExpiresAt time.Time `json:"refreshExpiresAt,omitzero"`
	// Problem says why the session could not be read from its store
	// (no longer stored, keyring unreachable); empty when it was.
	Problem string `json:"problem,omitempty"`
}

// statusAllRun lists every session of the index, read from its store
// (the server is not contacted).
func statusAllRun(ctx context.Context, std streams, opts statusOptions) error {
	if err := refuseAllWithChoice(opts.session); err != nil {
		return err
	}
	ix, err := loadIndex()
	if err != nil {
		return err
	}
	rows := make([]sessionRow, 0, len(ix.Sessions))
	for _, e := range ix.Sessions {
		rows = append(rows, readRow(ctx, opts.session, ix, e))
	}
	if opts.json {
		return writeJSON(std.out, rows)
	}
	w := colorWriter(std, std.out)
	st := newAuthStyles()
	if len(rows) == 0 {
		fmt.Fprintln(w, "No sessions are stored; run tokenlab login.")
		return nil
	}
	now := opts.now()
	for i, r := range rows {
		if i > 0 {
			fmt.Fprintln(w)
		}
		head := st.title.Render(r.Username) + " at " + r.Server
		if r.Current {
			head += st.faint.Render(" (current session)")
		}
		fmt.Fprintln(w, head)
		lines := [][2]string{{"profile", r.Profile}, {"tokens kept in", r.StoreDescription}}
		if r.Problem != "" {
			lines = append(lines, [2]string{"problem", st.bad.Render(r.Problem)})
		} else {
			lines = append(lines, [2]string{"access token", expiryLine(st, r.AccessExpiresAt, now)},
				[2]string{"refresh token", expiryLine(st, r.RefreshExpiresAt, now)})
		}
		for _, l := range lines {
			fmt.Fprintln(w, "  "+st.key.Render(l[0])+l[1])
		}
	}
	return nil
}

// readRow reads one index entry's session from its store.
func readRow(ctx context.Context, o sessionOptions, ix *client.Index, e client.IndexEntry) sessionRow {
	r := sessionRow{Server: e.Server, Username: e.Username, Profile: e.Profile, Store: e.Store, Current: ix.Current == e.Key()}
	s, err := o.openEntry(ix, e, true)
	if err != nil {
		r.Problem = sentence(err.Error())
		return r
	}
	r.StoreDescription = s.where
	if fs, ok := s.store.(*client.FileStore); ok {
		r.StoreDescription = "plaintext file " + fs.Path(s.c.Key())
	}
	sess, err := s.c.Session(ctx)
	switch {
	case errors.Is(err, client.ErrLoginRequired):
		r.Problem = "no longer stored (logged out elsewhere?); tokenlab logout --all forgets it"
	case err != nil:
		r.Problem = sentence(explain(err).Error())
	default:
		r.AccessExpiresAt, r.RefreshExpiresAt = sess.AccessExpiry, sess.RefreshExpiry
	}
	return r
}

// logoutAllRun logs out every session of the index, one after another,
// and says how each went. A failed one does not stop the others.
func logoutAllRun(ctx context.Context, std streams, opts sessionOptions) error {
	if err := refuseAllWithChoice(opts); err != nil {
		return err
	}
	ix, err := loadIndex()
	if err != nil {
		return err
	}
	w := colorWriter(std, std.out)
	st := newAuthStyles()
	if len(ix.Sessions) == 0 {
		fmt.Fprintln(w, "No sessions are stored: nothing to log out.")
		return nil
	}
	failed := 0
	for _, e := range append([]client.IndexEntry(nil), ix.Sessions...) {
		who := st.title.Render(e.Username) + " at " + e.Server
		if err := logoutEntry(ctx, opts, ix, e); err != nil {
			failed++
			fmt.Fprintln(w, st.bad.Render("✗")+" "+who+": "+sentence(printableLines(err.Error())))
			continue
		}
		fmt.Fprintln(w, st.good.Render("✓")+" Logged out "+who)
	}
	if failed > 0 {
		return silentFailure{fmt.Sprintf("%d of %d sessions could not be logged out", failed, len(ix.Sessions))}
	}
	return nil
}

// logoutEntry logs one session out and drops it from the index once its
// local copy is gone (a session no longer stored is only forgotten).
func logoutEntry(ctx context.Context, o sessionOptions, ix *client.Index, e client.IndexEntry) error {
	s, err := o.openEntry(ix, e, true)
	if err != nil {
		return err
	}
	err = s.c.Logout(ctx)
	if errors.Is(err, client.ErrLoginRequired) {
		return s.forgetEntry(ctx) // not stored any more: nothing to revoke
	}
	if _, lerr := s.store.Load(ctx, s.c.Key()); errors.Is(lerr, client.ErrNoSession) {
		if ferr := s.forgetEntry(ctx); ferr != nil {
			err = errors.Join(err, fmt.Errorf("the session index could not be updated: %w", ferr))
		}
	}
	if err != nil {
		return explain(err)
	}
	return nil
}

// refuseAllWithChoice: --all names every session, so the flags that
// choose one make no sense beside it.
func refuseAllWithChoice(o sessionOptions) error {
	if o.server != "" || o.username != "" {
		return usagef("--all takes every session: drop --server and --username")
	}
	return nil
}
