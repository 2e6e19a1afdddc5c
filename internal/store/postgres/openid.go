package postgres

import (
	"context"
	"fmt"

	"github.com/qun-chat/qun/internal/group"
)

const openIDColumns = `bot_id, openid, kind, internal_id`

func openIDFields(o *group.OpenID) []any {
	return []any{&o.BotID, &o.OpenID, &o.Kind, &o.InternalID}
}

var (
	selectOpenIDs = `SELECT ` + openIDColumns + ` FROM openids WHERE bot_id = $1 AND openid = ANY($2)`
	insertOpenID  = `INSERT INTO openids (` + openIDColumns + `) VALUES ($1, $2, $3, $4)
		ON CONFLICT (bot_id, openid) DO NOTHING`
)

// OpenIDs implements qqbot.Store.
func (s *Store) OpenIDs(ctx context.Context, botID string, openIDs []string) ([]group.OpenID, error) {
	if len(openIDs) == 0 {
		return nil, nil
	}
	return viewOne(ctx, s, func(r *reader) ([]group.OpenID, error) {
		return getAll(r.c, openIDFields, fmt.Sprintf("openids of bot %q", botID), selectOpenIDs, botID, openIDs)
	})
}

// PutOpenIDs implements qqbot.Store. An openid already stored keeps its mapping.
func (s *Store) PutOpenIDs(ctx context.Context, ms []group.OpenID) error {
	if len(ms) == 0 {
		return nil
	}
	return s.update(ctx, func(w *writer) error {
		for _, o := range ms {
			if err := w.putOpenID(o); err != nil {
				return err
			}
		}
		return nil
	})
}

func (w *writer) putOpenID(o group.OpenID) error {
	return w.c.later(fmt.Sprintf("put openid %q of bot %q", o.OpenID, o.BotID), insertOpenID, openIDFields(&o)...)
}
