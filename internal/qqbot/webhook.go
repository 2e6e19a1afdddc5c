package qqbot

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// Webhook (HTTP callback) mode: the bot's events rendered as gateway frames
// and signed as the platform signs them. The delivery engine POSTs them; this
// file decides only what they look like.

// opValidation is the op of the webhook validation request (op 13), opCallbackAck of the bot's answer to an event.
const (
	opValidation  = 13
	opCallbackAck = 12
)

// DefaultWebhookIntents are the intents of a webhook set without any: every group event.
const DefaultWebhookIntents = intentGroupAndC2C

// Webhook headers, as the platform sends them (botgo reads the first two).
const (
	headerSignature = "X-Signature-Ed25519"
	headerTimestamp = "X-Signature-Timestamp"
	headerAppID     = "X-Bot-Appid"
	webhookAgent    = "QQBot-Callback"
)

// WebhookItem is one event of a bot's log as its webhook carries it.
type WebhookItem struct {
	Seq       int64
	ID        string // the frame id; also the event_id of a passive message
	Type      string
	Body      []byte // the frame; nil when the webhook's intents do not want the event
	CreatedAt time.Time
	// Header returns the signed headers of an attempt at now.
	Header func(now time.Time) http.Header
}

// webhookKey derives the Ed25519 key pair of a bot's webhook from its app
// secret, as the platform and botgo do: the secret repeated until it fills a
// seed, cut to the seed's size.
func webhookKey(secret string) (ed25519.PrivateKey, error) {
	if secret == "" {
		return nil, errors.New("the bot has no app secret")
	}
	seed := secret
	for len(seed) < ed25519.SeedSize {
		seed = strings.Repeat(seed, 2)
	}
	return ed25519.NewKeyFromSeed([]byte(seed[:ed25519.SeedSize])), nil
}

// webhookHeader signs body at timestamp ts (unix seconds, as text): the
// signature is of ts followed by the body.
func webhookHeader(key ed25519.PrivateKey, appID, ts string, body []byte) http.Header {
	msg := make([]byte, 0, len(ts)+len(body))
	msg = append(append(msg, ts...), body...)
	h := make(http.Header, 5)
	h.Set(headerSignature, hex.EncodeToString(ed25519.Sign(key, msg)))
	h.Set(headerTimestamp, ts)
	h.Set(headerAppID, appID)
	h.Set("User-Agent", webhookAgent)
	h.Set("Content-Type", "application/json")
	return h
}

// webhookWants reports whether a webhook with intents carries e: every
// group event needs GROUP_AND_C2C_EVENT, and events that are not the QQ
// gateway's (such as a Wildfire robot's messages) never go out here.
func webhookWants(intents int64, e group.Event) bool {
	return intents&intentGroupAndC2C != 0 && isGatewayEvent(e.Type)
}

// isGatewayEvent reports whether t is one of the QQ gateway's events.
func isGatewayEvent(t group.EventType) bool {
	switch t {
	case group.EventAddRobot, group.EventDelRobot, group.EventMsgReject, group.EventMsgAccept, group.EventAtMessage:
		return true
	}
	return false
}

// WebhookItems renders botID's events after seq after, at most limit, as
// its webhook with intents carries them, and returns the bot's last event
// seq. The openids they show are stored before they are returned.
func (s *Server) WebhookItems(ctx context.Context, botID string, intents int64, after int64, limit int) ([]WebhookItem, int64, error) {
	items, last, b, err := s.renderLog(ctx, botID, after, limit, func(e group.Event) bool { return webhookWants(intents, e) })
	if err != nil {
		return nil, 0, fmt.Errorf("qqbot: webhook events of bot %q: %w", botID, err)
	}
	key, err := webhookKey(b.AppSecret)
	if err != nil {
		return nil, 0, fmt.Errorf("qqbot: webhook of bot %q: %w", botID, err)
	}
	for i := range items {
		if body := items[i].Body; body != nil {
			items[i].Header = func(now time.Time) http.Header {
				return webhookHeader(key, b.AppID, strconv.FormatInt(now.Unix(), 10), body)
			}
		}
	}
	return items, last, nil
}

