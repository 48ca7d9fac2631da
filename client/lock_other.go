//go:build !unix

package client

import "context"

// lock is a no-op where flock is missing: refreshes are then single-flight
// within one process only.
func (c *Client) lock(ctx context.Context) (func(), error) { return func() {}, nil }
