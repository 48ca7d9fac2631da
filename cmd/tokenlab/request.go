package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/internal/termtext"
)

// maxJSONAnswer bounds the body that --json holds in memory; without
// --json the body is streamed.
const maxJSONAnswer = 16 << 20

type requestOptions struct {
	session sessionOptions
	data    string
	headers []string
	include bool
	json    bool
}

func newRequestCmd(std streams) *cobra.Command {
	var opts requestOptions
	cmd := &cobra.Command{
		Use:   "request [METHOD] PATH_OR_URL",
		Short: "Send a request with the session, refreshing as needed",
		Long: `Send one HTTP request with the session's access token, like curl: the token is
refreshed first when it is about to expire, and once more when the API rejects it
(then the request is sent again). A PATH is relative to the session's server.

The body of the answer goes to stdout (with -i, the status line and headers first).
The exit status is 1 when the answer's status is 400 or more, and 3 when the
session has ended and a new login is required. Redirects are not followed.`,
		Example: `  tokenlab request /protected
  tokenlab request POST /api/notes -d '{"text":"hi"}' -H 'X-Trace: 1'
  tokenlab request DELETE https://api.example.com/notes/7 -i
  tokenlab request /protected --json | jq '.refreshes, .body.user.username'`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return oneLine(requestRun(cmd.Context(), std, opts, args))
		},
	}
	opts.session.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVarP(&opts.data, "data", "d", "", "request body; @FILE reads a file, @- reads stdin (makes the default method POST)")
	f.StringArrayVarP(&opts.headers, "header", "H", nil, "a request header as 'Name: value' (repeatable)")
	f.BoolVarP(&opts.include, "include", "i", false, "print the status line and headers before the body")
	f.BoolVar(&opts.json, "json", false, "print {status, headers, body, refreshes, rotations, events} as JSON")
	return cmd
}

// requestResult is request's --json output.
type requestResult struct {
	Status    int            `json:"status"`
	Headers   http.Header    `json:"headers"`
	Body      any            `json:"body"` // the JSON itself when the body parses, else a string
	Refreshes int            `json:"refreshes"`
	Rotations int            `json:"rotations"`
	Events    []client.Event `json:"events"`
}

// eventLog keeps the client's events of this command.
type eventLog struct {
	mu     sync.Mutex
	events []client.Event
}

func (l *eventLog) add(e client.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) snapshot() []client.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]client.Event{}, l.events...)
}

func requestRun(ctx context.Context, std streams, opts requestOptions, args []string) error {
	target := args[len(args)-1]
	method := ""
	if len(args) == 2 {
		method = strings.ToUpper(args[0])
		if !validMethod(method) {
			return usagef("%q is not an HTTP method; write tokenlab request [METHOD] PATH_OR_URL", args[0])
		}
	}
	header := http.Header{}
	for _, h := range opts.headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return usagef("-H %q: write a header as 'Name: value'", h)
		}
		header.Add(name, strings.TrimSpace(value))
	}
	body, err := requestBody(std, opts.data)
	if err != nil {
		return err
	}
	if method == "" {
		method = http.MethodGet
		if body != nil {
			method = http.MethodPost
		}
	}

	var log eventLog
	s, err := opts.session.open(client.WithEvents(sayLockWaits(std, log.add)))
	if err != nil {
		return notLoggedInForResource(ctx, target, err)
	}
	u, err := resolveURL(s.c.Server(), target)
	if err != nil {
		return err
	}
	if !s.c.MaySendTokenTo(u) {
		origin, _ := client.Origin(u)
		return usagef("the access token is not sent to %s, which is neither the session's server (%s) nor an allowed API; allow it with --api %s (or log in with --api %s to keep it with the session)",
			origin, s.c.Server(), origin, origin)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body) // replayable: a rejected request is sent again after the refresh
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return usagef("cannot build the request: %v", err)
	}
	for name, values := range header {
		if strings.EqualFold(name, "Host") {
			req.Host = values[0]
			continue
		}
		req.Header[name] = values
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		if json.Valid(body) {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // curl's default for -d
		}
	}

	hc := s.c.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		return s.fail(err)
	}
	defer resp.Body.Close()

	if opts.json {
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONAnswer+1))
		if err != nil {
			return fmt.Errorf("the answer from %s broke off: %w", req.URL.Host, err)
		}
		if len(data) > maxJSONAnswer {
			return fmt.Errorf("the answer is larger than %d MiB; drop --json to stream it to stdout", maxJSONAnswer>>20)
		}
		res := requestResult{Status: resp.StatusCode, Headers: resp.Header, Body: string(data)}
		if t := bytes.TrimSpace(data); len(t) > 0 && json.Valid(t) {
			res.Body = json.RawMessage(t)
		}
		res.Events = log.snapshot()
		for _, e := range res.Events {
			switch e.Kind {
			case client.EventRefresh:
				res.Refreshes++
			case client.EventRotation:
				res.Rotations++
			}
		}
		if err := writeJSON(std.out, res); err != nil {
			return err
		}
	} else {
		if opts.include {
			writeHead(std.out, resp)
		}
		if _, err := io.Copy(std.out, resp.Body); err != nil {
			return fmt.Errorf("the answer from %s broke off: %w", req.URL.Host, err)
		}
	}
	if resp.StatusCode >= 400 {
		sess, _ := s.c.Session(ctx)
		sayResourceMetadata(ctx, std, resp, u, sess, s.c.Profile().OAuth.Resources)
		return fmt.Errorf("%s %s answered %s", method, req.URL.Redacted(), resp.Status)
	}
	return nil
}

// requestBody reads -d: the text itself, @FILE, or @- for stdin; nil
// when there is none.
func requestBody(std streams, data string) ([]byte, error) {
	switch {
	case data == "":
		return nil, nil
	case data == "@-":
		b, err := io.ReadAll(std.in)
		if err != nil {
			return nil, fmt.Errorf("read the body from stdin: %w", err)
		}
		return b, nil
	case strings.HasPrefix(data, "@"):
		b, err := os.ReadFile(data[1:])
		if err != nil {
			return nil, usagef("-d %s: %v", data, err)
		}
		return b, nil
	}
	return []byte(data), nil
}

// resolveURL makes target absolute: a URL as it is, a path relative to
// the session's server.
func resolveURL(server, target string) (string, error) {
	abs := strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://")
	if !abs {
		target = server + "/" + strings.TrimLeft(target, "/")
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return "", usagef("%q is neither a path nor an http(s) URL", target)
	}
	return u.String(), nil
}

// validMethod accepts an RFC 9110 token, which is what net/http sends.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, r := range m {
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", r) && (r < '0' || r > '9') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// writeHead prints an answer's status line and headers as -i shows them,
// each escaped (termtext): the server chose them, and they reach a
// terminal. The body that follows is the API's own, passed on as it is.
func writeHead(w io.Writer, resp *http.Response) {
	fmt.Fprintf(w, "%s %s\r\n", termtext.Escape(resp.Proto), termtext.Escape(resp.Status))
	var head bytes.Buffer
	resp.Header.Write(&head)
	for _, line := range strings.SplitAfter(head.String(), "\r\n") {
		if body, ok := strings.CutSuffix(line, "\r\n"); ok {
			fmt.Fprint(w, termtext.Escape(body)+"\r\n")
		} else if line != "" {
			fmt.Fprint(w, termtext.Escape(line))
		}
	}
	fmt.Fprint(w, "\r\n")
}
