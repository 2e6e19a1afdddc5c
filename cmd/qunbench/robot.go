package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app"
	"github.com/qun-chat/qun/internal/wildfire"
)

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

	fmt.Fprintf(out, "qunbench robot: %s, %d clients, %d rounds of %s, GOMAXPROCS %d, %s/%s\n", b.store(), conc, rounds, d, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
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

	fmt.Fprintf(out, "qunbench nonces: %s, %d clients, %d rounds of %s, GOMAXPROCS %d, %s/%s\n", b.store(), conc, rounds, d, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
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

// robotLoad creates robot rid on m and a group per client, and returns the
// calls benchRobot measures: a signed no-op read, and a member/add of a new
// member to the client's own group.
func robotLoad(ctx context.Context, m *app.Main, rid string, conc int) (noop, write func(ctx context.Context, worker, i int) error, err error) {
	t := targetOf(m, conc)
	bot, err := t.createBot(ctx, rid, "")
	if err != nil {
		return nil, nil, err
	}
	clients := make([]*client.Client, conc)
	groups := make([]string, conc)
	for w := range conc {
		clients[w] = t.robot(bot)
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
