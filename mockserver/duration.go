package mockserver

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// msUnits are the units of the "ms" npm package that the seed articles use
// in their .env files (ACCESS_TOKEN_EXPIRY=15m, REFRESH_TOKEN_EXPIRY=7d).
var msUnits = map[string]time.Duration{
	"ms": time.Millisecond, "msec": time.Millisecond, "msecs": time.Millisecond,
	"millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
	"y": 8766 * time.Hour, "yr": 8766 * time.Hour, "yrs": 8766 * time.Hour, "year": 8766 * time.Hour, "years": 8766 * time.Hour,
}

// ParseDuration accepts Go durations ("1h30m", "90s") and the ms-package
// style ("1d", "7d", "2.5 hrs", "10 days"); a bare number is milliseconds,
// as in ms.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if d, err := time.ParseDuration(in); err == nil {
		return d, nil
	}
	neg := strings.HasPrefix(in, "-")
	body := strings.TrimSpace(strings.TrimPrefix(in, "-"))
	i := strings.IndexFunc(body, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
	num, unit := body, "ms"
	if i >= 0 {
		num, unit = body[:i], strings.ToLower(strings.TrimSpace(body[i:]))
	}
	n, err := strconv.ParseFloat(num, 64)
	scale, ok := msUnits[unit]
	if err != nil || !ok || n > float64(1<<62)/float64(scale) {
		return 0, fmt.Errorf("invalid duration %q (use forms like 90s, 15m, 1h30m, 7d)", s)
	}
	d := time.Duration(n * float64(scale))
	if neg {
		d = -d
	}
	return d, nil
}

// FormatDuration writes d the short way people write lifetimes: 7d, 15m,
// 1h30m, 90s, 250ms.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	if d < time.Second {
		fmt.Fprintf(&b, "%dms", d.Milliseconds())
		return b.String()
	}
	for _, u := range []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.size; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.size
		}
	}
	return b.String()
}
