//go:build !unix

package main

// descriptorLimit is unknown here; defaultMaxConns uses a fixed default.
func descriptorLimit() (uint64, bool) { return 0, false }
