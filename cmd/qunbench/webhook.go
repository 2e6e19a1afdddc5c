package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// benchWebhook measures QQ webhook delivery against the gateway in the same
// run: one bot with a gateway session and a webhook at a loopback receiver
// (which answers op 13 and acks every event), and
//   - latency from an Admin call's return (its commit) to the POST at the
//     receiver, one event at a time, beside the gateway frame's;
//   - events/s delivered by each while 64 senders mention the bot, every
//     event checked to arrive once, in order, at both;
//   - the webhook's own pace on a backlog: the rounds' events redelivered.
func benchWebhook(ctx context.Context, out io.Writer, b benchSetup, d time.Duration, rounds, conc int) error {
	m, stop, err := benchServer(ctx, b, 1)
	if err != nil {
		return err
	}
	defer stop()
	t := targetOf(m, conc)
	admin := t.adminAPI
	bot, err := t.createBot(ctx, "benchbot", "Bench")
	if err != nil {
		return err
	}
	rcv, err := newBenchReceiver(bot.AppSecret)
	if err != nil {
		return err
	}
	defer rcv.close()
	if err := ok(admin.Call(ctx, "/admin/robot/webhook", map[string]any{"robotId": bot.UserID, "url": rcv.url}, nil)); err != nil {
		return err
	}
	load, err := newEventLoad(ctx, t, t, bot, "bench-webhook-", conc)
	if err != nil {
		return err
	}
	defer load.gw.conn.CloseNow()
	gw := load.gw
	if err := drain(ctx, conc, rcv.next); err != nil { // the webhook's GROUP_ADD_ROBOT events
		return err
	}
	send := func(ctx context.Context, w int) error { return load.senders.send(ctx, w, true) }

	fmt.Fprintf(out, "qunbench webhook: %s, one bot with a gateway session and a webhook on loopback, %d senders, %d rounds of %s, GOMAXPROCS %d, %s/%s\n",
		b.store(), conc, rounds, d, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)

	// 1. Latency, one event at a time: the call's return to the POST and to the frame.
	var hook, frame []time.Duration
	for i := 0; i < 500; i++ {
		if err := send(ctx, i%conc); err != nil {
			return err
		}
		returned := time.Now()
		ev, err := gw.next(ctx)
		if err != nil {
			return err
		}
		post, err := rcv.next(ctx)
		if err != nil {
			return err
		}
		frame, hook = append(frame, ev.at.Sub(returned)), append(hook, post.at.Sub(returned))
	}
	slices.Sort(frame)
	slices.Sort(hook)
	p := func(ls []time.Duration, q int) time.Duration { return ls[len(ls)*q/100].Round(time.Microsecond) }
	fmt.Fprintf(out, "latency, Admin call return -> webhook POST at the receiver (500 events): p50 %s  p99 %s  max %s (goal p99 <= 10ms)\n",
		p(hook, 50), p(hook, 99), hook[len(hook)-1].Round(time.Microsecond))
	fmt.Fprintf(out, "latency, Admin call return -> gateway frame, same events:                 p50 %s  p99 %s  max %s\n",
		p(frame, 50), p(frame, 99), frame[len(frame)-1].Round(time.Microsecond))

	// 2. Throughput: both consumers of the same events, each counted until it has them all.
	fmt.Fprintf(out, "%-7s %10s %12s %12s %8s\n", "round", "calls/s", "gateway ev/s", "webhook ev/s", "ratio")
	var gwSum, hookSum float64
	sentAll := 0
	for r := 1; r <= rounds; r++ {
		var sent atomic.Int64
		// Each consumer counts its events and notes when the last came.
		type tally struct {
			mu   sync.Mutex
			got  int64
			last time.Time
		}
		var gt, ht tally
		var wg sync.WaitGroup
		rctx, stopReading := context.WithCancel(ctx)
		count := func(next func(context.Context) (time.Time, error), t *tally) {
			defer wg.Done()
			for {
				at, err := next(rctx)
				if err != nil {
					return
				}
				t.mu.Lock()
				t.got, t.last = t.got+1, at
				t.mu.Unlock()
			}
		}
		wg.Add(2)
		go count(func(ctx context.Context) (time.Time, error) { f, err := gw.next(ctx); return f.at, err }, &gt)
		go count(func(ctx context.Context) (time.Time, error) { f, err := rcv.next(ctx); return f.at, err }, &ht)
		start := time.Now()
		ph := runPhase(ctx, d, conc, func(ctx context.Context, w, _ int) error {
			err := send(ctx, w)
			if err == nil {
				sent.Add(1)
			}
			return err
		})
		read := func(t *tally) (int64, time.Time) {
			t.mu.Lock()
			defer t.mu.Unlock()
			return t.got, t.last
		}
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			g, _ := read(&gt)
			h, _ := read(&ht)
			if g >= sent.Load() && h >= sent.Load() {
				break
			}
		}
		stopReading()
		wg.Wait()
		gwGot, gwDone := read(&gt)
		hookGot, hookDone := read(&ht)
		if gwGot != sent.Load() || hookGot != sent.Load() {
			return fmt.Errorf("round %d: %d events sent, the gateway got %d, the webhook %d", r, sent.Load(), gwGot, hookGot)
		}
		sentAll += int(sent.Load())
		g, h := float64(gwGot)/gwDone.Sub(start).Seconds(), float64(hookGot)/hookDone.Sub(start).Seconds()
		fmt.Fprintf(out, "%-7d %10.0f %12.0f %12.0f %8.2f\n", r, ph.rate(), g, h, h/g)
		gwSum, hookSum = gwSum+g, hookSum+h
	}
	fmt.Fprintf(out, "all     webhook ev/s ÷ gateway ev/s: %.2f (goal >= 0.5); gaps or reorders: gateway %d, webhook %d\n",
		hookSum/gwSum, gw.seqErrors, rcv.seqErrors)

	// 3. A backlog: every event of the rounds sent again (redeliver), as fast as the stream goes.
	last := rcv.lastSeq
	from := last - int64(sentAll) + 1
	rcv.lastSeq = from - 1
	start := time.Now()
	// from is a frame's s; from_seq is a log seq, one less.
	if err := ok(admin.Call(ctx, "/admin/robot/redeliver", map[string]any{"robotId": bot.UserID, "from_seq": from - 1}, nil)); err != nil {
		return err
	}
	var at time.Time
	for n := 0; n < sentAll; n++ {
		p, err := rcv.next(ctx)
		if err != nil {
			return err
		}
		at = p.at
	}
	fmt.Fprintf(out, "backlog of %d events redelivered: %.0f ev/s, %.2f of the rounds' gateway ev/s; gaps or reorders: %d\n",
		sentAll, float64(sentAll)/at.Sub(start).Seconds(), float64(sentAll)/at.Sub(start).Seconds()/(gwSum/float64(rounds)), rcv.seqErrors)
	return nil
}

