package wildfire

import (
	"context"

	"github.com/qun-chat/qun/internal/group"
)

// Sessions is what /admin/robot/sessions goes through: the QQ door's
// listing of a robot's gateway sessions, read from the store, so those of
// every node. The wiring passes the QQ door; nil answers the call with 254.
type Sessions interface {
	// Sessions returns the robot's sessions, the last updated first, at
	// most limit; an unknown robot is ENotExist.
	Sessions(ctx context.Context, robotID string, limit int) ([]group.SessionStatus, error)
}

// DefaultSessionsLimit is how many sessions /admin/robot/sessions lists
// without a limit; it lists group.MaxSessionsPage at most.
const DefaultSessionsLimit = 20

// errNoSessions answers /admin/robot/sessions when the wiring gave none.
var errNoSessions = errCode(CodeNotImplement, "this server lists no gateway sessions")

type sessionJSON struct {
	SessionID   string `json:"session_id"`
	Shard       [2]int `json:"shard"` // [shard_id, shard_count]
	Intents     int64  `json:"intents"`
	Live        bool   `json:"live"`
	Node        string `json:"node"`
	ConnectedAt int64  `json:"connected_at"` // ms
	UpdatedAt   int64  `json:"updated_at"`   // ms
	LastSeq     int64  `json:"last_seq"`
}

// robotSessions serves /admin/robot/sessions: {robotId, limit?} →
// {sessions: [...]}, the last updated first.
func (a *api) robotSessions(r *request) (any, error) {
	robotID, limit, err := r.robotLimit(DefaultSessionsLimit, group.MaxSessionsPage)
	if err != nil {
		return nil, err
	}
	if a.sessions == nil {
		return nil, errNoSessions
	}
	ss, err := a.sessions.Sessions(r.ctx, robotID, limit)
	if err != nil {
		return nil, err
	}
	out := struct {
		Sessions []sessionJSON `json:"sessions"`
	}{Sessions: []sessionJSON{}}
	for _, s := range ss {
		out.Sessions = append(out.Sessions, sessionJSON{SessionID: s.ID, Shard: [2]int{s.ShardID, s.ShardCount}, Intents: s.Intents,
			Live: s.Live, Node: s.Node, ConnectedAt: millis(s.ConnectedAt), UpdatedAt: millis(s.UpdatedAt), LastSeq: s.LastSeq})
	}
	return out, nil
}
