package qqbot

import (
	"encoding/json"
	"testing"
)

// FuzzGatewayFrame feeds arbitrary client frames to the gateway's decoders:
// they must never panic, and what they accept must be well formed.
func FuzzGatewayFrame(f *testing.F) {
	for _, b := range badFrames {
		f.Add([]byte(b.frame))
	}
	for _, s := range []string{
		`{"op":2,"d":{"token":"QQBot tok-1","intents":33554432,"shard":[0,1],"properties":{}},"Session":null}`,
		`{"op": 2, "d": {"shard": [0, 1], "token": "QQBot tok-1", "intents": 33554432}}`,
		`{"op":2,"d":{"token":"Bot 102000001.legacytoken","intents":1073741824,"shard":[0,1],"properties":{"$os":"linux"}}}`,
		`{"op":6,"d":{"token":"tok-1","session_id":"sess-1","seq":6},"Session":null}`,
		`{"op": 6, "d": {"token": "QQBot tok-1", "session_id": "sess-1", "seq": 6}}`,
		`{"op":1,"d":0,"Session":null}`,
		`{"op":1,"d":null}`,
		`{"op":2,"d":{"token":"t","shard":[0,0]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, ce := decodeFrame(data)
		if ce != nil {
			if ce.code != closeBadPayload && ce.code != closeUnknownOp {
				t.Fatalf("decodeFrame closes with %d", ce.code)
			}
			return
		}
		switch fr.Op {
		case opHeartbeat:
			_ = checkHeartbeat(fr.D)
		case opIdentify:
			id, ce := decodeIdentify(fr.D)
			if ce != nil {
				return
			}
			if id.Token == nil || *id.Token == "" {
				t.Fatal("identify accepted without a token")
			}
			if sid, n, ce := checkShard(id.Shard, DefaultMaxShards); ce == nil && (n < 1 || n > DefaultMaxShards || sid < 0 || sid >= n) {
				t.Fatalf("shard %v accepted as [%d,%d]", id.Shard, sid, n)
			}
			if id.Intents != nil {
				_ = checkIntents(*id.Intents, 0)
			}
			_, _, _ = parseToken(*id.Token, true)
		case opResume:
			rd, ce := decodeResume(fr.D)
			if ce != nil {
				return
			}
			if rd.Token == nil || *rd.Token == "" || (rd.Seq != nil && *rd.Seq < 0) {
				t.Fatalf("resume accepted: %+v", rd)
			}
		default:
			t.Fatalf("decodeFrame accepted op %d", fr.Op)
		}
	})
}

// FuzzMessageBody feeds arbitrary bodies to the message parser: it must
// never panic, and what it accepts must be a storable payload.
func FuzzMessageBody(f *testing.F) {
	for _, b := range badMessageBodies {
		f.Add([]byte(b.body))
	}
	for _, b := range goodMessageBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, ae := parseMessageBody(data)
		if ae != nil {
			if ae.Status != 400 || ae.Code != codeInvalidRequest {
				t.Fatalf("parse error %+v", ae)
			}
			return
		}
		if req.MsgSeq < 1 {
			t.Fatalf("msg_seq %d", req.MsgSeq)
		}
		switch req.Payload.Type {
		case 1:
			if req.Payload.SearchableContent == "" {
				t.Fatal("empty text accepted")
			}
		case ContentQQMessage:
			if !json.Valid([]byte(req.Payload.Content)) {
				t.Fatalf("stored content is not JSON: %q", req.Payload.Content)
			}
		default:
			t.Fatalf("payload type %d", req.Payload.Type)
		}
	})
}
