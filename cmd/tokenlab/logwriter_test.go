package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Request lines wait in the batch; a warning is written at once with every
// line before it, in order; Flush writes the rest.
func TestBatchedLogWritesWarningsAtOnce(t *testing.T) {
	var out bytes.Buffer
	w := newBatchedWriter(&out, time.Hour) // no timed flush during the test
	log := newLogger(w, serveOptions{})
	log.Info("request", "path", "/one")
	log.Info("request", "path", "/two")
	if out.Len() != 0 {
		t.Fatalf("info lines were written before a flush: %q", out.String())
	}
	log.Warn("something is wrong")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "/one") || !strings.Contains(lines[1], "/two") ||
		!strings.Contains(lines[2], "something is wrong") {
		t.Fatalf("after a warning the log is %q, want the two requests then the warning", out.String())
	}
	log.With("k", "v").Info("request", "path", "/three")
	if strings.Contains(out.String(), "/three") {
		t.Fatal("an info line through With was written before a flush")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.TrimSpace(out.String()), "path=/three") {
		t.Fatalf("Flush did not write the waiting line: %q", out.String())
	}
}
