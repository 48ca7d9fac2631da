//go:build unix

package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// lock takes the cross-process refresh lock for this session (an flock on
// a file in the lock dir), waiting until ctx ends. With no lock dir it is
// a no-op.
func (c *Client) lock(ctx context.Context) (unlock func(), err error) {
	if c.lockDir == "" {
		return func() {}, nil
	}
	if err := os.MkdirAll(c.lockDir, 0o700); err != nil {
		return nil, fmt.Errorf("create lock folder: %w", err)
	}
	sum := sha256.Sum256([]byte(c.Key()))
	f, err := os.OpenFile(filepath.Join(c.lockDir, hex.EncodeToString(sum[:8])+".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	// Poll with LOCK_NB so a cancelled context never leaves a goroutine
	// blocked in flock.
	for wait := time.Millisecond; ; wait = min(wait*2, 20*time.Millisecond) {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for another tokenlab process to finish its refresh: %w", ctx.Err())
		case <-time.After(wait):
		}
	}
}
