package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qun-chat/qun/client"
)

// Sizes of bench create: the big create has as many made-up members as one
// call may carry; benchCreateLoaders of them run at once while other robots
// write, as the four connections of issue 8 did.
const (
	benchBigCreate     = 2000
	benchCreateLoaders = 4
)

// benchCreate measures what a large group/create costs and what it costs
// everyone else:
//   - a create with benchBigCreate made-up members against a create with one,
//     one call at a time (goal: at most 30× the small one);
//   - the p99 of other robots' one-member member/add while benchCreateLoaders
//     clients create benchBigCreate-member groups back to back, against the
//     same writers with nothing else running (goal: at most 10× idle).
//
// The made-up members are new ids on every call, or with same the same ids
// on every call: then each is a member of ever more groups, and a create
// touches a page of the by-user member index per member.
func benchCreate(ctx context.Context, out io.Writer, b benchSetup, d time.Duration, rounds, conc int, same bool) error {
	m, stop, err := benchServer(ctx, b, 1)
	if err != nil {
		return err
	}
	defer stop()
	t := targetOf(m, conc+benchCreateLoaders)
	robot := func(id string) (*client.Client, error) {
		bot, err := t.createBot(ctx, id, "")
		return t.robot(bot), err
	}
	// The creating robot and the other writers are different robots, so no
	// per-robot limit could explain the writers' wait: only the store.
	creator, err := robot("creator")
	if err != nil {
		return err
	}
	small, big := createBody(1), createBody(benchBigCreate)
	var calls atomic.Int64
	create := func(ctx context.Context, body json.RawMessage) error {
		if !same {
			body = bytes.ReplaceAll(body, []byte(madeUp), fmt.Appendf(nil, "c%d-", calls.Add(1)))
		}
		return ok(creator.Call(ctx, "/robot/group/create", body, nil))
	}

	writers := make([]*client.Client, conc)
	groups := make([]string, conc)
	for w := range conc {
		if writers[w], err = robot(fmt.Sprint("writer", w)); err != nil {
			return err
		}
		var g struct {
			GroupID string `json:"group_id"`
		}
		body := map[string]any{"group": map[string]any{"group_info": map[string]any{"name": fmt.Sprint("bench ", w), "type": 2, "max_member_count": 1 << 30}}}
		if err := ok(writers[w].Call(ctx, "/robot/group/create", body, &g)); err != nil {
			return err
		}
		groups[w] = g.GroupID
	}
	next := make([]int, conc) // members added so far per writer, across phases
	write := func(ctx context.Context, w, _ int) error {
		next[w]++
		body := map[string]any{"group_id": groups[w], "members": []any{map[string]any{"member_id": fmt.Sprintf("m%d-%d", w, next[w])}}}
		return ok(writers[w].Call(ctx, "/robot/group/member/add", body, nil))
	}
	// loaded runs the writers while the loaders create big groups, and
	// returns the writers' phase and how many big creates completed.
	loaded := func() (phase, int) {
		lctx, stopLoad := context.WithCancel(ctx)
		var wg sync.WaitGroup
		creates := make([]int, benchCreateLoaders)
		for l := range benchCreateLoaders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for lctx.Err() == nil {
					if create(context.Background(), big) == nil {
						creates[l]++
					}
				}
			}()
		}
		p := runPhase(ctx, d, conc, write)
		stopLoad()
		wg.Wait()
		n := 0
		for _, c := range creates {
			n += c
		}
		return p, n
	}

	runPhase(ctx, d/5, 1, func(ctx context.Context, _, _ int) error { return create(ctx, small) }) // warm up
	runPhase(ctx, d/5, 1, func(ctx context.Context, _, _ int) error { return create(ctx, big) })
	runPhase(ctx, d/5, conc, write)

	ids := "new made-up ids each call"
	if same {
		ids = "the same made-up ids each call"
	}
	fmt.Fprintf(out, "qunbench create: %s, %d writers, %d loaders, %s, %d rounds of %s, GOMAXPROCS %d, %s/%s\n",
		b.store(), conc, benchCreateLoaders, ids, rounds, d, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(out, "%-7s %-30s %8s %10s %10s %7s\n", "round", "phase", "calls", "p50", "p99", "errors")
	row := func(r string, name string, p phase) {
		fmt.Fprintf(out, "%-7s %-30s %8d %10s %10s %7d\n", r, name, p.n, p.pct(0.50).Round(time.Microsecond), p.pct(0.99).Round(time.Microsecond), p.errors)
	}
	var one, many, idle, busy phase
	bigCreates := 0
	for r := 1; r <= rounds; r++ {
		rs := fmt.Sprint(r)
		p1 := runPhase(ctx, d, 1, func(ctx context.Context, _, _ int) error { return create(ctx, small) })
		pn := runPhase(ctx, d, 1, func(ctx context.Context, _, _ int) error { return create(ctx, big) })
		pi := runPhase(ctx, d, conc, write)
		pb, n := loaded()
		row(rs, "create, 1 member", p1)
		row(rs, fmt.Sprintf("create, %d members", benchBigCreate), pn)
		row(rs, "member/add, idle", pi)
		row(rs, fmt.Sprintf("member/add, %d big creates", benchCreateLoaders), pb)
		fmt.Fprintf(out, "%-7s big creates done meanwhile: %d (%.1f/s)\n", rs, n, float64(n)/pb.elapsed.Seconds())
		one, many, idle, busy = merge(one, p1), merge(many, pn), merge(idle, pi), merge(busy, pb)
		bigCreates += n
	}
	row("all", "create, 1 member", one)
	row("all", fmt.Sprintf("create, %d members", benchBigCreate), many)
	row("all", "member/add, idle", idle)
	row("all", fmt.Sprintf("member/add, %d big creates", benchCreateLoaders), busy)
	fmt.Fprintf(out, "all     create %d ÷ create 1, p50: %.1f  (goal: <= 30)\n", benchBigCreate, ratio(many.pct(0.50), one.pct(0.50)))
	fmt.Fprintf(out, "all     member/add p99 under load ÷ idle: %.1f  (goal: <= 10); p50: %.1f\n",
		ratio(busy.pct(0.99), idle.pct(0.99)), ratio(busy.pct(0.50), idle.pct(0.50)))
	return nil
}

// madeUp starts every made-up member id of createBody.
const madeUp = "made-up-"

// createBody is a group/create body with n made-up members: ids that are
// no user's, as a stranger could send them.
func createBody(n int) json.RawMessage {
	members := make([]map[string]any, n)
	for i := range members {
		members[i] = map[string]any{"member_id": fmt.Sprintf("%smember-%d", madeUp, i), "type": "0"}
	}
	b, err := json.Marshal(map[string]any{"group": map[string]any{
		"group_info": map[string]any{"name": "big", "type": 2},
		"members":    members,
	}})
	if err != nil { // maps of strings always marshal
		panic(err)
	}
	return b
}

// ratio is a / b, 0 when b is 0.
func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
