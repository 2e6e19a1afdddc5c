package qqbot

import (
	"context"
	"testing"

	"github.com/coder/websocket"
)

// EventFrames shows, byte for byte, the frames a gateway session was sent.
func TestEventFramesAreTheGatewayFrames(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	w := e.dial()
	w.identify(e.token(bot), intentsGroup, [2]int{0, 1})
	e.createGroup("alice", "g1", "bot1")
	e.mention("alice", "g1", "@QunBot ping", "bot1")
	var sent [][]byte
	for range 2 {
		ctx, cancel := context.WithTimeout(e.ctx(), wait)
		typ, data, err := w.c.Read(ctx)
		cancel()
		if err != nil || typ != websocket.MessageText {
			t.Fatalf("read: %v", err)
		}
		sent = append(sent, data)
	}

	frames, last, err := e.srv.EventFrames(e.ctx(), "bot1", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 2 || last != 2 {
		t.Fatalf("EventFrames = %d frames, last %d; want 2, 2", len(frames), last)
	}
	for i, f := range frames {
		if f.Seq != int64(i+1) || string(f.Body) != string(sent[i]) {
			t.Errorf("frame %d: seq %d\n%s\nthe gateway sent\n%s", i, f.Seq, f.Body, sent[i])
		}
	}
	frames, last, err = e.srv.EventFrames(e.ctx(), "bot1", 1, 10)
	if err != nil || len(frames) != 1 || frames[0].Seq != 2 || last != 2 {
		t.Errorf("after 1: %v, last %d, %v; want the second", frames, last, err)
	}
	if frames, last, err = e.srv.EventFrames(e.ctx(), "bot1", 0, 0); err != nil || len(frames) != 0 || last != 2 {
		t.Errorf("limit 0: %d frames, last %d, %v; want none and the last seq", len(frames), last, err)
	}
	if _, _, err := e.srv.EventFrames(e.ctx(), "nobody", 0, 10); err == nil {
		t.Error("EventFrames of no bot: no error")
	}
}
