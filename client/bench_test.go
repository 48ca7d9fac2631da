package client

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkTransportValidToken measures what client.Transport adds to a
// request when the access token is valid (no refresh): "bare" is a plain
// http.Client, "transport" the same base transport wrapped in Transport.
func BenchmarkTransportValidToken(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	b.Cleanup(srv.Close)
	base := srv.Client()

	now := fakeEpoch
	st := NewMemoryStore()
	c, err := New(srv.URL, "alice", BuiltinProfiles()["tokenlab"], st, WithHTTPClient(base), WithClock(newManualClock(now)))
	if err != nil {
		b.Fatal(err)
	}
	s := Session{Server: c.Server(), Profile: "tokenlab", Username: "alice",
		AccessToken: "h.p.s", AccessExpiry: now.Add(time.Hour), RefreshToken: "h.r.s"}
	if err := st.Save(b.Context(), c.Key(), s); err != nil {
		b.Fatal(err)
	}

	run := func(b *testing.B, hc *http.Client) {
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, srv.URL+"/protected", nil)
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatal(resp.Status)
			}
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, &http.Client{Transport: base.Transport}) })
	b.Run("transport", func(b *testing.B) { run(b, &http.Client{Transport: &Transport{Client: c}}) })
}
