package storetest

import (
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

func testOpenID(t *testing.T, s group.Store) {
	putOpenID := func(tx group.Tx) func(group.OpenID) error { return tx.PutOpenID }
	ids := []group.OpenID{
		{BotID: "bot1", OpenID: "0123456789ABCDEF0123456789ABCDEF", Kind: group.OpenIDGroup, InternalID: "g"},
		{BotID: "bot1", OpenID: "FEDCBA9876543210FEDCBA9876543210", Kind: group.OpenIDMember, InternalID: "alice"},
		// The same openid string means something else to another bot.
		{BotID: "bot2", OpenID: "0123456789ABCDEF0123456789ABCDEF", Kind: group.OpenIDMember, InternalID: "bob"},
	}
	put(t, s, putOpenID, ids...)
	put(t, s, putOpenID, ids...) // storing them again is not an error
	for _, want := range ids {
		got := read(t, s, func(r group.Reader) (group.OpenID, error) { return r.OpenID(want.BotID, want.OpenID) })
		diff(t, "OpenID", want, got)
	}
	wantNotExist(t, s, "OpenID(bot3, ...)", func(r group.Reader) (group.OpenID, error) { return r.OpenID("bot3", ids[0].OpenID) })
}
