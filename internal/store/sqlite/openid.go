package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/qun-chat/qun/internal/group"
)

func openIDColumns(o *group.OpenID) columns {
	return columns{
		{"bot_id", &o.BotID},
		{"openid", &o.OpenID},
		{"kind", &o.Kind},
		{"internal_id", &o.InternalID},
	}
}

var (
	openIDCols = openIDColumns(new(group.OpenID))

	// The openids are a JSON array: one statement, prepared once, reads any
	// number of them through the primary key.
	selectOpenIDs = readSQL(`SELECT ` + openIDCols.list() + ` FROM openids
		WHERE bot_id = ?1 AND openid IN (SELECT value FROM json_each(?2))`)
	insertOpenID = writeSQL(`INSERT INTO openids (` + openIDCols.list() + `) VALUES (` + openIDCols.marks() + `)
		ON CONFLICT (bot_id, openid) DO NOTHING`)
)

// OpenIDs implements qqbot.Store.
func (s *Store) OpenIDs(ctx context.Context, botID string, openIDs []string) ([]group.OpenID, error) {
	if len(openIDs) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(openIDs)
	if err != nil {
		return nil, fmt.Errorf("openids of bot %q: %w", botID, err)
	}
	return viewOne(ctx, s, func(r *reader) ([]group.OpenID, error) {
		return getAll(r.c, openIDColumns, fmt.Sprintf("openids of bot %q", botID), selectOpenIDs, botID, string(list))
	})
}

// PutOpenIDs implements qqbot.Store. An openid already stored keeps its mapping.
func (s *Store) PutOpenIDs(ctx context.Context, ms []group.OpenID) error {
	if len(ms) == 0 {
		return nil
	}
	return s.update(ctx, func(w *writer) error {
		for _, o := range ms {
			if _, err := w.c.exec(insertOpenID, openIDColumns(&o).ptrs()...); err != nil {
				return fmt.Errorf("put openid %q of bot %q: %w", o.OpenID, o.BotID, err)
			}
		}
		return nil
	})
}
