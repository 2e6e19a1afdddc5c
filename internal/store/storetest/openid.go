package storetest

import (
	"sort"
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

func testOpenID(t *testing.T, s Store) {
	ids := []group.OpenID{
		{BotID: "bot1", OpenID: "0123456789ABCDEF0123456789ABCDEF", Kind: group.OpenIDGroup, InternalID: "g"},
		{BotID: "bot1", OpenID: "FEDCBA9876543210FEDCBA9876543210", Kind: group.OpenIDMember, InternalID: "alice"},
		// The same openid string means something else to another bot.
		{BotID: "bot2", OpenID: "0123456789ABCDEF0123456789ABCDEF", Kind: group.OpenIDMember, InternalID: "bob"},
	}
	noErr(t, "PutOpenIDs", s.PutOpenIDs(t.Context(), ids))
	// Storing them again is not an error, and a stored mapping is kept.
	again := append([]group.OpenID{}, ids...)
	again[1].InternalID = "mallory"
	noErr(t, "PutOpenIDs again", s.PutOpenIDs(t.Context(), again))
	noErr(t, "PutOpenIDs of none", s.PutOpenIDs(t.Context(), nil))

	get := func(t *testing.T, botID string, openIDs ...string) []group.OpenID {
		t.Helper()
		got := must(s.OpenIDs(t.Context(), botID, openIDs))(t, "OpenIDs")
		sort.Slice(got, func(i, j int) bool { return got[i].OpenID < got[j].OpenID })
		return got
	}
	for _, tt := range []struct {
		name    string
		bot     string
		openIDs []string
		want    []group.OpenID
	}{
		{"both of bot1", "bot1", []string{ids[1].OpenID, ids[0].OpenID}, ids[:2]},
		{"one", "bot1", []string{ids[1].OpenID}, ids[1:2]},
		{"another bot's meaning", "bot2", []string{ids[0].OpenID}, ids[2:]},
		{"stored and unknown", "bot1", []string{"00000000000000000000000000000000", ids[0].OpenID}, ids[:1]},
		{"repeated", "bot1", []string{ids[0].OpenID, ids[0].OpenID}, ids[:1]},
		{"unknown bot", "bot3", []string{ids[0].OpenID}, nil},
		{"none asked", "bot1", nil, nil},
		// Characters that mean something in the batch's encoding are just text.
		{"odd text", "bot1", []string{`"],["`, `\`, "'", ids[0].OpenID}, ids[:1]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			diff(t, "OpenIDs", tt.want, get(t, tt.bot, tt.openIDs...))
		})
	}
	t.Run("Many", func(t *testing.T) {
		// A member page (up to 500) or an event batch asks for hundreds at once.
		var many []group.OpenID
		var asked []string
		for i := range 600 {
			o := group.OpenID{BotID: "bot4", OpenID: hex32(i), Kind: group.OpenIDMember, InternalID: "u" + hex32(i)}
			many = append(many, o)
			asked = append(asked, o.OpenID)
		}
		noErr(t, "PutOpenIDs", s.PutOpenIDs(t.Context(), many))
		diff(t, "OpenIDs of 600", many, get(t, "bot4", asked...))
	})
}

// hex32 is a 32-character upper-case hex openid made of i.
func hex32(i int) string {
	const digits = "0123456789ABCDEF"
	b := []byte("00000000000000000000000000000000")
	for p := len(b) - 1; i > 0; p-- {
		b[p] = digits[i%16]
		i /= 16
	}
	return string(b)
}
