// Command zitadel-op runs the example OpenID Provider of zitadel/oidc
// (github.com/zitadel/oidc/v3/example/server, with its in-memory storage)
// on a loopback port of its own, for tokenlab's probe tests: the example's
// own main listens on every interface at a fixed port. It prints {"issuer": URL}
// on the first line of stdout and runs until stdin closes.
//
// Its users are those of the example: test-user@127.0.0.1 and test-user2,
// password verysecure; its public client is "native" (PKCE, refresh
// tokens) with loopback redirects on any port.
package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	issuer := fmt.Sprintf("http://127.0.0.1:%d/", ln.Addr().(*net.TCPAddr).Port)
	storage.RegisterClients(storage.NativeClient("native", "http://127.0.0.1/callback", "http://localhost/callback"))
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	router := exampleop.SetupServer(issuer, storage.NewStorage(storage.NewUserStore(issuer)), logger, false)
	fmt.Printf("{\"issuer\":%q}\n", issuer)
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	if err := http.Serve(ln, router); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
