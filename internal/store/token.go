package store

import (
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// ReuseAccessToken decides, inside a store's IssueAccessToken transaction,
// whether the bot's latest token (and the error reading it) is still the one
// to hand out: it is when it expires after reuseAfter. Otherwise fresh is to
// be stored (put) and returned. Both stores call it, so the rule is one.
func ReuseAccessToken(latest group.AccessToken, err error, fresh group.AccessToken, reuseAfter time.Time) (tok group.AccessToken, put bool, _ error) {
	if err == nil && latest.ExpiresAt.After(reuseAfter) {
		return latest, false, nil
	}
	if err != nil && !group.IsNotExist(err) {
		return group.AccessToken{}, false, err
	}
	return fresh, true, nil
}
