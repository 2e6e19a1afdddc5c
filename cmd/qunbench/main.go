// Command qunbench is qun's load generator: each benchmark starts qun's own
// wiring (package app) in-process on loopback, or as a child process, and
// prints its results with ratios against a baseline measured in the same
// run, so the numbers mean something on a shared, noisy machine. It is kept
// out of the server binary; BENCHMARKS.md has its results.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"github.com/qun-chat/qun/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `qunbench — qun's benchmarks, each against a baseline measured in the same run

Usage:
  qunbench robot     signed Robot API writes against a no-op (qunbench robot -h)
  qunbench nonces    the same calls with nonces kept in the store against nonces in memory only
  qunbench events    event delivery to a bot's gateway session, and member paging
  qunbench webhook   QQ webhook delivery against the gateway in the same run
  qunbench memory    qun's peak memory under concurrent hostile request bodies (qunbench memory -h)
  qunbench create    a 2,000-member group/create and what it costs other writers
  qunbench serve     qun serve's wiring, as qun serve runs it: the child qunbench memory measures

Flags of robot, nonces, events, webhook and create: -duration, -rounds, -concurrency, -data, -db,
-cpuprofile, -phaseprofile; events also -nodes and -members, create also -same-members.
`

// run runs the command line and returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "memory": // its own flags: it runs qun as a child process
		return benchMemory(ctx, args[1:], stdout, stderr)
	case "serve":
		return app.Serve(ctx, args[1:], getenv, app.ReadVersion(""), stdout, stderr)
	}
	if !slices.Contains([]string{"robot", "nonces", "events", "create", "webhook"}, args[0]) {
		fmt.Fprintf(stderr, "qunbench: unknown benchmark %q\n\n%s", args[0], usage)
		return 2
	}
	fs := flag.NewFlagSet("qunbench "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 5*time.Second, "length of each measured phase")
	rounds := fs.Int("rounds", 3, "baseline/measured phase pairs, interleaved")
	conc := fs.Int("concurrency", 64, "concurrent clients")
	data := fs.String("data", "", "data directory (default: a new temporary one)")
	db := fs.String("db", "", "a postgres:// URL: run on a new database created on that server (dropped after); empty: SQLite")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.StringVar(&phaseProfiles, "phaseprofile", "", "write a CPU profile of each phase to `DIR`/phase-N.prof, N counting every phase run, warm-ups included")
	nodes := fs.Int("nodes", 1, "events: qun nodes on the database (2: writes go to one node, the bot is connected to the other; needs -db)")
	members := fs.Int("members", benchMembers, "events: members of the group whose first and last member pages are timed")
	sameMembers := fs.Bool("same-members", false, "create: every big create names the same made-up ids (each then a member of ever more groups), not new ones")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *data == "" {
		dir, err := os.MkdirTemp("", "qun-bench-")
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		*data = dir
	}
	if *nodes < 1 || *nodes > 2 || (*nodes == 2 && *db == "") {
		fmt.Fprintln(stderr, "qunbench: -nodes is 1, or 2 with -db")
		return 2
	}
	if *members < 1 {
		fmt.Fprintln(stderr, "qunbench: -members is at least 1")
		return 2
	}
	if *cpuprofile != "" && phaseProfiles != "" {
		fmt.Fprintln(stderr, "qunbench: -cpuprofile or -phaseprofile, not both")
		return 2
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "qunbench:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "qunbench:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	b := benchSetup{data: *data}
	if *db != "" {
		dsn, drop, err := benchDatabase(ctx, *db)
		if err != nil {
			fmt.Fprintln(stderr, "qunbench:", err)
			return 1
		}
		defer drop()
		b.db = dsn
	}
	var err error
	switch args[0] {
	case "robot":
		err = benchRobot(ctx, stdout, b, *duration, *rounds, *conc)
	case "nonces":
		err = benchNonces(ctx, stdout, b, *duration, *rounds, *conc)
	case "events":
		err = benchEvents(ctx, stdout, b, *nodes, *duration, *rounds, *conc, *members)
	case "create":
		err = benchCreate(ctx, stdout, b, *duration, *rounds, *conc, *sameMembers)
	case "webhook":
		err = benchWebhook(ctx, stdout, b, *duration, *rounds, *conc)
	}
	if err != nil {
		fmt.Fprintln(stderr, "qunbench:", err)
		return 1
	}
	return 0
}
