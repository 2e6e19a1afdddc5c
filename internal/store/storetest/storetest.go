// Package storetest is the conformance suite of the stores: every store
// implementation runs Run against empty databases of its own and must pass it
// unchanged. It tests behaviour through the interfaces the domain, the
// doors and the engine declare only (group.Store, qqbot.Store,
// wildfire.NonceStore, delivery.Store), so that a store cannot pass by
// accident of its internals; passing a store to Run is the compile-time check
// that it implements them.
//
// It imports the domain (internal/group), the doors and the engine whose
// store interfaces it checks (internal/qqbot, internal/wildfire,
// internal/delivery, for those interfaces only), the standard library and
// go-cmp; never a store.
package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/qun-chat/qun/internal/delivery"
	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/qqbot"
	"github.com/qun-chat/qun/internal/wildfire"
)

// Store is what a store implements: the domain's store, the QQ door's, the
// Wildfire doors' nonces and the outbound engine's.
type Store interface {
	group.Store
	qqbot.Store
	delivery.Store
	wildfire.NonceStore
}

// An Opener prepares an empty database for one test and returns open, which
// opens a Store on it. The suite may call open again after closing the
// store it returned, and the new store must see the same data. Subtests call
// the Opener in parallel.
type Opener func(t *testing.T) (open func() Store)

// Run runs the conformance suite against the stores opener opens: one
// parallel subtest per behaviour, each on its own empty database.
func Run(t *testing.T, opener Opener) {
	tests := []struct {
		name string
		test func(t *testing.T, s group.Store)
	}{
		{"User", testUser},
		{"Bot", testBot},
		{"Group", testGroup},
		{"Listing", testListing},
		{"GroupSearch", testGroupSearch},
		{"DeleteGroup", testDeleteGroup},
		{"Member", testMember},
		{"MemberListing", testMemberListing},
		{"BotMembers", testBotMembers},
		{"WriterReads", testWriterReads},
		{"Joining", testJoining},
		{"MembersPage", testMembersPage},
		{"BulkMembers", testBulkMembers},
		{"Text", testText},
		{"Proactive", testProactive},
		{"Message", testMessage},
		{"AppendMessageCallbacks", testAppendMessageCallbacks},
		{"Notification", testNotification},
		{"Event", testEvent},
		{"BotMessage", testBotMessage},
		{"Nonce", testNonce},
		{"Time", testTime},
		{"Rollback", testRollback},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"Panic", testPanic},
		{"CanceledContext", testCanceledContext},
		{"View", testView},
		{"WaitEvents", testWaitEvents},
	}
	// The door's state: each method is one transaction of its own.
	doorTests := []struct {
		name string
		test func(t *testing.T, s Store)
	}{
		{"AccessToken", testAccessToken},
		{"IssueAccessToken", testIssueAccessToken},
		{"RevokeAccessTokens", testRevokeAccessTokens},
		{"Session", testSession},
		{"UpdateSession", testUpdateSession},
		{"BotSessions", testBotSessions},
		{"ConcurrentSessionClaims", testConcurrentSessionClaims},
		{"OpenID", testOpenID},
		{"Setting", testSetting},
		{"ConcurrentCreateSetting", testConcurrentCreateSetting},
		{"Prune", testPrune},
		{"PruneEvents", testPruneEvents},
		{"DoorText", testDoorText},
		{"NonceStore", testNonceStore},
		{"NonceStoreConcurrent", testNonceStoreConcurrent},
		{"BoundNonce", testBoundNonce},
		{"FeedEvents", testFeedEvents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, openStore(t, opener(t)))
		})
	}
	for _, tt := range doorTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, openStore(t, opener(t)))
		})
	}
	t.Run("Closed", func(t *testing.T) {
		t.Parallel()
		testClosed(t, opener(t))
	})
	t.Run("Reopen", func(t *testing.T) {
		t.Parallel()
		testReopen(t, opener(t))
	})
}

