package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/wildfire"
)

// bench runs a benchmark against an in-process qun on loopback and prints
// its results with ratios against a baseline measured in the same run, so the
// numbers mean something on a shared, noisy machine.
func bench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: qun bench robot|nonces|events|webhook|memory|create [flags]")
		return 2
	}
	if args[0] == "memory" { // its own flags: it runs qun as a child process
		return benchMemory(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("qun bench "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 5*time.Second, "length of each measured phase")
	rounds := fs.Int("rounds", 3, "baseline/measured phase pairs, interleaved")
	conc := fs.Int("concurrency", 64, "concurrent clients")
	data := fs.String("data", "", "data directory (default: a new temporary one)")
	db := fs.String("db", "", "a postgres:// URL: run on a new database created on that server (dropped after); empty: SQLite")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.StringVar(&phaseProfiles, "phaseprofile", "", "write a CPU profile of each phase to `DIR`/phase-N.prof, N counting every phase run, warm-ups included")
	nodes := fs.Int("nodes", 1, "events: qun nodes on the database (2: writes go to one node, the bot is connected to the other; needs -db)")
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
		fmt.Fprintln(stderr, "qun bench: -nodes is 1, or 2 with -db")
		return 2
	}
	if *cpuprofile != "" && phaseProfiles != "" {
		fmt.Fprintln(stderr, "qun bench: -cpuprofile or -phaseprofile, not both")
		return 2
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "qun bench:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "qun bench:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	b := benchSetup{data: *data}
	if *db != "" {
		dsn, drop, err := benchDatabase(ctx, *db)
		if err != nil {
			fmt.Fprintln(stderr, "qun bench:", err)
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
		err = benchEvents(ctx, stdout, b, *nodes, *duration, *rounds, *conc)
	case "create":
		err = benchCreate(ctx, stdout, b, *duration, *rounds, *conc, *sameMembers)
	case "webhook":
		err = benchWebhook(ctx, stdout, b, *duration, *rounds, *conc)
	default:
		fmt.Fprintf(stderr, "qun bench: unknown benchmark %q\n", args[0])
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "qun bench:", err)
		return 1
	}
	return 0
}

// benchSetup says where benchmark nodes keep their data.
type benchSetup struct {
	data string // parent of the nodes' data directories
	db   string // PostgreSQL URL, or "" for SQLite
}

// store names the store in the output.
func (b benchSetup) store() string {
	if b.db != "" {
		return "PostgreSQL"
	}
	return "SQLite"
}

// benchDatabase creates a new database on the server dsn points at and
// returns its URL and a function that drops it.
func benchDatabase(ctx context.Context, dsn string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", nil, fmt.Errorf("connect %s: %w", redact(dsn), err)
	}
	name := "qun_bench_" + strings.ToLower(group.RandomString(8))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		conn.Close(context.Background())
	}, nil
}

// benchServer starts a qun node on loopback ports 0, with no rate limits.
func benchServer(ctx context.Context, b benchSetup, node int) (*Main, func(), error) {
	return benchServerWith(ctx, b, node, nil)
}

