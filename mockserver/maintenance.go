package mockserver

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// Defaults of the bounds on the database.
const (
	DefaultEventsMax = 100000
	DefaultRetention = 7 * 24 * time.Hour
)

// coalesceWindow: identical rejections this close together share a row.
const coalesceWindow = time.Second

// Intervals of the background pruning, in real time.
const (
	pruneTick      = 10 * time.Second
	retentionEvery = time.Minute
)

// maintenance prunes the event log and ended families in the background,
// a chunk per transaction, so writers are never held up for long.
type maintenance struct {
	kick          chan struct{} // a non-blocking nudge after many writes
	writes        atomic.Int64  // since the last nudge
	kickEvery     int64
	stop          context.CancelFunc
	done          chan struct{}
	closeOnce     sync.Once
	lastRetention atomic.Int64 // Unix nanoseconds of real time
}

// startMaintenance runs the pruner until ctx ends or Close is called.
func (s *Server) startMaintenance(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	s.maint = &maintenance{kick: make(chan struct{}, 1), kickEvery: min(max(int64(s.cfg.EventsMax/10), 1), 1000),
		stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.maint.done)
		tick := time.NewTicker(pruneTick)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.maint.kick:
			case <-tick.C:
			}
			s.prune(ctx)
		}
	}()
}

// Close stops the background pruning and waits for it; the database stays
// open (it belongs to the caller).
func (s *Server) Close() error {
	s.maint.closeOnce.Do(func() {
		s.maint.stop()
		<-s.maint.done
	})
	return nil
}

// wrote notes n event rows written and nudges the pruner every so often.
func (s *Server) wrote(n int64) {
	if s.maint.writes.Add(n) < s.maint.kickEvery {
		return
	}
	s.maint.writes.Store(0)
	select {
	case s.maint.kick <- struct{}{}:
	default:
	}
}

// prune keeps the event log at its cap and, once a minute, prunes ended
// families.
func (s *Server) prune(ctx context.Context) {
	if n, err := s.db.PruneEvents(ctx, s.cfg.EventsMax); err != nil && ctx.Err() == nil {
		s.log.Warn("could not prune events", "err", err)
	} else if n > 0 {
		s.log.Debug("pruned events", "rows", n)
	}
	last := s.maint.lastRetention.Load()
	if time.Since(time.Unix(0, last)) < retentionEvery || !s.maint.lastRetention.CompareAndSwap(last, time.Now().UnixNano()) {
		return
	}
	s.pruneEnded(ctx)
}

// pruneEnded deletes the families that ended more than the retention
// period ago by the server's clock, so a test can move past it.
func (s *Server) pruneEnded(ctx context.Context) {
	cutoff := s.clock.Now().Add(-s.cfg.Retention)
	if n, err := s.db.PruneEndedFamilies(ctx, cutoff); err != nil && ctx.Err() == nil {
		s.log.Warn("could not prune ended sessions", "err", err)
	} else if n > 0 {
		s.log.Info("pruned ended sessions", "families", n, "endedBefore", cutoff)
	}
}

// isRejection reports the event kinds a client can produce at will, which
// are coalesced.
func isRejection(kind string) bool {
	switch kind {
	case auth.EventAccessRejected, auth.EventRefreshRejected, auth.EventLoginFailed, auth.EventClientAuthFailed:
		return true
	}
	return false
}
