package sqlite

import (
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

	selectOpenID = readSQL(`SELECT ` + openIDCols.list() + ` FROM openids WHERE bot_id = ? AND openid = ?`)
	insertOpenID = writeSQL(`INSERT INTO openids (` + openIDCols.list() + `) VALUES (` + openIDCols.marks() + `)
		ON CONFLICT (bot_id, openid) DO NOTHING`)
)

// OpenID implements group.Reader.
func (r *reader) OpenID(botID, openID string) (group.OpenID, error) {
	return getOne(r.c, openIDColumns, fmt.Sprintf("openid %q of bot %q", openID, botID), selectOpenID, botID, openID)
}

// PutOpenID implements group.Tx. An openid already stored keeps its mapping.
func (w *writer) PutOpenID(o group.OpenID) error {
	if _, err := w.c.exec(insertOpenID, openIDColumns(&o).ptrs()...); err != nil {
		return fmt.Errorf("put openid %q of bot %q: %w", o.OpenID, o.BotID, err)
	}
	return nil
}
