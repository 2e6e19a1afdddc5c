package client

import "context"

// Session is a bot's gateway session as /admin/robot/sessions lists it,
// from the store: those of every node.
type Session struct {
	SessionID   string `json:"session_id"`
	Shard       [2]int `json:"shard"` // [shard_id, shard_count]
	Intents     int64  `json:"intents"`
	Live        bool   `json:"live"` // a connection holds it now
	Node        string `json:"node"` // of the connection that identified or last resumed it
	ConnectedAt int64  `json:"connected_at"`
	UpdatedAt   int64  `json:"updated_at"` // Unix ms; the connection was last seen then
	LastSeq     int64  `json:"last_seq"`   // the s of the last event sent; 0: none
}

// Sessions returns a robot's gateway sessions, the last updated first, at
// most limit (0: qun's default, 20; at most 100).
func (c *Client) Sessions(ctx context.Context, robotID string, limit int) ([]Session, error) {
	body := struct {
		RobotID string `json:"robotId"`
		Limit   int    `json:"limit,omitempty"`
	}{robotID, limit}
	var res struct {
		Sessions []Session `json:"sessions"`
	}
	err := c.call(ctx, "/admin/robot/sessions", body, &res)
	return res.Sessions, err
}
