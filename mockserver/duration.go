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
	"ns": time.Nanosecond, "us": time.Microsecond, "µs": time.Microsecond, // what FormatDuration writes below a millisecond
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
// style ("1d", "7d", "2.5 hrs", "10 days"). A bare number other than 0 is
// refused: the ms package reads "15" as 15 milliseconds and jsonwebtoken's
// expiresIn as 15 seconds, and a flag that silently picks one of them
// (--access-ttl 15 was 15 ms) teaches the wrong lifetime.
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
	if isNumber(body) {
		return 0, fmt.Errorf("invalid duration %q: a number needs a unit, such as %ss, %sm or %sms", s, body, body, body)
	}
	// One or more number-unit pairs: "7d", "2.5 hrs", "1d1h30m".
	var total float64
	for body != "" {
		i := strings.IndexFunc(body, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
		if i <= 0 {
			return 0, badDuration(s)
		}
		n, err := strconv.ParseFloat(body[:i], 64)
		rest := strings.TrimLeft(body[i:], " ")
		j := strings.IndexFunc(rest, func(r rune) bool { return !unicode.IsLetter(r) })
		if j < 0 {
			j = len(rest)
		}
		scale, ok := msUnits[strings.ToLower(rest[:j])]
		if err != nil || !ok {
			return 0, badDuration(s)
		}
		total += n * float64(scale)
		body = strings.TrimLeft(rest[j:], " ")
	}
	if total > float64(1<<62) {
		return 0, badDuration(s)
	}
	d := time.Duration(total)
	if neg {
		d = -d
	}
	return d, nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' }) < 0
}

func badDuration(s string) error {
	return fmt.Errorf("invalid duration %q (use forms like 90s, 15m, 1h30m, 7d)", s)
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
	// Every unit down to the nanosecond, so that the text parses back to
	// exactly the same duration (2500ms is 2s500ms, not 2s).
	for _, u := range []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"},
		{time.Millisecond, "ms"}, {time.Microsecond, "us"}, {time.Nanosecond, "ns"}} {
		if n := d / u.size; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.size
		}
	}
	return b.String()
}
