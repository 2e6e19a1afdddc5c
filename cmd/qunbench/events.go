package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// benchMembers is the default size of the group whose first and last member
// pages are timed (-members).
const benchMembers = 100_000

// benchEvents measures the Bot Open Platform's event path and member paging:
//   - latency from an Admin API call's return to the event's frame at the bot;
//   - sustained events/s into one gateway session, with every event checked
//     to arrive, in order — against the same Admin calls mentioning nobody
//     (no event), measured in the same run;
//   - the time of the first vs the last member page of a group of members
//     (benchMembers unless told).
func benchEvents(ctx context.Context, out io.Writer, b benchSetup, nodes int, d time.Duration, rounds, conc, members int) error {
	m, stop, err := benchServer(ctx, b, 1)
	if err != nil {
		return err
	}
	defer stop()
	// The bot connects to the last node; the Admin calls go to the first.
	writes, bots := targetOf(m, conc), targetOf(m, conc)
	if nodes == 2 {
		m2, stop2, err := benchServer(ctx, b, 2)
		if err != nil {
			return err
		}
		defer stop2()
		bots = targetOf(m2, conc)
	}
	bot, err := writes.createBot(ctx, "benchbot", "Bench")
	if err != nil {
		return err
	}
	load, err := newEventLoad(ctx, bots, writes, bot, "bench-events-", conc)
	if err != nil {
		return err
	}
	defer load.gw.conn.CloseNow()
	qq, gw, send := load.qq, load.gw, load.senders.send

	fmt.Fprintf(out, "qunbench events: %s, %d node(s) (writes to node 1, the bot on node %d), %d senders, %d rounds of %s, GOMAXPROCS %d, %s/%s\n",
		b.store(), nodes, nodes, conc, rounds, d, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)

	// 1. Latency: one call at a time, from the call's return to the frame.
	var lat []time.Duration
	for i := 0; i < 500; i++ {
		if err := send(ctx, i%conc, true); err != nil {
			return err
		}
		returned := time.Now()
		ev, err := gw.next(ctx)
		if err != nil {
			return err
		}
		lat = append(lat, ev.at.Sub(returned))
	}
	slices.Sort(lat)
	fmt.Fprintf(out, "latency, Admin call return -> frame at the bot (500 events): p50 %s  p99 %s  max %s\n",
		lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	fmt.Fprintln(out, "  (negative: the frame arrived before the HTTP response was read; both follow the same commit)")
	fmt.Fprintln(out, "the bot decodes op, s and t of each frame (d only where it is used) and checks that s grows by exactly one")

	// 2. Throughput into one session, every event accounted for. The CPU
	// time the process (qun and the load generator) spends per call or event
	// is also printed: on a shared machine other processes' load changes the
	// rates, much less the CPU per call.
	fmt.Fprintf(out, "%-7s %-24s %10s %10s %8s %12s\n", "round", "phase", "calls/s", "events/s", "lost", "CPU µs/call")
	var baseRate, evRate float64
	var baseCPU, evCPU cpuPer
	for r := 1; r <= rounds; r++ {
		cpu0, _ := processCPU()
		b := runPhase(ctx, d, conc, func(ctx context.Context, w, _ int) error { return send(ctx, w, false) })
		cpu1, _ := processCPU()
		var sent, received atomic.Int64
		rctx, stopReading := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, err := gw.next(rctx); err != nil {
					return
				}
				received.Add(1)
			}
		}()
		start := time.Now()
		p := runPhase(ctx, d, conc, func(ctx context.Context, w, _ int) error {
			err := send(ctx, w, true)
			if err == nil {
				sent.Add(1)
			}
			return err
		})
		for deadline := time.Now().Add(30 * time.Second); received.Load() < sent.Load() && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		stopReading()
		wg.Wait()
		elapsed := time.Since(start)
		cpu2, _ := processCPU()
		lost := sent.Load() - received.Load()
		bc, ec := cpuPer{cpu1 - cpu0, int64(b.n)}, cpuPer{cpu2 - cpu1, received.Load()}
		fmt.Fprintf(out, "%-7d %-24s %10.0f %10s %8s %12s\n", r, "send, no mention", b.rate(), "-", "-", bc)
		fmt.Fprintf(out, "%-7d %-24s %10.0f %10.0f %8d %12s\n", r, "send, mentions the bot", p.rate(), float64(received.Load())/elapsed.Seconds(), lost, ec)
		baseRate += b.rate()
		evRate += float64(received.Load()) / elapsed.Seconds()
		baseCPU, evCPU = baseCPU.add(bc), evCPU.add(ec)
	}
	fmt.Fprintf(out, "all     events/s ÷ calls/s without events: %.2f  (%d gaps or reorders seen: %d)\n", evRate/baseRate, gw.seqErrors, gw.seqErrors)
	if baseCPU.cpu > 0 && evCPU.cpu > 0 {
		fmt.Fprintf(out, "all     CPU µs per call without events %s, per event %s: ratio %.2f (the events/s ratio if CPU bounds both)\n",
			baseCPU, evCPU, baseCPU.micros()/evCPU.micros())
	}

	// 3. Member pages: first vs last of a big group.
	gid := "bench-members"
	if _, err := m.Service.CreateGroup(ctx, group.Admin, group.CreateGroupInput{Group: group.Group{ID: gid, Name: "big", Owner: "owner0", MaxMemberCount: members + 10},
		Members: []group.Member{{UserID: bot.UserID}}}); err != nil {
		return err
	}
	for i := 0; i < members; i += group.DefaultMaxMembersPerCall {
		batch := make([]group.Member, 0, group.DefaultMaxMembersPerCall)
		for j := i; j < i+group.DefaultMaxMembersPerCall && j < members; j++ {
			batch = append(batch, group.Member{UserID: fmt.Sprint("member", j)})
		}
		if err := m.Service.AddMembers(ctx, group.Admin, gid, batch, group.Notify{}); err != nil {
			return err
		}
	}
	ev, err := gw.next(ctx)
	if err != nil {
		return err
	}
	var add struct {
		GroupOpenID string `json:"group_openid"`
	}
	addData, err := ev.data()
	if err != nil {
		return err
	}
	json.Unmarshal(addData, &add)
	const limit = 500
	var starts []int64
	start := int64(0)
	for {
		starts = append(starts, start)
		next, n, err := qq.membersPage(ctx, add.GroupOpenID, start, limit)
		if err != nil {
			return err
		}
		if next == 0 {
			if total := (len(starts)-1)*limit + n; total != members+2 {
				return fmt.Errorf("paged %d members, want %d", total, members+2)
			}
			break
		}
		start = next
	}
	first, last := starts[0], starts[len(starts)-1]
	if len(starts) > 1 {
		last = starts[len(starts)-2] // the last full page
	}
	var tf, tl []time.Duration
	for i := 0; i < 200; i++ {
		for _, x := range []struct {
			start int64
			into  *[]time.Duration
		}{{first, &tf}, {last, &tl}} {
			t0 := time.Now()
			if _, _, err := qq.membersPage(ctx, add.GroupOpenID, x.start, limit); err != nil {
				return err
			}
			*x.into = append(*x.into, time.Since(t0))
		}
	}
	slices.Sort(tf)
	slices.Sort(tl)
	fmt.Fprintf(out, "member page of %d (group of %d, %d pages): first p50 %s, last full page p50 %s, last/first %.2f (goal <= 1.5)\n",
		limit, members+2, len(starts), tf[len(tf)/2].Round(time.Microsecond), tl[len(tl)/2].Round(time.Microsecond), float64(tl[len(tl)/2])/float64(tf[len(tf)/2]))
	return nil
}

// cpuPer is the process's CPU time over some calls or events.
type cpuPer struct {
	cpu time.Duration
	n   int64
}

func (c cpuPer) add(o cpuPer) cpuPer { return cpuPer{c.cpu + o.cpu, c.n + o.n} }

func (c cpuPer) micros() float64 { return float64(c.cpu.Microseconds()) / float64(max(c.n, 1)) }

// String is the CPU µs per call, or "-" where processCPU measures nothing.
func (c cpuPer) String() string {
	if c.cpu <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", c.micros())
}
