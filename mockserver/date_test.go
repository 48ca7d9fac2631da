package mockserver

import (
	"net/http"
	"testing"
	"time"
)

// TestDateHeaderIsTheLabClock: every answer's Date is the lab clock's,
// so a client can judge expiry by the server's time after /admin/clock.
func TestDateHeaderIsTheLabClock(t *testing.T) {
	e := startForFaults(t)
	if code, body := adminCall(t, e, "POST", "/admin/clock", `{"advance":"3h"}`); code != http.StatusOK {
		t.Fatalf("advance: %d %v", code, body)
	}
	for _, path := range []string{"/healthz", "/no-such-route"} {
		resp, err := http.Get(e.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		date, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			t.Fatalf("%s: Date %q: %v", path, resp.Header.Get("Date"), err)
		}
		if d := date.Sub(e.Clock.Now()).Abs(); d > time.Second {
			t.Errorf("%s: Date %v is %v off the lab clock %v", path, date, d, e.Clock.Now())
		}
	}
}