// benchServerWith is benchServer with the Wildfire doors' nonces kept in
// nonces instead of the store (nil: the store).
func benchServerWith(ctx context.Context, b benchSetup, node int, nonces wildfire.NonceCache) (*Main, func(), error) {
	data := filepath.Join(b.data, fmt.Sprint("node", node))
	cfg, err := ParseConfig([]string{"--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data", data, "--db", b.db,
		"--robot-rate", "0", "--bot-rest-rate", "-1", "--identify-rate", "-1", "--log-level", "warn"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		return nil, nil, err
	}
	m := NewMain(cfg, io.Discard, os.Stderr)
	m.nonces = nonces
	if err := m.Open(ctx); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	return m, func() { cancel(); <-done; m.Close() }, nil
}

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
			fmt.Fprintln(os.Stderr, "qun bench: phase profile:", err)
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

// benchRobot measures signed Robot API writes (member/add of one member, with
// its notification) against a signed no-op read (/robot/profile) through the
// same stack: HTTP, signature, nonce cache, rate-limit check, JSON.
func benchRobot(ctx context.Context, out io.Writer, b benchSetup, d time.Duration, rounds, conc int) error {
	m, stop, err := benchServer(ctx, b, 1)
	if err != nil {
		return err
	}
	defer stop()
	noop, write, err := robotLoad(ctx, m, "benchbot", conc)
	if err != nil {
		return err
	}
	runPhase(ctx, d/5, conc, noop) // warm up connections and caches
	runPhase(ctx, d/5, conc, write)

	fmt.Fprintf(out, "qun bench robot: %s, %d clients, %d rounds of %s, GOMAXPROCS %d, %s/%s\n", b.store(), conc, rounds, d, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(out, "%-7s %-14s %10s %10s %10s %7s\n", "round", "call", "req/s", "p50", "p99", "errors")
	var base, meas phase
	for r := 1; r <= rounds; r++ {
		b := runPhase(ctx, d, conc, noop)
		w := runPhase(ctx, d, conc, write)
		printPhase(out, 14, fmt.Sprint(r), "no-op profile", b)
		printPhase(out, 14, fmt.Sprint(r), "member/add", w)
		fmt.Fprintf(out, "%-7d %-14s %10.2f\n", r, "ratio", w.rate()/b.rate())
		base = merge(base, b)
		meas = merge(meas, w)
	}
	printPhase(out, 14, "all", "no-op profile", base)
	printPhase(out, 14, "all", "member/add", meas)
	fmt.Fprintf(out, "all     %-14s %10.2f   (goal: >= 0.50 and >= 5000 writes/s)\n", "ratio", meas.rate()/base.rate())
	return nil
}

// benchNonces measures what keeping nonces in the store costs: the calls of
// benchRobot on a node that keeps them in the store (as qun serve does)
// against a node that keeps them in memory only (the single-node cache qun
// had on SQLite before, which forgets them when it restarts), interleaved.
func benchNonces(ctx context.Context, out io.Writer, b benchSetup, d time.Duration, rounds, conc int) error {
	durable, stop, err := benchServer(ctx, b, 1)
	if err != nil {
		return err
	}
	defer stop()
	memory, stop2, err := benchServerWith(ctx, b, 2, wildfire.NewMemoryNonces())
	if err != nil {
		return err
	}
	defer stop2()
	dNoop, dWrite, err := robotLoad(ctx, durable, "benchbot1", conc)
	if err != nil {
		return err
	}
	mNoop, mWrite, err := robotLoad(ctx, memory, "benchbot2", conc)
	if err != nil {
		return err
	}
	for _, do := range []func(context.Context, int, int) error{mNoop, dNoop, mWrite, dWrite} {
		runPhase(ctx, d/5, conc, do) // warm up connections and caches
	}

	fmt.Fprintf(out, "qun bench nonces: %s, %d clients, %d rounds of %s, GOMAXPROCS %d, %s/%s\n", b.store(), conc, rounds, d, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(out, "%-7s %-22s %10s %10s %10s %7s\n", "round", "call", "req/s", "p50", "p99", "errors")
	var all [4]phase
	for r := 1; r <= rounds; r++ {
		var ps [4]phase
		for i, do := range []func(context.Context, int, int) error{mNoop, dNoop, mWrite, dWrite} {
			ps[i] = runPhase(ctx, d, conc, do)
			all[i] = merge(all[i], ps[i])
		}
		printNonces(out, fmt.Sprint(r), ps)
	}
	printNonces(out, "all", all)
	return nil
}

// printNonces prints a round of benchNonces: memory and store no-op, memory
// and store member/add, and the store's ratio to memory for each call.
func printNonces(out io.Writer, round string, ps [4]phase) {
	for i, name := range []string{"no-op, memory nonces", "no-op, store nonces", "add, memory nonces", "add, store nonces"} {
		printPhase(out, 22, round, name, ps[i])
	}
	fmt.Fprintf(out, "%-7s %-22s %10.2f\n", round, "no-op store ÷ memory", ps[1].rate()/ps[0].rate())
	fmt.Fprintf(out, "%-7s %-22s %10.2f\n", round, "add store ÷ memory", ps[3].rate()/ps[2].rate())
}

// printPhase prints one line of results: a phase's rate, p50, p99 and errors,
// its name padded to width.
func printPhase(out io.Writer, width int, round, name string, p phase) {
	fmt.Fprintf(out, "%-7s %-*s %10.0f %10s %10s %7d\n", round, width, name, p.rate(), p.pct(0.50).Round(time.Microsecond), p.pct(0.99).Round(time.Microsecond), p.errors)
}

// robotLoad creates robot rid on m and a group per client, and returns the
// calls benchRobot measures: a signed no-op read, and a member/add of a new
// member to the client's own group.
func robotLoad(ctx context.Context, m *Main, rid string, conc int) (noop, write func(ctx context.Context, worker, i int) error, err error) {
	pub, adm := m.Server.Addrs()
	secret, err := m.adminSecret(ctx)
	if err != nil {
		return nil, nil, err
	}
	admin := client.NewAdmin("http://"+adm, secret)
	var robot struct {
		UserID string `json:"userId"`
		Secret string `json:"secret"`
	}
	if err := ok(admin.Call(ctx, "/admin/robot/create", map[string]any{"userId": rid, "name": rid}, &robot)); err != nil {
		return nil, nil, err
	}
	clients := make([]*client.Client, conc)
	groups := make([]string, conc)
	// Keep-alive connections, one per client, as SDKs keep them; the default
	// client keeps 2 idle connections per host and would redial constantly.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	for w := range conc {
		clients[w] = client.NewRobot("http://"+pub, robot.UserID, robot.Secret)
		clients[w].HTTP = hc
		var g struct {
			GroupID string `json:"group_id"`
		}
		body := map[string]any{"group": map[string]any{"group_info": map[string]any{"name": fmt.Sprint("bench ", w), "type": 2, "max_member_count": 1 << 30}}}
		if err := ok(clients[w].Call(ctx, "/robot/group/create", body, &g)); err != nil {
			return nil, nil, err
		}
		groups[w] = g.GroupID
	}
	next := make([]int, conc) // members added so far per worker, across rounds
	noop = func(ctx context.Context, w, _ int) error {
		return ok(clients[w].Call(ctx, "/robot/profile", nil, nil))
	}
	write = func(ctx context.Context, w, _ int) error {
		next[w]++
		body := map[string]any{"group_id": groups[w], "members": []any{map[string]any{"member_id": fmt.Sprintf("m%d-%d", w, next[w])}}}
		return ok(clients[w].Call(ctx, "/robot/group/member/add", body, nil))
	}
	return noop, write, nil
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

// ok turns a Wildfire call's (code, err) into one error.
func ok(code int, err error) error {
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("wildfire code %d", code)
	}
	return nil
}
