// Command benchhttp is `make bench-http`: it starts `tokenlab serve` on a
// fresh database and the bare net/http server (testdata/barehttp), both on
// loopback, loads each with `tokenlab load` in the same run (protected and
// refresh with rotation, 32 clients), reads the server's RSS after the
// refresh load and the database's growth, and prints the targets with their
// ratios. It stops both servers when done and never runs longer than its
// load durations plus start-up.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

func main() {
	tokenlab := flag.String("tokenlab", "bin/tokenlab", "the tokenlab binary")
	bare := flag.String("bare", "bin/barehttp", "the bare server's binary")
	duration := flag.Duration("duration", 10*time.Second, "each load's duration (the targets name 60s for RSS)")
	clients := flag.Int("clients", 32, "concurrent clients")
	flag.Parse()
	if err := run(*tokenlab, *bare, *duration, *clients); err != nil {
		fmt.Fprintln(os.Stderr, "bench-http:", err)
		os.Exit(1)
	}
}

// result is what is read of `tokenlab load --json`.
type result struct {
	Requests  int64   `json:"requests"`
	Non2xx    int64   `json:"non2xx"`
	Errors    int64   `json:"errors"`
	PerSecond float64 `json:"requestsPerSecond"`
	P50       float64 `json:"p50Micros"`
	P99       float64 `json:"p99Micros"`
	Reused    int     `json:"reused"`
	Revoked   int     `json:"revoked"`
}

const password = "bench-password-123"

func run(tokenlab, bare string, duration time.Duration, clients int) error {
	dir, err := os.MkdirTemp("", "bench-http-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		return err
	}
	db := filepath.Join(dir, "tokenlab.db")
	serve, serveURL, err := start(tokenlab, "serve", "--db", db, "--addr", "127.0.0.1:0", "--json",
		"--user", "alice:"+password)
	if err != nil {
		return fmt.Errorf("start tokenlab serve: %w", err)
	}
	defer stop(serve)
	floor, bareURL, err := start(bare, "--addr", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start barehttp: %w", err)
	}
	defer stop(floor)

	load := func(url, mode string) (result, error) {
		var r result
		cmd := exec.Command(tokenlab, "load", url, "--mode", mode, "--clients", strconv.Itoa(clients),
			"--duration", duration.String(), "--password-file", pwFile, "--json")
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		fmt.Fprintf(os.Stderr, "load %s %s (%d clients, %s)\n", mode, url, clients, duration)
		if err := cmd.Run(); err != nil {
			return r, fmt.Errorf("tokenlab load %s %s: %v: %s", mode, url, err, strings.TrimSpace(errOut.String()))
		}
		return r, json.Unmarshal(out.Bytes(), &r)
	}
	rssStart := rss(serve.Process.Pid)
	bareProt, err := load(bareURL, "protected")
	if err != nil {
		return err
	}
	tlProt, err := load(serveURL, "protected")
	if err != nil {
		return err
	}
	bareRef, err := load(bareURL, "refresh")
	if err != nil {
		return err
	}
	sizeBefore := dbSize(db)
	tlRef, err := load(serveURL, "refresh")
	if err != nil {
		return err
	}
	rssAfter := rss(serve.Process.Pid)
	sizeAfter := dbSize(db)

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "route\tserver\treq/s\tp50 ms\tp99 ms\tnon-2xx\terrors\treuse/revoked\t\n")
	row := func(route, server string, r result) {
		fmt.Fprintf(w, "%s\t%s\t%.0f\t%.2f\t%.2f\t%d\t%d\t%d/%d\t\n", route, server, r.PerSecond, r.P50/1000, r.P99/1000,
			r.Non2xx, r.Errors, r.Reused, r.Revoked)
	}
	row("protected", "bare", bareProt)
	row("protected", "tokenlab", tlProt)
	row("refresh", "bare", bareRef)
	row("refresh", "tokenlab", tlRef)
	w.Flush()
	fmt.Println()

	growth := float64(sizeAfter-sizeBefore) / float64(max(tlRef.Requests, 1))
	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "target\tmeasured\t\n")
	target := func(name, measured string, met bool) {
		verdict := "MISSED"
		if met {
			verdict = "met"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", name, measured, verdict)
	}
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	refRatio, refP99 := ratio(tlRef.PerSecond, bareRef.PerSecond), ratio(tlRef.P99, bareRef.P99)
	protRatio, protP99 := ratio(tlProt.PerSecond, bareProt.PerSecond), ratio(tlProt.P99, bareProt.P99)
	target("refresh ≥ 40 % of bare req/s", fmt.Sprintf("%.1f %%", 100*refRatio), refRatio >= 0.40)
	target("refresh p99 ≤ 1.5× bare p99", fmt.Sprintf("%.2f×", refP99), refP99 > 0 && refP99 <= 1.5)
	target("protected ≥ 60 % of bare req/s", fmt.Sprintf("%.1f %%", 100*protRatio), protRatio >= 0.60)
	target("protected p99 ≤ 1.5× bare p99", fmt.Sprintf("%.2f×", protP99), protP99 > 0 && protP99 <= 1.5)
	target(fmt.Sprintf("server RSS < 100 MB after %s of refresh", duration),
		fmt.Sprintf("%.1f MB (%.1f MB at start)", float64(rssAfter)/1e6, float64(rssStart)/1e6), rssAfter > 0 && rssAfter < 100e6)
	target("no reuse or revocation caused", fmt.Sprintf("%d", tlRef.Reused+tlRef.Revoked+tlProt.Reused+tlProt.Revoked),
		tlRef.Reused+tlRef.Revoked+tlProt.Reused+tlProt.Revoked == 0)
	if err := w.Flush(); err != nil {
		return err
	}
	// Every refresh keeps a token row and two events until they are pruned.
	_, err = fmt.Printf("\ndatabase growth during the refresh load: %.1f MB for %d refreshes (%.0f B each)\n",
		float64(sizeAfter-sizeBefore)/1e6, tlRef.Requests, growth)
	return err
}

// start runs a server and returns it with the URL it reports: the first
// line of its output (barehttp) or the "url" of its JSON banner.
func start(bin string, args ...string) (*exec.Cmd, string, error) {
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			first <- sc.Text()
		}
		close(first)
		io.Copy(io.Discard, out)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case line, ok := <-first:
		if !ok {
			stop(cmd)
			return nil, "", errors.New("it exited before saying where it listens")
		}
		var banner struct {
			URL string `json:"url"`
		}
		if json.Unmarshal([]byte(line), &banner) == nil && banner.URL != "" {
			return cmd, banner.URL, nil
		}
		return cmd, strings.TrimSpace(line), nil
	case <-ctx.Done():
		stop(cmd)
		return nil, "", errors.New("it did not start within 30 s")
	}
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Kill()
	cmd.Wait()
}

// rss reads a process's resident set size from /proc (0 elsewhere).
func rss(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// dbSize is the database and its WAL, in bytes.
func dbSize(path string) int64 {
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}
