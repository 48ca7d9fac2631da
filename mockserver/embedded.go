package mockserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/sqlite"
)

// Embedded is a mock server running inside this process on loopback, as
// the TUI and the scenario runner use it.
type Embedded struct {
	URL        string
	AdminToken string
	Server     *Server
	Clock      *Clock
	DB         *sqlite.DB

	http *http.Server
	done chan error
}

// EmbeddedOptions configure StartEmbedded; the zero value gives an
// in-memory database, a frozen clock and the defaults of DefaultConfig.
type EmbeddedOptions struct {
	DB        string // path or ":memory:" (the default)
	ClockMode string // frozen (the default), offset or real
	// Configure adjusts the configuration before the server starts.
	Configure func(*Config)
	// Wall is the real time source; time.Now when nil.
	Wall func() time.Time
	// Addr is where to listen; 127.0.0.1 with a random port when empty.
	// A restart passes the address it had, so clients keep their URL.
	Addr string
	// Clock, when set, is used instead of a new one (a restart keeps its time).
	Clock *Clock
	// Clients are confidential (or extra public) clients to register
	// besides the built-in public client tokenlab.
	Clients []ClientConfig
}

var _ Store = (*sqlite.DB)(nil)

// StartEmbedded starts a server on 127.0.0.1 with a random port.
func StartEmbedded(ctx context.Context, opts EmbeddedOptions) (*Embedded, error) {
	if opts.DB == "" {
		opts.DB = ":memory:"
	}
	if opts.ClockMode == "" {
		opts.ClockMode = ClockFrozen
	}
	if opts.Wall == nil {
		opts.Wall = time.Now
	}
	clock := opts.Clock
	if clock == nil {
		var err error
		if clock, err = NewClock(opts.ClockMode, opts.Wall); err != nil {
			return nil, err
		}
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	db, err := sqlite.Open(ctx, opts.DB)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	url := "http://" + ln.Addr().String()
	cfg := DefaultConfig()
	cfg.Issuer = url
	cfg.AdminToken = "tla_" + newID()
	cfg.Clients = append(cfg.Clients, opts.Clients...)
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	srv, err := New(ctx, db, clock, cfg)
	if err != nil {
		ln.Close()
		db.Close()
		return nil, err
	}
	e := &Embedded{URL: url, AdminToken: cfg.AdminToken, Server: srv, Clock: clock, DB: db,
		http: &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}, done: make(chan error, 1)}
	e.http.RegisterOnShutdown(srv.WakeDelayed)
	go func() { e.done <- e.http.Serve(ln) }()
	return e, nil
}

// Close stops the server and closes its database.
func (e *Embedded) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := e.http.Shutdown(ctx)
	e.Server.Close()
	if serr := <-e.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return errors.Join(err, e.DB.Close())
}
