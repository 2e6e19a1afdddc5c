package qqbot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/qun-chat/qun/internal/group"
)

// openIDKeySetting is the store setting holding the hex-encoded openid key.
const openIDKeySetting = "openid_key"

// loadOpenIDKey reads the server's openid key, creating it on first start.
// The key lives in the store, so every node derives the same openids.
func loadOpenIDKey(ctx context.Context, st Store) ([]byte, error) {
	v, err := st.Setting(ctx, openIDKeySetting)
	if group.IsNotExist(err) {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("openid key: %w", err)
		}
		// Another node may create it meanwhile: the first one is kept.
		v, err = st.CreateSetting(ctx, openIDKeySetting, hex.EncodeToString(b[:]))
	}
	if err != nil {
		return nil, fmt.Errorf("openid key: %w", err)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("openid key: setting %q is not at least 16 hex-encoded bytes", openIDKeySetting)
	}
	return key, nil
}

// openIDKey names one openid of one bot in the mapping cache.
type openIDKey struct{ bot, openID string }

// openID returns the id botID sees for an internal group or user id: 32
// upper-case hex characters, the first 16 bytes of
// HMAC-SHA256(key, botID 0x00 kind 0x00 internalID). A user's member openid is
// the same in every group of one bot; it differs between bots.
func (s *Server) openID(botID, kind, internalID string) string {
	if internalID == "" {
		return ""
	}
	sum := s.mac(botID, kind, internalID)
	const upperHex = "0123456789ABCDEF"
	var x [32]byte
	for i, b := range sum[:16] {
		x[2*i], x[2*i+1] = upperHex[b>>4], upperHex[b&0x0f]
	}
	return string(x[:])
}

// openIDs collects the openids rendered to one bot, so that their mappings
// can be stored (once) before the bot sees them. Mappings are facts that
// never change, so only those the store lacks are written: a node with a
// cold cache reads them, in one batch, and writes nothing for a bot it
// shows known ids to.
type openIDs struct {
	s     *Server
	botID string
	fresh []group.OpenID
	seen  map[string]bool
}

func (s *Server) newOpenIDs(botID string) *openIDs {
	return &openIDs{s: s, botID: botID, seen: make(map[string]bool)}
}

// id returns the openid of an internal id and notes its mapping if it is not known yet.
func (o *openIDs) id(kind, internalID string) string {
	return o.add(kind, internalID, o.s.openID(o.botID, kind, internalID))
}

// add is id for an openid the caller computed (and keeps) already.
func (o *openIDs) add(kind, internalID, id string) string {
	if id == "" || o.seen[id] {
		return id
	}
	o.seen[id] = true
	if _, ok := o.s.openids.get(openIDKey{o.botID, id}); !ok {
		o.fresh = append(o.fresh, group.OpenID{BotID: o.botID, OpenID: id, Kind: kind, InternalID: internalID})
	}
	return id
}

// store makes sure the mappings not cached yet are in the store: it reads
// them in one batch and writes, in one transaction, those that are missing;
// then it caches them all.
func (o *openIDs) store(ctx context.Context) error {
	if len(o.fresh) == 0 {
		return nil
	}
	ids := make([]string, len(o.fresh))
	for i, m := range o.fresh {
		ids[i] = m.OpenID
	}
	known, err := o.s.store.OpenIDs(ctx, o.botID, ids)
	if err != nil {
		return fmt.Errorf("read openids: %w", err)
	}
	stored := make(map[string]bool, len(known))
	for _, m := range known {
		stored[m.OpenID] = true
		o.s.openids.put(openIDKey{m.BotID, m.OpenID}, m)
	}
	var missing []group.OpenID
	for _, m := range o.fresh {
		if !stored[m.OpenID] {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		if err := o.s.store.PutOpenIDs(ctx, missing); err != nil {
			return fmt.Errorf("store openids: %w", err)
		}
		for _, m := range missing {
			o.s.openids.put(openIDKey{m.BotID, m.OpenID}, m)
		}
	}
	o.fresh = o.fresh[:0]
	return nil
}

// resolve maps a bot's openid of the given kind back to the internal id. An
// openid this bot was never shown (another bot's, or made up) is ENotExist.
func (s *Server) resolve(ctx context.Context, botID, kind, openID string) (string, error) {
	unknown := &apiError{http.StatusNotFound, codeInvalidRequest, "not found: unknown " + kind + "_openid", ""}
	if len(openID) != 32 {
		return "", unknown
	}
	m, ok := s.openids.get(openIDKey{botID, openID})
	if !ok {
		ms, err := s.store.OpenIDs(ctx, botID, []string{openID})
		if err != nil {
			return "", err
		}
		if len(ms) == 0 {
			return "", unknown
		}
		m = ms[0]
		s.openids.put(openIDKey{botID, openID}, m)
	}
	if m.Kind != kind {
		return "", unknown
	}
	return m.InternalID, nil
}
