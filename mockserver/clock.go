package mockserver

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Clock modes.
const (
	ClockReal   = "real"   // wall time; cannot be moved
	ClockOffset = "offset" // wall time plus the sum of every move
	ClockFrozen = "frozen" // stands still until moved
)

// ErrClockFixed is returned when a real clock is asked to move.
var ErrClockFixed = errors.New("the server runs on the real clock; start it with --clock offset or --clock frozen to move time")

// ErrClockRange is returned for a move outside the years the database can
// store (times are kept as Unix nanoseconds).
var ErrClockRange = fmt.Errorf("the clock can only be set between %d and %d", minTime.Year(), maxTime.Year())

// The span of Unix nanoseconds in an int64, less a margin for lifetimes
// added to the clock's time.
var (
	minTime = time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

func inRange(t time.Time) bool { return !t.Before(minTime) && !t.After(maxTime) }

// Clock is the server's sense of time. Its zero value is not usable; make
// one with NewClock. It is safe for concurrent use.
type Clock struct {
	mode string
	wall func() time.Time

	mu     sync.Mutex
	offset time.Duration // offset mode
	frozen time.Time     // frozen mode
}

// NewClock returns a clock in the given mode. wall is the real time source
// (time.Now in production); a frozen clock starts at wall().
func NewClock(mode string, wall func() time.Time) (*Clock, error) {
	c := &Clock{mode: mode, wall: wall}
	switch mode {
	case ClockReal, ClockOffset:
	case ClockFrozen:
		c.frozen = wall().UTC().Truncate(time.Second)
	default:
		return nil, fmt.Errorf("unknown clock mode %q (want real, offset or frozen)", mode)
	}
	return c, nil
}

// Mode returns real, offset or frozen.
func (c *Clock) Mode() string { return c.mode }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	switch c.mode {
	case ClockFrozen:
		return c.frozen
	case ClockOffset:
		return c.wall().UTC().Add(c.offset)
	}
	return c.wall().UTC()
}

// Advance moves the clock by d (which may be negative).
func (c *Clock) Advance(d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mode == ClockReal {
		return ErrClockFixed
	}
	now := c.nowLocked()
	if d > maxTime.Sub(now) || d < minTime.Sub(now) || !inRange(now.Add(d)) {
		return ErrClockRange
	}
	if c.mode == ClockFrozen {
		c.frozen = c.frozen.Add(d)
	} else {
		c.offset += d
	}
	return nil
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.mode == ClockReal:
		return ErrClockFixed
	case !inRange(t):
		return ErrClockRange
	case c.mode == ClockFrozen:
		c.frozen = t.UTC()
	default:
		c.offset = t.Sub(c.wall())
	}
	return nil
}
