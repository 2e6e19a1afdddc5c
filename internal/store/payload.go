package store

import (
	"encoding/json"
	"fmt"

	"github.com/qun-chat/qun/internal/group"
)

// Payload is the JSON form of group.Payload in a store. Its keys are fixed
// here so that renaming a domain field cannot change stored data, and so that
// every store writes the same JSON; the conversions in EncodePayload and
// DecodePayload stop compiling if the two structs diverge.
type Payload struct {
	Type              int      `json:"type,omitempty"`
	SearchableContent string   `json:"searchableContent,omitempty"`
	PushContent       string   `json:"pushContent,omitempty"`
	PushData          string   `json:"pushData,omitempty"`
	Content           string   `json:"content,omitempty"`
	Data              []byte   `json:"data,omitempty"`
	MediaType         int      `json:"mediaType,omitempty"`
	RemoteMediaURL    string   `json:"remoteMediaUrl,omitempty"`
	PersistFlag       int      `json:"persistFlag,omitempty"`
	ExpireDuration    int      `json:"expireDuration,omitempty"`
	MentionedType     int      `json:"mentionedType,omitempty"`
	MentionedTarget   []string `json:"mentionedTarget,omitempty"`
	Extra             string   `json:"extra,omitempty"`
}

// EncodePayload returns the stored JSON of p.
func EncodePayload(p group.Payload) ([]byte, error) {
	return json.Marshal(Payload(p))
}

// DecodePayload reads a payload from its stored JSON.
func DecodePayload(b []byte) (group.Payload, error) {
	var sp Payload
	if err := json.Unmarshal(b, &sp); err != nil {
		return group.Payload{}, err
	}
	return group.Payload(sp), nil
}

// ScanPayload reads a payload from a column value as a driver returns it:
// its stored JSON as text or bytes. Both stores' sql.Scanner use it.
func ScanPayload(src any) (group.Payload, error) {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return group.Payload{}, fmt.Errorf("payload column holds %T, not JSON text", src)
	}
	p, err := DecodePayload(b)
	if err != nil {
		return group.Payload{}, fmt.Errorf("decode payload: %w", err)
	}
	return p, nil
}