// renderLog reads botID's events after seq after, at most limit, and
// renders those wanted as their op 0 frames, byte for byte what the gateway
// writes for them (the others get no Body); it returns them with the bot's
// last event seq and its Bot record. The openids the frames show are stored
// before they are returned.
func (s *Server) renderLog(ctx context.Context, botID string, after int64, limit int, wanted func(group.Event) bool) ([]WebhookItem, int64, group.Bot, error) {
	var items []WebhookItem
	var last int64
	var b group.Bot
	ids := s.newOpenIDs(botID)
	err := s.store.View(ctx, func(r group.Reader) error {
		var err error
		if b, err = r.Bot(botID); err != nil {
			return err
		}
		if last, err = r.LastEventSeq(botID); err != nil {
			return err
		}
		evs, err := r.Events(botID, after, limit)
		if err != nil {
			return err
		}
		src, err := readEventSources(r, botID, evs, wanted)
		if err != nil {
			return err
		}
		for _, e := range evs {
			it := WebhookItem{Seq: e.Seq, ID: s.eventID(botID, e.Type, e.Seq), Type: string(e.Type), CreatedAt: e.CreatedAt}
			if wanted(e) {
				f := s.renderEvent(&src, ids, e, s.openID(botID, group.OpenIDGroup, e.GroupID))
				if it.Body, err = json.Marshal(f); err != nil {
					return fmt.Errorf("encode event %d: %w", e.Seq, err)
				}
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, 0, group.Bot{}, err
	}
	if err := ids.store(ctx); err != nil {
		return nil, 0, group.Bot{}, err
	}
	return items, last, b, nil
}

// CheckWebhookAck judges the body of a 2xx answer to an event: empty or
// {"op":12,"d":0} is delivered; {"op":12,"d":1} (the bot's handler failed)
// and anything else is retried.
func CheckWebhookAck(body []byte) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	var ack struct {
		Op *int   `json:"op"`
		D  *int64 `json:"d"`
	}
	if err := json.Unmarshal(body, &ack); err != nil || ack.Op == nil || *ack.Op != opCallbackAck || ack.D == nil {
		return fmt.Errorf("the answer is not {\"op\":12,\"d\":0}: %.100q", body)
	}
	if *ack.D != 0 {
		return fmt.Errorf("the bot answered d:%d: its handler failed", *ack.D)
	}
	return nil
}

// WebhookValidation is one op 13 validation request of a bot's webhook.
type WebhookValidation struct {
	Body   []byte
	Header http.Header
	// Check judges the answer's status and body: nil means the URL is the bot's.
	Check func(status int, body []byte) error
}

// NewWebhookValidation builds the op 13 request that proves a URL answers
// for botID, signed like every callback (with event_ts as its timestamp):
// the answer must echo plain_token with a signature of event_ts+plain_token
// that verifies with the bot's key.
func (s *Server) NewWebhookValidation(ctx context.Context, botID string) (WebhookValidation, error) {
	var b group.Bot
	err := s.store.View(ctx, func(r group.Reader) (err error) {
		b, err = r.Bot(botID)
		return err
	})
	if err != nil {
		return WebhookValidation{}, err
	}
	key, err := webhookKey(b.AppSecret)
	if err != nil {
		return WebhookValidation{}, group.Errorf(group.EInvalidParam, "%v", err)
	}
	plain := group.RandomString(20)
	ts := strconv.FormatInt(s.now().Unix(), 10)
	body, err := json.Marshal(struct {
		D  validationData `json:"d"`
		Op int            `json:"op"`
	}{validationData{PlainToken: plain, EventTS: ts}, opValidation})
	if err != nil {
		return WebhookValidation{}, err
	}
	pub := key.Public().(ed25519.PublicKey)
	check := func(status int, answer []byte) error {
		if status < 200 || status > 299 {
			return fmt.Errorf("validation answered HTTP %d", status)
		}
		var a struct {
			PlainToken string `json:"plain_token"`
			Signature  string `json:"signature"`
		}
		if len(bytes.TrimSpace(answer)) == 0 {
			// botgo answers so when the request's signature does not verify.
			return errors.New("validation answered an empty body: does the receiver have the bot's app secret?")
		}
		if err := json.Unmarshal(answer, &a); err != nil {
			return fmt.Errorf("validation answer is not {plain_token, signature}: %.100q", answer)
		}
		if a.PlainToken != plain {
			return errors.New("validation answer does not echo plain_token")
		}
		sig, err := hex.DecodeString(a.Signature)
		if err != nil || !ed25519.Verify(pub, []byte(ts+plain), sig) {
			return errors.New("validation answer's signature does not verify with the bot's app secret")
		}
		return nil
	}
	return WebhookValidation{Body: body, Header: webhookHeader(key, b.AppID, ts, body), Check: check}, nil
}

type validationData struct {
	PlainToken string `json:"plain_token"`
	EventTS    string `json:"event_ts"`
}