// benchReceiver is a webhook receiver on loopback: it answers op 13 with the
// bot's key and acks every event, noting when each arrived.
type benchReceiver struct {
	url       string
	srv       *http.Server
	key       ed25519.PrivateKey
	posts     chan benchPost
	lastSeq   int64
	seqErrors int
}

type benchPost struct {
	s  int64
	at time.Time
}

func newBenchReceiver(appSecret string) (*benchReceiver, error) {
	seed := appSecret
	for len(seed) < ed25519.SeedSize {
		seed = strings.Repeat(seed, 2)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &benchReceiver{url: "http://" + l.Addr().String() + "/qqbot", key: ed25519.NewKeyFromSeed([]byte(seed[:ed25519.SeedSize])),
		posts: make(chan benchPost, 1<<20)}
	r.srv = &http.Server{Handler: r}
	go r.srv.Serve(l)
	return r, nil
}

func (r *benchReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	var p struct {
		Op int   `json:"op"`
		S  int64 `json:"s"`
		D  struct {
			PlainToken string `json:"plain_token"`
			EventTS    string `json:"event_ts"`
		} `json:"d"`
	}
	if err := json.NewDecoder(req.Body).Decode(&p); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if p.Op == 13 {
		sig := ed25519.Sign(r.key, []byte(p.D.EventTS+p.D.PlainToken))
		json.NewEncoder(w).Encode(map[string]string{"plain_token": p.D.PlainToken, "signature": hex.EncodeToString(sig)})
		return
	}
	r.posts <- benchPost{s: p.S, at: at}
	io.WriteString(w, `{"op":12,"d":0}`)
}

// next returns the next event POSTed, checking that seqs only grow by one.
func (r *benchReceiver) next(ctx context.Context) (benchPost, error) {
	select {
	case p := <-r.posts:
		if r.lastSeq != 0 && p.s != r.lastSeq+1 {
			r.seqErrors++
		}
		r.lastSeq = p.s
		return p, nil
	case <-ctx.Done():
		return benchPost{}, ctx.Err()
	}
}

func (r *benchReceiver) close() { r.srv.Close() }
