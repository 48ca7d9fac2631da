// Command hydra is Ory Hydra v2 (github.com/ory/hydra/v2, from the Go
// module proxy) as its own main builds it, for tokenlab's probe test, with
// one addition: it exits when stdin closes, so a test that dies never
// leaves it running. Build it with the tags Hydra's Makefile uses for its
// SQLite (and in-memory, DSN=memory) support:
//
//	go build -tags sqlite,sqlite_omit_load_extension .
//
// Everything else is Hydra's own: `hydra serve all --dev`, configured by
// its environment variables (DSN, SECRETS_SYSTEM, SERVE_PUBLIC_PORT, …).
package main

import (
	"io"
	"os"

	"github.com/ory/hydra/v2/cmd"
)

func main() {
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	cmd.Execute()
}
