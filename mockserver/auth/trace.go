package auth

import "context"

// TraceHeader is the request header that labels a request's events with
// a trace: the scenario runner sends one per scenario run, so that a
// scenario sharing a server with others counts its own events only.
// It is a label, not a credential: anyone may set it, and it reveals and
// grants nothing.
const TraceHeader = "Tokenlab-Trace"

// MaxTraceLen bounds a trace; a longer or otherwise malformed one is
// ignored, not refused (an unknown header must not break a request).
const MaxTraceLen = 64

type traceKey struct{}

// WithTrace returns ctx carrying trace, when trace is well formed.
func WithTrace(ctx context.Context, trace string) context.Context {
	if !ValidTrace(trace) {
		return ctx
	}
	return context.WithValue(ctx, traceKey{}, trace)
}

// TraceFrom returns the trace ctx carries, or "".
func TraceFrom(ctx context.Context) string {
	t, _ := ctx.Value(traceKey{}).(string)
	return t
}

// ValidTrace reports whether s is 1 to MaxTraceLen letters, digits, '.',
// '_' or '-'.
func ValidTrace(s string) bool {
	if s == "" || len(s) > MaxTraceLen {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
