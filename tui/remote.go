package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/tokenlab/tokenlab/mockserver"
)

// remoteClock is the clock of a tokenlab server at --server, read and
// moved through its admin API (--admin-token): the lab then moves time
// there as it does on the embedded server. Between reads it runs on the
// wall clock plus the last offset seen; each tick reads it again, so a
// frozen server's clock stays still here too.
type remoteClock struct {
	admin  *adminAPI
	offset atomic.Int64 // server time minus wall time, in nanoseconds
}

var _ Clock = (*remoteClock)(nil)

func (r *remoteClock) Now() time.Time { return time.Now().Add(time.Duration(r.offset.Load())) }

type clockAnswer struct {
	Now time.Time `json:"now"`
}

// learn takes the server's time as the lab's.
func (r *remoteClock) learn(now time.Time) time.Time {
	r.offset.Store(int64(now.Sub(time.Now())))
	return now
}

// read asks the server for its time.
func (r *remoteClock) read(ctx context.Context) (time.Time, error) {
	var a clockAnswer
	if err := r.admin.get(ctx, "/admin/clock", &a); err != nil {
		return time.Time{}, err
	}
	return r.learn(a.Now), nil
}

// advance moves the server's clock forward by d.
func (r *remoteClock) advance(ctx context.Context, d time.Duration) (time.Time, error) {
	body, _ := json.Marshal(map[string]string{"advance": mockserver.FormatDuration(d)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.admin.url+"/admin/clock", bytes.NewReader(body))
	if err != nil {
		return time.Time{}, err
	}
	req.Header.Set("Authorization", "Bearer "+r.admin.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.admin.http.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Message     string `json:"message"`
			Description string `json:"error_description"`
		}
		json.Unmarshal(data, &e)
		return time.Time{}, fmt.Errorf("the server would not move its clock (%d %s: %s)", resp.StatusCode, e.Error, e.Message+e.Description)
	}
	var a clockAnswer
	if err := json.Unmarshal(data, &a); err != nil || a.Now.IsZero() {
		return r.read(ctx) // moved; its answer did not say to what
	}
	return r.learn(a.Now), nil
}

// remoteAdvanceCmd moves the server's clock as advanceCmd moves the
// embedded one.
func remoteAdvanceCmd(ctx context.Context, r *remoteClock, d time.Duration) tea.Cmd {
	return func() tea.Msg {
		now, err := r.advance(ctx, d)
		return clockMovedMsg{by: d, now: now, err: err}
	}
}
