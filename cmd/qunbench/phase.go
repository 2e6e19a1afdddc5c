package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// phase is the result of running one kind of request for a while.
type phase struct {
	n       int
	elapsed time.Duration
	lat     []time.Duration
	errors  int64
}

func (p phase) rate() float64 { return float64(p.n) / p.elapsed.Seconds() }

func (p phase) pct(q float64) time.Duration {
	if len(p.lat) == 0 {
		return 0
	}
	return p.lat[int(q*float64(len(p.lat)-1))]
}

// phaseProfiles is the -phaseprofile directory; phasesRun counts the phases for its file names.
var (
	phaseProfiles string
	phasesRun     int
)

// startProfile starts a CPU profile into the file path; stop ends it.
func startProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// runPhase runs do from conc workers for d and collects every latency.
func runPhase(ctx context.Context, d time.Duration, conc int, do func(ctx context.Context, worker, i int) error) phase {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if phaseProfiles != "" {
		phasesRun++
		if stop, err := startProfile(filepath.Join(phaseProfiles, fmt.Sprintf("phase-%d.prof", phasesRun))); err != nil {
			fmt.Fprintln(os.Stderr, "qunbench: phase profile:", err)
		} else {
			defer stop()
		}
	}
	lats := make([][]time.Duration, conc)
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				t0 := time.Now()
				if err := do(context.Background(), w, i); err != nil {
					errs.Add(1)
					continue
				}
				lats[w] = append(lats[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	p := phase{elapsed: time.Since(start), errors: errs.Load()}
	for _, l := range lats {
		p.lat = append(p.lat, l...)
	}
	slices.Sort(p.lat)
	p.n = len(p.lat)
	return p
}

// printPhase prints one line of results: a phase's rate, p50, p99 and errors,
// its name padded to width.
func printPhase(out io.Writer, width int, round, name string, p phase) {
	fmt.Fprintf(out, "%-7s %-*s %10.0f %10s %10s %7d\n", round, width, name, p.rate(), p.pct(0.50).Round(time.Microsecond), p.pct(0.99).Round(time.Microsecond), p.errors)
}

// merge pools two phases' requests and time.
func merge(a, b phase) phase {
	a.n += b.n
	a.elapsed += b.elapsed
	a.errors += b.errors
	a.lat = append(a.lat, b.lat...)
	slices.Sort(a.lat)
	return a
}
