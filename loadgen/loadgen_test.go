package loadgen

import (
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/client"
)

func TestLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.3.4.5": true, "::1": true, "localhost": true, "LOCALHOST": true,
		"128.0.0.1": false, "10.0.0.1": false, "example.com": false, "localhost.example.com": false, "": false, "::": false,
	} {
		if got := Loopback(host); got != want {
			t.Errorf("Loopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	good := Config{Target: "http://127.0.0.1:8080", Profile: client.BuiltinProfiles()["tokenlab"], Mode: ModeRefresh,
		Clients: 2, Duration: time.Second, Username: "alice", Password: "pw"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Config){
		"remote":     func(c *Config) { c.Target = "http://192.0.2.1" },
		"no bound":   func(c *Config) { c.Duration = 0 },
		"no clients": func(c *Config) { c.Clients = 0 },
		"bad mode":   func(c *Config) { c.Mode = "flood" },
		"oauth register": func(c *Config) {
			c.Profile, c.Register, c.Prefix = client.BuiltinProfiles()["oauth2"], true, "load"
		},
		"cookie transport": func(c *Config) { c.Profile = client.BuiltinProfiles()["seed-cookie"] },
		"not http":         func(c *Config) { c.Target = "ftp://127.0.0.1" },
		"no password":      func(c *Config) { c.Password = "" },
	} {
		c := good
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	remote := good
	remote.Target, remote.AllowRemote = "http://192.0.2.1", true
	if err := remote.Validate(); err != nil {
		t.Errorf("--allow-remote: %v", err)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Microsecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 500 * time.Microsecond, 0.99: 990 * time.Microsecond} {
		got := h.quantile(q)
		if got < want || float64(got) > float64(want)*1.02 {
			t.Errorf("quantile(%v) = %v, want %v within 2 %%", q, got, want)
		}
	}
	if h.quantile(1) != time.Millisecond || h.max != time.Millisecond {
		t.Errorf("max = %v, quantile(1) = %v; want 1ms", h.max, h.quantile(1))
	}
}

// TestValidateEveryProfileURL: the loopback rule holds for every URL the
// profile resolves to, not the target alone: an absolute path or an
// issuer elsewhere would send the load, the tokens and the password
// there.
func TestValidateEveryProfileURL(t *testing.T) {
	base := Config{Target: "http://127.0.0.1:8080", Profile: client.BuiltinProfiles()["tokenlab"], Mode: ModeMixed,
		Clients: 2, Duration: time.Second, Username: "alice", Password: "pw"}
	for name, mutate := range map[string]func(*client.Profile){
		"paths.login":     func(p *client.Profile) { p.Paths.Login = "http://192.0.2.1/login" },
		"paths.refresh":   func(p *client.Profile) { p.Paths.Refresh = "https://192.0.2.1/token" },
		"paths.logout":    func(p *client.Profile) { p.Paths.Logout = "http://example.com/logout" },
		"paths.protected": func(p *client.Profile) { p.Paths.Protected = "HTTP://192.0.2.1/protected" },
		"oauth.issuer": func(p *client.Profile) {
			*p = client.BuiltinProfiles()["oauth2"]
			p.OAuth.Issuer = "https://idp.example"
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := base
			mutate(&c.Profile)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), "not on this machine") || !strings.Contains(err.Error(), name) {
				t.Fatalf("Validate = %v, want %s refused as not on this machine", err, name)
			}
			c.AllowRemote = true
			if err := c.Validate(); err != nil {
				t.Errorf("with --allow-remote: %v", err)
			}
		})
	}
	local := base
	local.Profile.Paths.Protected = "http://127.0.0.2:9000/protected"
	if err := local.Validate(); err != nil {
		t.Errorf("an absolute loopback path: %v", err)
	}
}
