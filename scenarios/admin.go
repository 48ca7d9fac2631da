package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// adminAPI talks to a tokenlab server's admin routes.
type adminAPI struct {
	url   string
	token string
	trace string // the scenario's auth.TraceHeader, so its admin actions are its events too
}

type serverEvent struct {
	ID    int64  `json:"id"`
	Kind  string `json:"kind"`
	Trace string `json:"trace"`
	Count int64  `json:"count"` // identical rejections coalesced into this row
	// ClientID is the OAuth client of the event (app scenarios count by it).
	ClientID string `json:"clientId"`
}

func (a *adminAPI) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.url+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if a.trace != "" {
		req.Header.Set(auth.TraceHeader, a.trace)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("%s did not answer (%w)", a.url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		code, msg := errorCode(data)
		switch {
		case resp.StatusCode == http.StatusUnauthorized:
			return fmt.Errorf("%s %s: %w", method, path, ErrAdminTokenRefused)
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
			return fmt.Errorf("%s has no tokenlab admin route %s %s (it answered %d): is it a tokenlab server, and a recent one?", a.url, method, path, resp.StatusCode)
		case msg != "":
			return fmt.Errorf("the server refused %s %s: %s", method, path, msg)
		}
		return fmt.Errorf("the server answered %s %s with %d %s", method, path, resp.StatusCode, code)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func (a *adminAPI) clockMode(ctx context.Context) (string, error) {
	var c struct{ Mode string }
	err := a.do(ctx, http.MethodGet, "/admin/clock", nil, &c)
	return c.Mode, err
}

// advance moves the server's clock and returns its time afterwards.
func (a *adminAPI) advance(ctx context.Context, d time.Duration) (time.Time, error) {
	var c struct{ Now time.Time }
	err := a.do(ctx, http.MethodPost, "/admin/clock", map[string]string{"advance": d.String()}, &c)
	return c.Now, err
}

func (a *adminAPI) fault(ctx context.Context, f FaultArgs) error {
	body := map[string]any{"route": f.Route, "times": f.Times}
	if f.Status != 0 {
		body["status"] = f.Status
	}
	if f.Delay > 0 {
		body["delay"] = time.Duration(f.Delay).String()
	}
	if f.Client != "" {
		body["client"] = f.Client
	}
	if f.LoseResponse {
		body["lose_response"] = true
	}
	return a.do(ctx, http.MethodPost, "/admin/faults", body, nil)
}

func (a *adminAPI) clearFaults(ctx context.Context) error {
	return a.do(ctx, http.MethodDelete, "/admin/faults", nil, nil)
}

func (a *adminAPI) rotateKeys(ctx context.Context) error {
	return a.do(ctx, http.MethodPost, "/admin/keys/rotate", nil, nil)
}

// settings reads the server's settings and, when set is not nil, changes
// them first (set is the JSON body: a mockserver.PolicyPatch, or what an
// earlier call returned); it returns what the server holds afterwards. The
// answer stays a map so that a restore puts back every setting the server
// has, even one newer than this runner.
func (a *adminAPI) settings(ctx context.Context, set any) (map[string]any, error) {
	var out map[string]any
	method := http.MethodGet
	var in any
	if set != nil {
		method, in = http.MethodPut, set
	}
	err := a.do(ctx, method, "/admin/settings", in, &out)
	return out, err
}

// events returns the server's events of a trace after the given ID,
// following pages.
func (a *adminAPI) events(ctx context.Context, trace string, after int64) ([]serverEvent, error) {
	const page = 5000
	var all []serverEvent
	for {
		var body struct{ Events []serverEvent }
		path := fmt.Sprintf("/admin/events?after=%d&limit=%d&trace=%s", after, page, url.QueryEscape(trace))
		if err := a.do(ctx, http.MethodGet, path, nil, &body); err != nil {
			return nil, err
		}
		all = append(all, body.Events...)
		if len(body.Events) < page {
			return all, nil
		}
		after = body.Events[len(body.Events)-1].ID
	}
}
