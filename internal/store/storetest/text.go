package storetest

import (
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// badTexts are texts no store keeps (group.ValidText): PostgreSQL cannot
// keep them, so neither may SQLite, or its data could not move.
var badTexts = []struct{ name, s string }{{"NUL", "a\x00b"}, {"invalid UTF-8", "a\xffb"}}

// textWrite is a write given one bad text, and how to look for what it
// would have written under a good key (nil: the bad text is the key).
type textWrite struct {
	name  string
	put   func(tx group.Tx, key, bad string) error
	found func(r group.Reader, key string) (bool, error)
}

// testText checks the text rule of group.Reader: every write of a text that
// is not valid is EInvalidParam, writes nothing (a PutMembers none of its
// rows) and leaves the transaction usable; every read by such a text finds
// nothing. SQLite could keep these texts; PostgreSQL cannot, and the same
// input must get the same outcome on both. testDoorText checks the door's
// store alike.
func testText(t *testing.T, s group.Store) {
	put(t, s, groups, group.Group{ID: "g"})
	put(t, s, members, member("g", "m", group.MemberNormal))
	user := func(set func(u *group.User, bad string)) func(tx group.Tx, key, bad string) error {
		return func(tx group.Tx, key, bad string) error {
			u := group.User{ID: key}
			set(&u, bad)
			return tx.PutUser(u)
		}
	}
	userFound := func(r group.Reader, key string) (bool, error) { return found(r.User(key)) }
	bot := func(set func(b *group.Bot, bad string)) func(tx group.Tx, key, bad string) error {
		return func(tx group.Tx, key, bad string) error {
			b := group.Bot{UserID: key, AppID: key}
			set(&b, bad)
			return tx.PutBot(b)
		}
	}
	botFound := func(r group.Reader, key string) (bool, error) { return found(r.Bot(key)) }
	grp := func(set func(g *group.Group, bad string)) func(tx group.Tx, key, bad string) error {
		return func(tx group.Tx, key, bad string) error {
			g := group.Group{ID: key}
			set(&g, bad)
			return tx.PutGroup(g)
		}
	}
	groupFound := func(r group.Reader, key string) (bool, error) { return found(r.Group(key)) }
	mem := func(set func(m *group.Member, bad string)) func(tx group.Tx, key, bad string) error {
		return func(tx group.Tx, key, bad string) error {
			m := member("g", key, group.MemberNormal)
			set(&m, bad)
			return tx.PutMember(m)
		}
	}
	memberFound := func(r group.Reader, key string) (bool, error) { return found(r.Member("g", key)) }
	msg := func(set func(m *group.Message, bad string)) func(tx group.Tx, key, bad string) error {
		return func(tx group.Tx, key, bad string) error {
			m := group.Message{GroupID: key, Sender: "s", Payload: payload("p"), CreatedAt: t0}
			set(&m, bad)
			_, err := tx.AppendMessage(m)
			return err
		}
	}
	msgCallbacks := func(set func(m *group.Message, bad string)) func(tx group.Tx, key, bad string) error {
		return func(tx group.Tx, key, bad string) error {
			m := group.Message{GroupID: key, Sender: "s", Payload: payload("p"), CreatedAt: t0}
			set(&m, bad)
			_, _, err := tx.AppendMessageCallbacks(m)
			return err
		}
	}
	messageFound := func(r group.Reader, key string) (bool, error) {
		ms, err := r.Messages(key, 0, 0, 10)
		return len(ms) > 0, err
	}
	event := func(set func(e *group.Event, bad string)) func(tx group.Tx, key, bad string) error {
		return func(tx group.Tx, key, bad string) error {
			e := group.Event{BotID: key, Type: group.EventAddRobot, GroupID: "g", CreatedAt: t0}
			set(&e, bad)
			_, err := tx.AppendEvent(e)
			return err
		}
	}
	eventFound := func(r group.Reader, key string) (bool, error) {
		seq, err := r.LastEventSeq(key)
		return seq > 0, err
	}
	botMessage := func(set func(m *group.BotMessage, bad string)) func(tx group.Tx, key, bad string) error {
		return func(tx group.Tx, key, bad string) error {
			m := group.BotMessage{BotID: key, GroupID: "g", MessageUID: 1, ReplyTo: "msg:1", MsgSeq: 1, CreatedAt: t0}
			set(&m, bad)
			return tx.AppendBotMessage(m)
		}
	}
	botMessageFound := func(r group.Reader, key string) (bool, error) {
		n, err := r.CountReplies(key, "msg:1")
		return n > 0, err
	}

	writes := []textWrite{
		{"PutUser/ID", user(func(u *group.User, bad string) { u.ID = bad }), nil},
		{"PutUser/Name", user(func(u *group.User, bad string) { u.Name = bad }), userFound},
		{"PutUser/Password", user(func(u *group.User, bad string) { u.Password = bad }), userFound},
		{"PutUser/DisplayName", user(func(u *group.User, bad string) { u.DisplayName = bad }), userFound},
		{"PutUser/Portrait", user(func(u *group.User, bad string) { u.Portrait = bad }), userFound},
		{"PutUser/Mobile", user(func(u *group.User, bad string) { u.Mobile = bad }), userFound},
		{"PutUser/Email", user(func(u *group.User, bad string) { u.Email = bad }), userFound},
		{"PutUser/Address", user(func(u *group.User, bad string) { u.Address = bad }), userFound},
		{"PutUser/Company", user(func(u *group.User, bad string) { u.Company = bad }), userFound},
		{"PutUser/Social", user(func(u *group.User, bad string) { u.Social = bad }), userFound},
		{"PutUser/Extra", user(func(u *group.User, bad string) { u.Extra = bad }), userFound},
		{"PutBot/UserID", bot(func(b *group.Bot, bad string) { b.UserID = bad }), nil},
		{"PutBot/Owner", bot(func(b *group.Bot, bad string) { b.Owner = bad }), botFound},
		{"PutBot/Secret", bot(func(b *group.Bot, bad string) { b.Secret = bad }), botFound},
		{"PutBot/Callback", bot(func(b *group.Bot, bad string) { b.Callback = bad }), botFound},
		{"PutBot/RobotExtra", bot(func(b *group.Bot, bad string) { b.RobotExtra = bad }), botFound},
		{"PutBot/AppID", bot(func(b *group.Bot, bad string) { b.AppID = bad }), botFound},
		{"PutBot/AppSecret", bot(func(b *group.Bot, bad string) { b.AppSecret = bad }), botFound},
		{"PutBot/IceBreaker", bot(func(b *group.Bot, bad string) { b.IceBreaker.Payload.Content = bad }), botFound},
		{"PutGroup/ID", grp(func(g *group.Group, bad string) { g.ID = bad }), nil},
		{"PutGroup/Name", grp(func(g *group.Group, bad string) { g.Name = bad }), groupFound},
		{"PutGroup/Portrait", grp(func(g *group.Group, bad string) { g.Portrait = bad }), groupFound},
		{"PutGroup/Owner", grp(func(g *group.Group, bad string) { g.Owner = bad }), groupFound},
		{"PutGroup/Extra", grp(func(g *group.Group, bad string) { g.Extra = bad }), groupFound},
		{"PutMember/GroupID", mem(func(m *group.Member, bad string) { m.GroupID = bad }), memberFound},
		{"PutMember/UserID", mem(func(m *group.Member, bad string) { m.UserID = bad }), nil},
		{"PutMember/Alias", mem(func(m *group.Member, bad string) { m.Alias = bad }), memberFound},
		{"PutMember/Extra", mem(func(m *group.Member, bad string) { m.Extra = bad }), memberFound},
		// One bad row among good ones: none of them is written.
		{"PutMembers", func(tx group.Tx, key, bad string) error {
			bad1 := member("g", key+"-2", group.MemberNormal)
			bad1.Alias = bad
			return tx.PutMembers([]group.Member{member("g", key, group.MemberNormal), bad1, member("g", key+"-3", group.MemberNormal)})
		}, memberFound},
		{"SetProactive/GroupID", func(tx group.Tx, _, bad string) error { return tx.SetProactive(bad, "b", false) }, nil},
		{"SetProactive/BotID", func(tx group.Tx, _, bad string) error { return tx.SetProactive("g", bad, false) }, nil},
		{"AppendMessage/GroupID", msg(func(m *group.Message, bad string) { m.GroupID = bad }), nil},
		{"AppendMessage/Sender", msg(func(m *group.Message, bad string) { m.Sender = bad }), messageFound},
		{"AppendMessage/SearchableContent", msg(func(m *group.Message, bad string) { m.Payload.SearchableContent = bad }), messageFound},
		{"AppendMessage/PushContent", msg(func(m *group.Message, bad string) { m.Payload.PushContent = bad }), messageFound},
		{"AppendMessage/PushData", msg(func(m *group.Message, bad string) { m.Payload.PushData = bad }), messageFound},
		{"AppendMessage/Content", msg(func(m *group.Message, bad string) { m.Payload.Content = bad }), messageFound},
		{"AppendMessage/RemoteMediaURL", msg(func(m *group.Message, bad string) { m.Payload.RemoteMediaURL = bad }), messageFound},
		{"AppendMessage/Extra", msg(func(m *group.Message, bad string) { m.Payload.Extra = bad }), messageFound},
		{"AppendMessageCallbacks/GroupID", msgCallbacks(func(m *group.Message, bad string) { m.GroupID = bad }), nil},
		{"AppendMessageCallbacks/Sender", msgCallbacks(func(m *group.Message, bad string) { m.Sender = bad }), messageFound},
		{"AppendMessageCallbacks/Content", msgCallbacks(func(m *group.Message, bad string) { m.Payload.Content = bad }), messageFound},
		{"AppendMessage/MentionedTarget", msg(func(m *group.Message, bad string) { m.Payload.MentionedTarget = []string{"x", bad} }), messageFound},
		{"AppendEvent/BotID", event(func(e *group.Event, bad string) { e.BotID = bad }), nil},
		{"AppendEvent/Type", event(func(e *group.Event, bad string) { e.Type = group.EventType(bad) }), eventFound},
		{"AppendEvent/GroupID", event(func(e *group.Event, bad string) { e.GroupID = bad }), eventFound},
		{"AppendEvent/OperatorID", event(func(e *group.Event, bad string) { e.OperatorID = bad }), eventFound},
		{"AppendBotMessage/BotID", botMessage(func(m *group.BotMessage, bad string) { m.BotID = bad }), nil},
		{"AppendBotMessage/GroupID", botMessage(func(m *group.BotMessage, bad string) { m.GroupID = bad }), botMessageFound},
		{"AppendBotMessage/ReplyTo", botMessage(func(m *group.BotMessage, bad string) { m.ReplyTo = bad }), nil},
		{"UseNonce", func(tx group.Tx, _, bad string) error {
			_, err := tx.UseNonce(bad, at(time.Minute), t0)
			return err
		}, nil},
		{"DeleteGroup", func(tx group.Tx, _, bad string) error { return tx.DeleteGroup(bad) }, nil},
	}
	t.Run("Writes", func(t *testing.T) {
		for _, w := range writes {
			for _, b := range badTexts {
				t.Run(w.name+"/"+b.name, func(t *testing.T) {
					key := "k-" + w.name + "-" + b.name
					var putErr error
					update(t, s, func(tx group.Tx) error {
						putErr = w.put(tx, key, b.s)
						// The transaction goes on after the refused write.
						return tx.PutGroup(group.Group{ID: "after " + key})
					})
					wantCode(t, w.name, putErr, group.EInvalidParam)
					if ok := read(t, s, func(r group.Reader) (bool, error) { return found(r.Group("after " + key)) }); !ok {
						t.Errorf("a write after the refused one did not commit")
					}
					if w.found != nil {
						if got := read(t, s, func(r group.Reader) (bool, error) { return w.found(r, key) }); got {
							t.Errorf("%s with %s wrote under %q", w.name, b.name, key)
						}
					}
				})
			}
		}
	})
	t.Run("Reads", func(t *testing.T) {
		for _, b := range badTexts {
			t.Run(b.name+"/View", func(t *testing.T) {
				if err := s.View(t.Context(), func(r group.Reader) error { return readsFindNothing(t, r, b.s) }); err != nil {
					t.Fatal(err)
				}
			})
			// Inside an Update reads may lock what they read (PostgreSQL);
			// a read by a bad key must still leave the transaction usable.
			t.Run(b.name+"/Update", func(t *testing.T) {
				update(t, s, func(tx group.Tx) error {
					if err := readsFindNothing(t, tx, b.s); err != nil {
						return err
					}
					return tx.PutGroup(group.Group{ID: "after reads " + b.name})
				})
				if ok := read(t, s, func(r group.Reader) (bool, error) { return found(r.Group("after reads " + b.name)) }); !ok {
					t.Errorf("a write after the reads did not commit")
				}
			})
		}
	})
}

// found turns a single read into "found": ENotExist is false.
func found[T any](_ T, err error) (bool, error) {
	if group.IsNotExist(err) {
		return false, nil
	}
	return err == nil, err
}

// readsFindNothing checks that every read of r by the text bad finds
// nothing; it returns the first error that is not "not found".
func readsFindNothing(t *testing.T, r group.Reader, bad string) error {
	t.Helper()
	singles := []struct {
		name string
		read func() error
	}{
		{"User", func() error { _, err := r.User(bad); return err }},
		{"UserByName", func() error { _, err := r.UserByName(bad); return err }},
		{"UserByMobile", func() error { _, err := r.UserByMobile(bad); return err }},
		{"Bot", func() error { _, err := r.Bot(bad); return err }},
		{"BotByAppID", func() error { _, err := r.BotByAppID(bad); return err }},
		{"Group", func() error { _, err := r.Group(bad); return err }},
		{"GroupJoining", func() error { _, _, _, _, err := r.GroupJoining(bad, []string{"m", bad}, []string{bad}); return err }},
		{"Member(bad, m)", func() error { _, err := r.Member(bad, "m"); return err }},
		{"Member(g, bad)", func() error { _, err := r.Member("g", bad); return err }},
		{"Event", func() error { _, err := r.Event(bad, 1); return err }},
	}
	for _, tt := range singles {
		if err := tt.read(); !group.IsNotExist(err) {
			t.Errorf("%s by a bad text: %v, want ENotExist", tt.name, err)
			if err != nil && group.ErrorCode(err) != group.EInvalidParam {
				return err
			}
		}
	}
	lists := []struct {
		name string
		read func() (int, error)
	}{
		{"BotsOf", func() (int, error) { bs, err := r.BotsOf([]string{bad}); return len(bs), err }},
		{"MembersOf(bad, …)", func() (int, error) { ms, err := r.MembersOf(bad, []string{"m"}); return len(ms), err }},
		{"MembersOf(g, bad)", func() (int, error) { ms, err := r.MembersOf("g", []string{"m", bad}); return len(ms) - 1, err }},
		{"Members", func() (int, error) { ms, err := r.Members(bad); return len(ms), err }},
		{"MembersPage", func() (int, error) { ms, err := r.MembersPage(bad, 0, 10); return len(ms), err }},
		{"MemberCount", func() (int, error) { return r.MemberCount(bad) }},
		{"Joining(bad, …)", func() (int, error) {
			ms, n, bs, err := r.Joining(bad, []string{"m"}, []string{bad})
			return len(ms) + n + len(bs), err
		}},
		{"Joining(g, bad, bad)", func() (int, error) {
			ms, _, bs, err := r.Joining("g", []string{"m", bad}, []string{bad})
			return len(ms) - 1 + len(bs), err
		}},
		{"BotMembers", func() (int, error) { ids, err := r.BotMembers(bad); return len(ids), err }},
		{"GroupsOfUser", func() (int, error) { ids, err := r.GroupsOfUser(bad); return len(ids), err }},
		{"GroupsByIDPrefix", func() (int, error) { gs, err := r.GroupsByIDPrefix(bad, "", 10); return len(gs), err }},
		{"GroupsByNamePrefix", func() (int, error) { gs, err := r.GroupsByNamePrefix(bad, "", "", 10); return len(gs), err }},
		{"Messages", func() (int, error) { ms, err := r.Messages(bad, 0, 0, 10); return len(ms), err }},
		{"Events", func() (int, error) { es, err := r.Events(bad, 0, 10); return len(es), err }},
		{"LastEventSeq", func() (int, error) { n, err := r.LastEventSeq(bad); return int(n), err }},
		{"CountReplies", func() (int, error) { return r.CountReplies(bad, "msg:1") }},
		{"CountProactive", func() (int, error) { return r.CountProactive(bad, "g", t0) }},
		{"Proactive (false: not the default)", func() (int, error) {
			ok, err := r.Proactive(bad, "b")
			if ok {
				return 0, err
			}
			return 1, err
		}},
	}
	for _, tt := range lists {
		n, err := tt.read()
		if err != nil {
			t.Errorf("%s by a bad text: %v, want nothing found", tt.name, err)
			return err
		}
		if n != 0 {
			t.Errorf("%s by a bad text found %d", tt.name, n)
		}
	}
	return nil
}

// testDoorText is testText for the QQ door's store: each of its writes of a
// text that is not valid is EInvalidParam and stores nothing; each read by
// one finds nothing.
func testDoorText(t *testing.T, s Store) {
	ctx := t.Context()
	for _, b := range badTexts {
		t.Run(b.name, func(t *testing.T) {
			key := "k-" + b.name
			tokens := []group.AccessToken{
				{Token: b.s, BotID: "bot", ExpiresAt: at(time.Hour), CreatedAt: t0},
				{Token: key, BotID: b.s, ExpiresAt: at(time.Hour), CreatedAt: t0},
			}
			for _, tok := range tokens {
				_, err := s.IssueAccessToken(ctx, tok, farFuture)
				wantCode(t, "IssueAccessToken", err, group.EInvalidParam)
			}
			_, err := s.AccessToken(ctx, key)
			wantCode(t, "AccessToken after the refused one", err, group.ENotExist)

			sessions := []group.Session{
				{ID: key, BotID: b.s, ShardCount: 1, CreatedAt: t0, UpdatedAt: t0},
				{ID: key, BotID: "bot", ShardCount: 1, ConnID: b.s, CreatedAt: t0, UpdatedAt: t0},
			}
			for _, sess := range sessions {
				err := s.UpdateSession(ctx, sess.ID, func(group.Reader, group.Session, bool) (group.Session, bool, error) {
					return sess, true, nil
				})
				wantCode(t, "UpdateSession", err, group.EInvalidParam)
			}
			_, err = s.Session(ctx, key)
			wantCode(t, "Session after the refused ones", err, group.ENotExist)

			// One bad mapping among good ones: none is stored.
			good := group.OpenID{BotID: "bot", OpenID: key, Kind: group.OpenIDGroup, InternalID: "g"}
			for _, o := range []group.OpenID{
				{BotID: b.s, OpenID: "o", Kind: group.OpenIDGroup, InternalID: "g"},
				{BotID: "bot", OpenID: b.s, Kind: group.OpenIDGroup, InternalID: "g"},
				{BotID: "bot", OpenID: "o", Kind: b.s, InternalID: "g"},
				{BotID: "bot", OpenID: "o", Kind: group.OpenIDGroup, InternalID: b.s},
			} {
				wantCode(t, "PutOpenIDs", s.PutOpenIDs(ctx, []group.OpenID{good, o}), group.EInvalidParam)
			}
			diff(t, "OpenIDs after the refused ones", []group.OpenID(nil),
				must(s.OpenIDs(ctx, "bot", []string{key, "o"}))(t, "OpenIDs"))

			for _, kv := range [][2]string{{b.s, "v"}, {key, b.s}} {
				_, err := s.CreateSetting(ctx, kv[0], kv[1])
				wantCode(t, "CreateSetting", err, group.EInvalidParam)
			}
			_, err = s.Setting(ctx, key)
			wantCode(t, "Setting after the refused one", err, group.ENotExist)

			// Reads by a bad text find nothing; a good key beside it in a list still does.
			noErr(t, "PutOpenIDs", s.PutOpenIDs(ctx, []group.OpenID{good}))
			_, err = s.AccessToken(ctx, b.s)
			wantCode(t, "AccessToken by a bad text", err, group.ENotExist)
			_, err = s.LatestAccessToken(ctx, b.s)
			wantCode(t, "LatestAccessToken by a bad text", err, group.ENotExist)
			_, err = s.Session(ctx, b.s)
			wantCode(t, "Session by a bad text", err, group.ENotExist)
			err = s.UpdateSession(ctx, b.s, func(_ group.Reader, _ group.Session, found bool) (group.Session, bool, error) {
				if found {
					t.Errorf("UpdateSession by a bad text found a session")
				}
				return group.Session{}, false, nil
			})
			noErr(t, "UpdateSession by a bad text, storing nothing", err)
			diff(t, "OpenIDs by a bad text and a good one", []group.OpenID{good},
				must(s.OpenIDs(ctx, "bot", []string{b.s, key}))(t, "OpenIDs"))
			diff(t, "OpenIDs of a bad bot", []group.OpenID(nil), must(s.OpenIDs(ctx, b.s, []string{key}))(t, "OpenIDs"))
			_, err = s.Setting(ctx, b.s)
			wantCode(t, "Setting by a bad text", err, group.ENotExist)
		})
	}
}
