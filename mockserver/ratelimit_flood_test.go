package mockserver

import (
	"context"
	"fmt"
	"testing"
)

// Addresses past maxRateClients share one overflow bucket: a flood from
// more addresses than the table holds must not empty everyone's bucket,
// so an address that spent its allowance is still refused afterwards.
func TestLoginRateFloodKeepsOthersLimited(t *testing.T) {
	l := newLoginRateLimiter(0.001) // one check, then one per 1000 s
	from := func(addr string) context.Context {
		return context.WithValue(t.Context(), clientAddrKey{}, addr)
	}
	victim := from("192.0.2.1")
	if err := l.allow(victim); err != nil {
		t.Fatalf("first check refused: %v", err)
	}
	for i := range maxRateClients + 10 {
		l.allow(from(fmt.Sprintf("2001:db8:%x::/64", i)))
	}
	if err := l.allow(victim); err == nil {
		t.Fatal("after a flood from many addresses, an address that used its allowance was allowed again")
	}
	if n := len(l.buckets); n > maxRateClients+1 {
		t.Fatalf("the limiter holds %d buckets, more than %d", n, maxRateClients+1)
	}
}
