// Command tokenlab is a terminal lab for JWT access and refresh tokens.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(runProcess()) }

// runProcess runs tokenlab with the process's arguments, streams and
// signals, and returns its exit code (the testscript harness calls it
// too).
func runProcess() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}
