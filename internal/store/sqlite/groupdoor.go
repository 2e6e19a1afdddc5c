package sqlite

import (
	"time"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
)

// The door state's methods of group.Reader and group.Tx, until the doors
// use their own store interfaces.

func (r *reader) AccessToken(token string) (group.AccessToken, error) { return r.accessToken(token) }
func (r *reader) LatestAccessToken(botID string) (group.AccessToken, error) {
	return r.latestAccessToken(botID)
}
func (r *reader) Session(id string) (group.Session, error) { return r.session(id) }
func (r *reader) OpenID(botID, openID string) (group.OpenID, error) {
	return getOne(r.c, openIDColumns, "openid", selectOpenID, botID, openID)
}
func (r *reader) Setting(key string) (string, error)       { return r.setting(key) }
func (w *writer) PutAccessToken(t group.AccessToken) error { return w.putAccessToken(t) }
func (w *writer) PutSession(s group.Session) error         { return w.putSession(s) }
func (w *writer) PutOpenID(o group.OpenID) error {
	_, err := w.c.exec(insertOpenID, openIDColumns(&o).ptrs()...)
	return err
}
func (w *writer) PutSetting(key, value string) error {
	_, err := w.c.exec(upsertSetting, key, value)
	return err
}
func (w *writer) Prune(eventsBefore, sessionsBefore, botMessagesBefore, now time.Time, limit int) (int, error) {
	return w.prune(store.PruneCutoffs{EventsBefore: eventsBefore, SessionsBefore: sessionsBefore, BotMessagesBefore: botMessagesBefore, Now: now}, limit)
}
