package tui

import (
	"context"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/tokenlab/tokenlab/client"
)

// kept is where the session's tokens are now, as last read from the store:
// the refresh card says it, and after a logout or a revoked family the
// client has forgotten them, so "kept in OS keyring" would be false.
type kept int

const (
	keptInStore  kept = iota // saved by the login or the last exchange
	keptChecking             // the session ended: the store is being read
	keptGone                 // the store holds no session for this key
	keptUnknown              // the store could not be read
)

// storeCheckedMsg says whether the store still holds the session.
type storeCheckedMsg struct {
	key string
	at  kept
}

// storeCheckCmd reads the store for key, bounded as every keyring call is.
func storeCheckCmd(ctx context.Context, st client.Store, key string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := st.Load(ctx, key)
		switch {
		case err == nil:
			return storeCheckedMsg{key, keptInStore}
		case errors.Is(err, client.ErrNoSession):
			return storeCheckedMsg{key, keptGone}
		}
		return storeCheckedMsg{key, keptUnknown}
	}
}

// checkStore reads the store once the session ended; nil otherwise.
func (d dashboardModel) checkStore() tea.Cmd {
	if d.kept != keptChecking || d.client == nil {
		return nil
	}
	return storeCheckCmd(d.c.ctx, d.c.opts.Store, d.client.Key())
}

// storeChecked takes the store's answer, if it is about this session.
func (d dashboardModel) storeChecked(msg storeCheckedMsg) dashboardModel {
	if d.client != nil && msg.key == d.client.Key() && d.ended != endNone {
		d.kept = msg.at
	}
	return d
}

// whereKept is the card's words for where its token is now, and a
// shorter form for a narrow card.
func (d dashboardModel) whereKept() (string, string) {
	name := client.StoreName(d.c.opts.Store)
	switch d.kept {
	case keptChecking:
		return "reading " + name + "…", "reading…"
	case keptGone:
		return "forgotten: no longer in " + name, "forgotten"
	case keptUnknown:
		return name + " could not be read", "store unreadable"
	}
	return "kept in " + name, "kept in " + name
}
