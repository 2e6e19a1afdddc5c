package postgres

import (
	"fmt"

	"github.com/qun-chat/qun/internal/group"
)

const openIDColumns = `bot_id, openid, kind, internal_id`

func openIDFields(o *group.OpenID) []any {
	return []any{&o.BotID, &o.OpenID, &o.Kind, &o.InternalID}
}

var (
	selectOpenID = `SELECT ` + openIDColumns + ` FROM openids WHERE bot_id = $1 AND openid = $2`
	insertOpenID = `INSERT INTO openids (` + openIDColumns + `) VALUES ($1, $2, $3, $4)
		ON CONFLICT (bot_id, openid) DO NOTHING`
)

// OpenID implements group.Reader.
func (r *reader) OpenID(botID, openID string) (group.OpenID, error) {
	return getOne(r.c, openIDFields, fmt.Sprintf("openid %q of bot %q", openID, botID), selectOpenID, botID, openID)
}

// PutOpenID implements group.Tx. An openid already stored keeps its mapping.
func (w *writer) PutOpenID(o group.OpenID) error {
	_, err := w.c.exec(fmt.Sprintf("put openid %q of bot %q", o.OpenID, o.BotID), insertOpenID, openIDFields(&o)...)
	return err
}
