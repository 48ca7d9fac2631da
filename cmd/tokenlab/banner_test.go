package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/mockserver"
)

// The text banner names where settings came from and shows the warnings.
func TestTextBannerShowsSourcesAndWarnings(t *testing.T) {
	cfg := serveConfig{Config: mockserver.DefaultConfig(), db: "x.db", maxConns: 300,
		sources: map[string]string{"addr": ".env", "access-ttl": "environment", "clock": "flag"}}
	cfg.AccessSecret, cfg.AllowWeakSecrets = "k", true
	clock, err := mockserver.NewClock(mockserver.ClockFrozen, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	std := streams{out: &out, env: func(string) (string, bool) { return "1", true }} // NO_COLOR
	printBanner(std, false, "http://127.0.0.1:1", cfg, clock)
	text := out.String()
	for _, want := range []string{"access-ttl from environment · addr from .env", "./.env sets addr",
		"weak HS256 secrets allowed", "300 connections"} {
		if !strings.Contains(text, want) {
			t.Errorf("banner lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "clock from flag") {
		t.Errorf("a flag is listed as a source worth noting:\n%s", text)
	}
}
