package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/delivery"
	"github.com/qun-chat/qun/internal/group"
)

// RunDelivery runs the conformance suite of delivery.Store against the
// stores opener opens.
func RunDelivery(t *testing.T, opener Opener) {
	tests := []struct {
		name string
		test func(t *testing.T, s group.Store, ds delivery.Store)
	}{
		{"Target", testDeliveryTarget},
		{"Lease", testDeliveryLease},
		{"Record", testDeliveryRecord},
		{"Redeliver", testRedeliver},
		{"CallbackBots", testCallbackBots},
		{"ServerLog", testServerLog},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t, opener(t))
			tt.test(t, s, s)
		})
	}
}

// appendEvents appends n events to botID's log.
func appendEvents(t *testing.T, s group.Store, botID string, n int) {
	t.Helper()
	update(t, s, func(tx group.Tx) error {
		for range n {
			if _, err := tx.AppendEvent(group.Event{BotID: botID, Type: group.EventAddRobot, GroupID: "g1", CreatedAt: t0}); err != nil {
				return err
			}
		}
		return nil
	})
}

func testDeliveryTarget(t *testing.T, s group.Store, ds delivery.Store) {
	ctx := t.Context()
	appendEvents(t, s, "bot1", 3)

	// A new stream starts after the bot's last event.
	st, err := ds.SetDeliveryTarget(ctx, "bot1", group.DeliveryWebhook, "http://a.example/hook", 1<<25, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := group.DeliveryStream{BotID: "bot1", Kind: group.DeliveryWebhook, URL: "http://a.example/hook",
		Intents: 1 << 25, Delivered: 3, Epoch: 1, UpdatedAt: t0}
	diff(t, "new stream", want, st)
	got, err := ds.DeliveryStream(ctx, "bot1", group.DeliveryWebhook)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "stream read back", want, got)

	// Another kind of the same bot is its own stream; a bot without events starts at 0.
	if _, err := ds.SetDeliveryTarget(ctx, "bot1", group.DeliveryCallback, "http://b.example/cb", 0, t0); err != nil {
		t.Fatal(err)
	}
	if st, err := ds.SetDeliveryTarget(ctx, "bot2", group.DeliveryWebhook, "http://c.example/", 0, t0); err != nil || st.Delivered != 0 {
		t.Fatalf("stream of a bot without events: %+v, %v", st, err)
	}

	// A new URL for a stream that is on keeps its progress.
	appendEvents(t, s, "bot1", 2)
	st, err = ds.SetDeliveryTarget(ctx, "bot1", group.DeliveryWebhook, "http://a.example/new", 1<<25|1<<30, at(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want.URL, want.Intents, want.Epoch, want.UpdatedAt = "http://a.example/new", 1<<25|1<<30, 2, at(time.Second)
	diff(t, "stream with a new URL", want, st)

	// Off: kept, but not listed; on again: from the log's end.
	if st, err = ds.SetDeliveryTarget(ctx, "bot2", group.DeliveryWebhook, "", 0, t0); err != nil || st.URL != "" || st.Epoch != 2 {
		t.Fatalf("stream turned off: %+v, %v", st, err)
	}
	sts, err := ds.DeliveryStreams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, st := range sts {
		keys = append(keys, st.BotID+"/"+string(st.Kind))
	}
	diff(t, "streams that are on", []string{"bot1/callback", "bot1/webhook"}, keys)
	if _, err := ds.SetDeliveryTarget(ctx, "bot1", group.DeliveryWebhook, "", 0, t0); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, s, "bot1", 1)
	if st, err = ds.SetDeliveryTarget(ctx, "bot1", group.DeliveryWebhook, "http://a.example/again", 0, t0); err != nil || st.Delivered != 6 || st.Epoch != 4 {
		t.Fatalf("stream turned on again: %+v, %v; want delivered 6, epoch 4", st, err)
	}

	_, err = ds.DeliveryStream(ctx, "bot9", group.DeliveryWebhook)
	wantCode(t, "DeliveryStream(unknown)", err, group.ENotExist)
}

func testDeliveryLease(t *testing.T, s group.Store, ds delivery.Store) {
	ctx := t.Context()
	if _, err := ds.SetDeliveryTarget(ctx, "bot1", group.DeliveryWebhook, "http://a.example/", 0, t0); err != nil {
		t.Fatal(err)
	}
	take := func(node string, now time.Time, want bool) group.DeliveryStream {
		t.Helper()
		st, took, err := ds.TakeDeliveryLease(ctx, "bot1", group.DeliveryWebhook, node, now, now.Add(30*time.Second))
		if err != nil || took != want {
			t.Fatalf("%s takes the lease at %v: %v, %v; want %v", node, now.Sub(t0), took, err, want)
		}
		return st
	}
	st := take("node-a", t0, true)
	if st.LeaseNode != "node-a" || !st.LeaseUntil.Equal(at(30*time.Second)) {
		t.Fatalf("lease = %q until %v", st.LeaseNode, st.LeaseUntil)
	}
	take("node-b", at(10*time.Second), false)
	take("node-a", at(10*time.Second), true) // renewed: until 40 s
	take("node-b", at(35*time.Second), false)
	st = take("node-b", at(40*time.Second), true) // expired
	if st.LeaseNode != "node-b" {
		t.Fatalf("lease after take-over = %q", st.LeaseNode)
	}
	// The old holder cannot record progress any more.
	ok, err := ds.RecordDelivery(ctx, group.DeliveryProgress{BotID: "bot1", Kind: group.DeliveryWebhook, Node: "node-a",
		Epoch: st.Epoch, Delivered: 9, UpdatedAt: at(41 * time.Second)}, nil, nil, 10)
	if err != nil || ok {
		t.Fatalf("the old holder recorded progress: %v, %v", ok, err)
	}
	// Released, anyone may take it at once; a release by another node does nothing.
	if err := ds.ReleaseDeliveryLease(ctx, "bot1", group.DeliveryWebhook, "node-a"); err != nil {
		t.Fatal(err)
	}
	take("node-a", at(41*time.Second), false)
	if err := ds.ReleaseDeliveryLease(ctx, "bot1", group.DeliveryWebhook, "node-b"); err != nil {
		t.Fatal(err)
	}
	st = take("node-a", at(41*time.Second), true)
	if st.Delivered != 0 {
		t.Fatalf("progress moved by a refused record: %d", st.Delivered)
	}

	// A node renews all its leases at once, and only its own.
	for _, b := range []string{"bot2", "bot3"} {
		if _, err := ds.SetDeliveryTarget(ctx, b, group.DeliveryWebhook, "http://a.example/", 0, t0); err != nil {
			t.Fatal(err)
		}
	}
	if _, took, err := ds.TakeDeliveryLease(ctx, "bot2", group.DeliveryWebhook, "node-a", t0, at(time.Minute)); err != nil || !took {
		t.Fatalf("take bot2: %v %v", took, err)
	}
	if _, took, err := ds.TakeDeliveryLease(ctx, "bot3", group.DeliveryWebhook, "node-b", t0, at(time.Minute)); err != nil || !took {
		t.Fatalf("take bot3: %v %v", took, err)
	}
	renewed, err := ds.RenewDeliveryLeases(ctx, "node-a", at(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range renewed {
		if r.LeaseNode != "node-a" || !r.LeaseUntil.Equal(at(2*time.Hour)) {
			t.Errorf("renewed %+v", r)
		}
		keys = append(keys, r.BotID)
	}
	slices.Sort(keys)
	diff(t, "streams renewed for node-a", []string{"bot1", "bot2"}, keys)
	if other, err := ds.DeliveryStream(ctx, "bot3", group.DeliveryWebhook); err != nil || !other.LeaseUntil.Equal(at(time.Minute)) || other.LeaseNode != "node-b" {
		t.Fatalf("node-b's lease after node-a renewed: %+v, %v", other, err)
	}
	if none, err := ds.RenewDeliveryLeases(ctx, "node-c", at(time.Hour)); err != nil || len(none) != 0 {
		t.Fatalf("a node without leases renewed %+v, %v", none, err)
	}

	_, _, err = ds.TakeDeliveryLease(ctx, "bot9", group.DeliveryWebhook, "node-a", t0, at(time.Second))
	wantCode(t, "TakeDeliveryLease(unknown)", err, group.ENotExist)
}

func testDeliveryRecord(t *testing.T, s group.Store, ds delivery.Store) {
	ctx := t.Context()
	st, err := ds.SetDeliveryTarget(ctx, "bot1", group.DeliveryWebhook, "http://a.example/", 0, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ds.SetDeliveryTarget(ctx, "bot1", group.DeliveryCallback, "http://b.example/", 0, t0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ds.TakeDeliveryLease(ctx, "bot1", group.DeliveryWebhook, "node-a", t0, at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	attempt := func(seq int64, status int, e string) group.DeliveryAttempt {
		return group.DeliveryAttempt{BotID: "bot1", Kind: group.DeliveryWebhook, Seq: seq, ItemID: "GROUP_ADD_ROBOT:" + string(rune('a'+seq)),
			Type: "GROUP_ADD_ROBOT", Status: status, Error: e, At: at(time.Duration(seq) * time.Second), Duration: 12 * time.Millisecond}
	}
	p := group.DeliveryProgress{BotID: "bot1", Kind: group.DeliveryWebhook, Node: "node-a", Epoch: st.Epoch,
		Delivered: 2, LastError: "HTTP 500", NextAttempt: at(5 * time.Second), LeaseUntil: at(2 * time.Minute), UpdatedAt: at(3 * time.Second)}
	attempts := []group.DeliveryAttempt{attempt(1, 200, ""), attempt(2, 200, ""), attempt(3, 500, "HTTP 500")}
	drops := []group.DeliveryDrop{{BotID: "bot1", Kind: group.DeliveryWebhook, FromSeq: 7, ToSeq: 9, Error: "pruned", At: at(3 * time.Second)}}
	ok, err := ds.RecordDelivery(ctx, p, attempts, drops, 2)
	if err != nil || !ok {
		t.Fatalf("RecordDelivery: %v, %v", ok, err)
	}
	got, err := ds.DeliveryStream(ctx, "bot1", group.DeliveryWebhook)
	if err != nil {
		t.Fatal(err)
	}
	want := group.DeliveryStream{BotID: "bot1", Kind: group.DeliveryWebhook, URL: "http://a.example/", Delivered: 2, Epoch: st.Epoch,
		LastError: "HTTP 500", NextAttempt: at(5 * time.Second), Dropped: 3, LeaseNode: "node-a", LeaseUntil: at(2 * time.Minute), UpdatedAt: at(3 * time.Second)}
	diff(t, "stream after RecordDelivery", want, got)

	// Only the newest keep attempts stay, newest first.
	as, err := ds.DeliveryAttempts(ctx, "bot1", group.DeliveryWebhook, 10)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "attempts", []group.DeliveryAttempt{attempt(3, 500, "HTTP 500"), attempt(2, 200, "")}, as)
	if as, err := ds.DeliveryAttempts(ctx, "bot1", group.DeliveryWebhook, 1); err != nil || len(as) != 1 || as[0].Seq != 3 {
		t.Fatalf("attempts with limit 1: %+v, %v", as, err)
	}
	if as, err := ds.DeliveryAttempts(ctx, "bot1", group.DeliveryCallback, 10); err != nil || len(as) != 0 {
		t.Fatalf("attempts of another stream: %+v, %v", as, err)
	}
	dr, err := ds.DeliveryDrops(ctx, "bot1", group.DeliveryWebhook, 10)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "drops", drops, dr)

	// A later record adds to the count of dropped events and keeps the bound.
	p.Delivered, p.LastError, p.NextAttempt = 10, "", time.Time{}
	more := []group.DeliveryDrop{
		{BotID: "bot1", Kind: group.DeliveryWebhook, FromSeq: 10, ToSeq: 10, ItemID: "x", Type: "GROUP_DEL_ROBOT", Error: "HTTP 500", At: at(4 * time.Second)},
		{BotID: "bot1", Kind: group.DeliveryWebhook, FromSeq: 11, ToSeq: 11, ItemID: "y", Type: "GROUP_DEL_ROBOT", Error: "timeout", At: at(5 * time.Second)},
	}
	if ok, err := ds.RecordDelivery(ctx, p, []group.DeliveryAttempt{attempt(4, 200, "")}, more, 2); err != nil || !ok {
		t.Fatalf("RecordDelivery: %v, %v", ok, err)
	}
	got, _ = ds.DeliveryStream(ctx, "bot1", group.DeliveryWebhook)
	if got.Dropped != 5 || got.Delivered != 10 || got.LastError != "" || !got.NextAttempt.IsZero() {
		t.Fatalf("stream after the second record: %+v", got)
	}
	dr, _ = ds.DeliveryDrops(ctx, "bot1", group.DeliveryWebhook, 10)
	diff(t, "drops after the second record", []group.DeliveryDrop{more[1], more[0]}, dr)

	// A stale epoch records nothing.
	p.Epoch--
	if ok, err := ds.RecordDelivery(ctx, p, []group.DeliveryAttempt{attempt(5, 200, "")}, nil, 2); err != nil || ok {
		t.Fatalf("RecordDelivery with a stale epoch: %v, %v", ok, err)
	}
	as, _ = ds.DeliveryAttempts(ctx, "bot1", group.DeliveryWebhook, 10)
	diff(t, "attempts after a refused record", []group.DeliveryAttempt{attempt(4, 200, ""), attempt(3, 500, "HTTP 500")}, as)
}

func testRedeliver(t *testing.T, s group.Store, ds delivery.Store) {
	ctx := t.Context()
	appendEvents(t, s, "bot1", 5)
	st, err := ds.SetDeliveryTarget(ctx, "bot1", group.DeliveryWebhook, "http://a.example/", 0, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ds.TakeDeliveryLease(ctx, "bot1", group.DeliveryWebhook, "node-a", t0, at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ok, err := ds.RecordDelivery(ctx, group.DeliveryProgress{BotID: "bot1", Kind: group.DeliveryWebhook, Node: "node-a", Epoch: st.Epoch,
		Delivered: 5, LastError: "HTTP 500", NextAttempt: at(time.Second), LeaseUntil: at(time.Minute), UpdatedAt: t0}, nil, nil, 10)
	if err != nil || !ok {
		t.Fatalf("RecordDelivery: %v, %v", ok, err)
	}
	re, err := ds.Redeliver(ctx, "bot1", group.DeliveryWebhook, 2, at(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if re.Delivered != 1 || re.Epoch != st.Epoch+1 || re.LastError != "" || !re.NextAttempt.IsZero() || re.LeaseNode != "node-a" {
		t.Fatalf("stream after Redeliver from 2: %+v", re)
	}
	// The holder's progress for the old epoch is refused; it reads the stream again.
	ok, err = ds.RecordDelivery(ctx, group.DeliveryProgress{BotID: "bot1", Kind: group.DeliveryWebhook, Node: "node-a", Epoch: st.Epoch,
		Delivered: 6, LeaseUntil: at(time.Minute), UpdatedAt: t0}, nil, nil, 10)
	if err != nil || ok {
		t.Fatalf("RecordDelivery for the old epoch: %v, %v", ok, err)
	}
	if re, err = ds.Redeliver(ctx, "bot1", group.DeliveryWebhook, 0, at(time.Second)); err != nil || re.Delivered != 0 {
		t.Fatalf("Redeliver from 0: %+v, %v", re, err)
	}

	if _, err := ds.SetDeliveryTarget(ctx, "bot1", group.DeliveryWebhook, "", 0, t0); err != nil {
		t.Fatal(err)
	}
	_, err = ds.Redeliver(ctx, "bot1", group.DeliveryWebhook, 1, t0)
	wantCode(t, "Redeliver(off)", err, group.ENotExist)
	_, err = ds.Redeliver(ctx, "bot9", group.DeliveryWebhook, 1, t0)
	wantCode(t, "Redeliver(unknown)", err, group.ENotExist)
}

// testCallbackBots: the robots a group's messages are recorded for.
func testCallbackBots(t *testing.T, s group.Store, _ delivery.Store) {
	put(t, s, users, group.User{ID: "alice", Name: "alice", UpdatedAt: t0})
	for _, b := range []struct{ id, callback string }{{"bot1", "http://a/"}, {"bot2", "http://b/"}, {"bot3", ""}, {"bot4", "http://d/"}} {
		put(t, s, users, group.User{ID: b.id, Name: b.id, Type: group.UserRobot, UpdatedAt: t0})
		put(t, s, bots, group.Bot{UserID: b.id, Secret: "s", Callback: b.callback, AppID: "app-" + b.id, UpdatedAt: t0})
	}
	put(t, s, groups, group.Group{ID: "g", Name: "g", Owner: "alice", CreatedAt: t0, UpdatedAt: t0})
	put(t, s, members, member("g", "alice", group.MemberOwner), member("g", "bot2", group.MemberNormal), member("g", "bot1", group.MemberManager),
		member("g", "bot3", group.MemberNormal), member("g", "bot4", group.MemberRemoved))
	for _, tt := range []struct {
		group string
		want  []string
	}{{"g", []string{"bot1", "bot2"}}, {"nope", nil}} {
		diff(t, "CallbackBots("+tt.group+")", tt.want, read(t, s, func(r group.Reader) ([]string, error) { return r.CallbackBots(tt.group) }))
	}
	// Inside an Update too, as the domain reads it.
	update(t, s, func(tx group.Tx) error {
		got, err := tx.CallbackBots("g")
		diff(t, "CallbackBots(g) in an Update", []string{"bot1", "bot2"}, got)
		return err
	})
	// It follows members becoming robots with a callback, and robots
	// getting one or leaving, in id order; an Update reads its own changes.
	put(t, s, bots, group.Bot{UserID: "alice", Secret: "s", Callback: "http://alice/", AppID: "app-alice", UpdatedAt: t0},
		group.Bot{UserID: "bot3", Secret: "s", Callback: "http://c/", AppID: "app-bot3", UpdatedAt: t0})
	diff(t, "CallbackBots(g) once alice and bot3 have callbacks", []string{"alice", "bot1", "bot2", "bot3"},
		read(t, s, func(r group.Reader) ([]string, error) { return r.CallbackBots("g") }))
	put(t, s, members, member("g", "bot4", group.MemberNormal), member("g", "bot2", group.MemberRemoved))
	diff(t, "CallbackBots(g) once bot4 is back and bot2 left", []string{"alice", "bot1", "bot3", "bot4"},
		read(t, s, func(r group.Reader) ([]string, error) { return r.CallbackBots("g") }))
	update(t, s, func(tx group.Tx) error {
		if err := tx.PutMember(member("g", "carol", group.MemberNormal)); err != nil {
			return err
		}
		if err := tx.PutBot(group.Bot{UserID: "carol", Secret: "s", Callback: "http://carol/", AppID: "app-carol", UpdatedAt: t0}); err != nil {
			return err
		}
		got, err := tx.CallbackBots("g")
		diff(t, "CallbackBots(g) in the Update that made carol a robot", []string{"alice", "bot1", "bot3", "bot4", "carol"}, got)
		return err
	})
}

// testServerLog: the server's own log (BotID "") keeps events with data like
// any bot's, and wakes its waiters.
func testServerLog(t *testing.T, s group.Store, _ delivery.Store) {
	wake := s.WaitEvents(group.ServerLog)
	e := group.Event{BotID: group.ServerLog, Type: group.EventGroupMember, GroupID: "g", OperatorID: "alice",
		Data: `{"type":2,"memberIds":["bob","carol"]}`, CreatedAt: t0}
	update(t, s, func(tx group.Tx) error {
		_, err := tx.AppendEvent(e)
		return err
	})
	e.Seq = 1
	select {
	case <-wake:
	case <-time.After(30 * time.Second):
		t.Fatal("WaitEvents of the server log did not wake")
	}
	got := read(t, s, func(r group.Reader) ([]group.Event, error) { return r.Events(group.ServerLog, 0, 10) })
	diff(t, "the server log", []group.Event{e}, got)
	if last := read(t, s, func(r group.Reader) (int64, error) { return r.LastEventSeq(group.ServerLog) }); last != 1 {
		t.Errorf("last seq %d, want 1", last)
	}
}
