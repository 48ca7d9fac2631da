// Command barehttp is the floor for `make bench-http`: a bare net/http
// server that answers the shapes tokenlab's routes answer and does nothing
// else — no tokens are checked, signed or stored. Loading it with the same
// generator in the same run shows how much of a figure is this machine's
// HTTP stack.
//
//	GET  /protected          200 {"message":…,"user":…}
//	POST /login, POST /token 200 {"accessToken":…,"refreshToken":…,"expiresIn":900}
//
// It listens on loopback only and prints its URL as the first line.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		log.Fatalf("barehttp: --addr %q must be a loopback address such as 127.0.0.1:0", *addr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("barehttp: %v", err)
	}
	fmt.Fprintf(os.Stdout, "http://%s\n", ln.Addr())
	log.Fatal(http.Serve(ln, routes()))
}

func routes() http.Handler {
	var seq atomic.Int64
	protected := []byte(`{"message":"you reached a protected route","user":"alice"}`)
	tokens := func(w http.ResponseWriter, r *http.Request) {
		n := strconv.FormatInt(seq.Add(1), 10)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, `{"accessToken":"bare-access-%s","refreshToken":"bare-refresh-%s","expiresIn":900}`, n, n)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /protected", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(protected)
	})
	mux.HandleFunc("POST /login", tokens)
	mux.HandleFunc("POST /token", tokens)
	return mux
}
