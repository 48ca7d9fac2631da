//go:build pprof

package main

// Built only with -tags pprof, for measuring `tokenlab serve` under
// `tokenlab load`: TOKENLAB_CPUPROFILE=file writes a CPU profile of the
// first TOKENLAB_CPUPROFILE_SECONDS (default 15) seconds of the process.
// Ordinary builds have no profiling hook.

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"time"
)

func init() {
	path := os.Getenv("TOKENLAB_CPUPROFILE")
	if path == "" {
		return
	}
	seconds, err := strconv.Atoi(os.Getenv("TOKENLAB_CPUPROFILE_SECONDS"))
	if err != nil || seconds <= 0 {
		seconds = 15
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cpuprofile:", err)
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "cpuprofile:", err)
		return
	}
	go func() {
		time.Sleep(time.Duration(seconds) * time.Second)
		pprof.StopCPUProfile()
		f.Close()
		fmt.Fprintln(os.Stderr, "cpuprofile: written to", path)
	}()
}
