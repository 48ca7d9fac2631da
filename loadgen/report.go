package loadgen

import (
	"encoding/json"
	"math"
	"time"
)

// histogram records latencies in buckets 1 % wide (so percentiles are
// within 1 %), bounded in memory however long the run.
type histogram struct {
	counts [histBuckets]int64
	n      int64
	max    time.Duration
}

const (
	histRatio   = 1.01
	histBuckets = 2600 // 1.01^2600 ns is far beyond any timeout
)

var logRatio = math.Log(histRatio)

func (h *histogram) add(d time.Duration) {
	if d < 1 {
		d = 1
	}
	i := int(math.Log(float64(d)) / logRatio)
	h.counts[min(i, histBuckets-1)]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile is the nearest-rank q-quantile, as the upper edge of its bucket
// (never above the maximum seen).
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(math.Pow(histRatio, float64(i+1))), h.max)
		}
	}
	return h.max
}

// Report is the outcome of a run.
type Report struct {
	Target    string        `json:"target"`
	Profile   string        `json:"profile"`
	Mode      Mode          `json:"mode"`
	Clients   int           `json:"clients"`
	Elapsed   time.Duration `json:"-"`
	Requests  int64         `json:"requests"`
	OK        int64         `json:"ok"`
	Non2xx    int64         `json:"non2xx"`
	Errors    int64         `json:"errors"`
	PerSecond float64       `json:"requestsPerSecond"`
	P50       time.Duration `json:"-"`
	P90       time.Duration `json:"-"`
	P99       time.Duration `json:"-"`
	Max       time.Duration `json:"-"`
	// Relogins counts chains that ended (a refused refresh or access
	// token) and were started again with an untimed login.
	Relogins int `json:"relogins"`
	// Rotated counts refresh answers that carried a new refresh token.
	Rotated int `json:"rotated"`
	// Reused and Revoked count answers saying a refresh token was already
	// used or its session revoked. Following its own chain, a worker
	// should cause neither.
	Reused   int           `json:"reused"`
	Revoked  int           `json:"revoked"`
	Statuses map[int]int64 `json:"statuses"`
}

// MarshalJSON writes durations as microseconds, and the run's length in
// seconds.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	us := func(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)*10) / 10 }
	return json.Marshal(struct {
		plain
		Seconds float64 `json:"seconds"`
		P50     float64 `json:"p50Micros"`
		P90     float64 `json:"p90Micros"`
		P99     float64 `json:"p99Micros"`
		Max     float64 `json:"maxMicros"`
	}{plain(r), r.Elapsed.Seconds(), us(r.P50), us(r.P90), us(r.P99), us(r.Max)})
}

func report(cfg Config, workers []*worker, elapsed time.Duration) Report {
	r := Report{Target: cfg.Target, Profile: cfg.Profile.Name, Mode: cfg.Mode, Clients: cfg.Clients,
		Elapsed: elapsed, Statuses: map[int]int64{}}
	var h histogram
	for _, w := range workers {
		h.merge(&w.hist)
		r.Requests += w.requests.Load()
		r.Non2xx += w.non2xx.Load()
		r.Errors += w.errors.Load()
		r.Relogins += w.relogins
		r.Rotated += w.rotated
		r.Reused += w.reused
		r.Revoked += w.revoked
		for st, n := range w.statuses {
			r.Statuses[st] += n
			if st/100 == 2 {
				r.OK += n
			}
		}
	}
	if elapsed > 0 {
		r.PerSecond = float64(r.Requests) / elapsed.Seconds()
	}
	r.P50, r.P90, r.P99, r.Max = h.quantile(0.50), h.quantile(0.90), h.quantile(0.99), h.max
	return r
}