// openStore opens a store that is closed when the test ends.
func openStore(t *testing.T, open func() Store) Store {
	t.Helper()
	s := open()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// t0 is the suite's "now": a time with whole milliseconds, which every store keeps.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

// at returns t0 moved by d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// cmpOpts compares the model: nil and empty slices alike, and times equal
// when they are less than a millisecond apart (stores keep milliseconds at least).
var cmpOpts = cmp.Options{
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b time.Time) bool {
		d := a.Sub(b)
		return d > -time.Millisecond && d < time.Millisecond
	}),
}

// diff reports a mismatch between want and got.
func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

var errTest = errors.New("storetest: deliberate failure")

// update runs fn in one Update and fails the test on error.
func update(t *testing.T, s group.Store, fn func(tx group.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

// read runs fn in one View and fails the test on error.
func read[T any](t *testing.T, s group.Store, fn func(r group.Reader) (T, error)) T {
	t.Helper()
	var v T
	err := s.View(t.Context(), func(r group.Reader) (err error) {
		v, err = fn(r)
		return err
	})
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	return v
}

// wantCode checks that err is a domain error with code.
func wantCode(t *testing.T, what string, err error, code group.Code) {
	t.Helper()
	var e *group.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Errorf("%s: error %v, want a domain error with code %s", what, err, code)
	}
}

// must returns v, the result of a call, once the test has checked err:
// must(s.Session(ctx, id))(t, "Session").
func must[T any](v T, err error) func(t *testing.T, what string) T {
	return func(t *testing.T, what string) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// noErr fails the test if err is not nil.
func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantNotExist checks that reading with fn fails with ENotExist.
func wantNotExist[T any](t *testing.T, s group.Store, what string, fn func(r group.Reader) (T, error)) {
	t.Helper()
	err := s.View(t.Context(), func(r group.Reader) error {
		v, err := fn(r)
		if err == nil {
			return fmt.Errorf("no error, read %+v", v)
		}
		return err
	})
	wantCode(t, what, err, group.ENotExist)
}

// all calls put for each value and stops at the first error.
func all[T any](put func(T) error, vs ...T) error {
	for _, v := range vs {
		if err := put(v); err != nil {
			return err
		}
	}
	return nil
}

// put stores values in one Update.
func put[T any](t *testing.T, s group.Store, putter func(tx group.Tx) func(T) error, vs ...T) {
	t.Helper()
	update(t, s, func(tx group.Tx) error { return all(putter(tx), vs...) })
}

// Putters for put.
func users(tx group.Tx) func(group.User) error     { return tx.PutUser }
func bots(tx group.Tx) func(group.Bot) error       { return tx.PutBot }
func groups(tx group.Tx) func(group.Group) error   { return tx.PutGroup }
func members(tx group.Tx) func(group.Member) error { return tx.PutMember }

// payload is a message payload with every field set.
func payload(content string) group.Payload {
	return group.Payload{
		Type:              group.ContentText,
		SearchableContent: "searchable " + content,
		PushContent:       "push " + content,
		PushData:          `{"push":"data"}`,
		Content:           content,
		Data:              []byte{0, 1, 2, 0xff},
		MediaType:         3,
		RemoteMediaURL:    "https://media.example/" + content,
		PersistFlag:       3,
		ExpireDuration:    60,
		MentionedType:     group.MentionSome,
		MentionedTarget:   []string{"alice", "bot1"},
		Extra:             `{"extra":true}`,
	}
}

// member is an active member row of userID in groupID.
func member(groupID, userID string, typ int) group.Member {
	return group.Member{GroupID: groupID, UserID: userID, Alias: "alias of " + userID, Type: typ,
		Extra: `{"m":1}`, JoinedAt: t0, UpdatedAt: t0}
}

// withPos returns ms with the Pos the store gave each, read back from got.
func withPos(ms []group.Member, got []group.Member) []group.Member {
	pos := make(map[string]int64)
	for _, m := range got {
		pos[m.GroupID+"/"+m.UserID] = m.Pos
	}
	out := make([]group.Member, len(ms))
	for i, m := range ms {
		m.Pos = pos[m.GroupID+"/"+m.UserID]
		out[i] = m
	}
	return out
}

// userIDs returns the ids of ms.
func userIDs(ms []group.Member) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	return ids
}
