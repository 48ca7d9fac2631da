package mockserver

import (
	"fmt"
	"testing"
	"time"
)

// The guess table stays bounded, and flooding it from many addresses
// neither resets a throttled address nor lets new ones guess freely.
func TestGuessLimiterIsBounded(t *testing.T) {
	l := newGuessLimiter()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for range userCodeGuessBurst {
		l.reserve("192.0.2.1", now)
	}
	if l.check("192.0.2.1", now) == nil {
		t.Fatal("an address at the burst may still look codes up")
	}
	for i := range maxGuessAddrs + 50 {
		addr := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		for range userCodeGuessBurst {
			l.reserve(addr, now)
		}
	}
	if n := len(l.failed); n > maxGuessAddrs+1 {
		t.Fatalf("the table holds %d addresses, more than %d", n, maxGuessAddrs+1)
	}
	if l.check("192.0.2.1", now) == nil {
		t.Fatal("a flood from other addresses reset a throttled address")
	}
	if l.check("198.51.100.7", now) == nil {
		t.Fatal("past the table's bound a new address guesses unthrottled")
	}
	if l.check("192.0.2.1", now.Add(userCodeGuessRefill*userCodeGuessBurst)) != nil {
		t.Fatal("the count does not drain with the clock")
	}
	if l.check("192.0.2.1", now.Add(-time.Hour)) == nil {
		t.Fatal("setting the clock back drained the count")
	}
}

// Limits count an IPv4 address alone and an IPv6 address by its /64, the
// block one machine commonly holds; every loopback address is this machine.
func TestClientAddrGroupsIPv6By64(t *testing.T) {
	for remote, want := range map[string]string{
		"127.0.0.1:5555":              "loopback",
		"127.44.3.2:80":               "loopback",
		"192.0.2.7:5555":              "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:5555": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:80":   "2001:db8:1:2::/64",
		"[::1]:80":                    "loopback",
		"[::ffff:127.0.0.9]:80":       "loopback",
		"not-an-address":              "not-an-address",
	} {
		if got := clientAddr(remote); got != want {
			t.Errorf("clientAddr(%q) = %q, want %q", remote, got, want)
		}
	}
}
