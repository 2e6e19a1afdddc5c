package qqbot

import (
	"context"
	"fmt"

	"github.com/qun-chat/qun/internal/group"
)

// EventFrame is one event of a bot's log and the gateway's op 0 frame of it.
type EventFrame struct {
	Seq  int64
	Body []byte // the frame as the gateway writes it; nil for an event the gateway does not send
}

// EventFrames returns botID's events after seq after, at most limit, each
// with the frame (op, s, t, id, d) a gateway session with GROUP_AND_C2C_EVENT
// on one shard is sent for it, byte for byte, and the bot's last event seq.
// The events of other doors (a Wildfire robot's messages) have no frame.
// It reads the log by key, for the console's view of what the bot was sent.
func (s *Server) EventFrames(ctx context.Context, botID string, after int64, limit int) ([]EventFrame, int64, error) {
	items, last, _, err := s.renderLog(ctx, botID, after, limit, func(e group.Event) bool { return isGatewayEvent(e.Type) })
	if err != nil {
		return nil, 0, fmt.Errorf("qqbot: event frames of bot %q: %w", botID, err)
	}
	frames := make([]EventFrame, len(items))
	for i, it := range items {
		frames[i] = EventFrame{Seq: it.Seq, Body: it.Body}
	}
	return frames, last, nil
}
