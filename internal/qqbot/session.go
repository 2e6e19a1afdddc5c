package qqbot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/coder/websocket"

	"github.com/qun-chat/qun/internal/group"
)

// Intents (QQ bits). Every group event qun emits needs GROUP_AND_C2C_EVENT.
const (
	intentGuilds              = 1 << 0
	intentGuildMembers        = 1 << 1
	intentPublicGuildMessages = 1 << 30

	// knownIntents are the bits that name an intent (the domain's
	// catalogue, group.Intents). Any other bit closes with 4013.
	knownIntents = group.KnownIntents
	// defaultIntents are what a bot with Bot.Intents 0 may ask for.
	defaultIntents = group.DefaultIntents
)

// sessionTouchInterval is how often a live session's UpdatedAt and progress
// are written (on a heartbeat), so that a session stays resumable while it is
// used and a resume continues close to where the connection was.
const sessionTouchInterval = time.Minute

// touchTimeout bounds a touch's store call; it does not use the server's
// context, so that a connection ending at shutdown still stores its progress.
const touchTimeout = 5 * time.Second

// maxConnGroups bounds the groups whose openid and shard one connection
// keeps (two generations of it, about 100 bytes each): a bot in more groups
// only recomputes some.
const maxConnGroups = 128

// conn is one gateway connection. Only its own goroutine uses it, except
// id and kick, which kickConn reads.
type conn struct {
	s    *Server
	ws   *websocket.Conn
	sock *burstConn    // ws's socket: bursts of event frames are written together
	id   string        // set before the connection is tracked; stored in the session it holds (Session.ConnID)
	kick chan struct{} // the session was resumed on another connection of this node

	sess group.Session // ID "" until identify or resume succeeds

	bot       authBot
	replaying bool            // a resume is replaying missed events
	cursor    int64           // the last event seq judged: sent, or not the session's
	sent      int64           // the log seq of the last event sent
	wake      <-chan struct{} // closed when the bot's log grows; nil before identify
	feed      group.EventFeed // the bot's events committed in this process; nil before identify or resume
	user      group.User      // the bot's user, as the last read of the log read it, if haveUser
	haveUser  bool
	touched   time.Time // when the session was last written
	groups    *cache[string, connGroup]
}

// connGroup is a group as the connection's bot sees it.
type connGroup struct {
	openID string
	shard  int
}

// group returns the openid and shard of an internal group id, computed once
// per connection: the openid is an HMAC, and every event of the group needs it.
func (c *conn) group(groupID string) connGroup {
	if c.groups == nil {
		c.groups = newCache[string, connGroup](maxConnGroups)
	}
	g, ok := c.groups.get(groupID)
	if !ok {
		g.openID = c.s.openID(c.botID(), group.OpenIDGroup, groupID)
		g.shard = shardOf(g.openID, c.sess.ShardCount)
		c.groups.put(groupID, g)
	}
	return g
}

func (c *conn) identified() bool { return c.sess.ID != "" }

func (c *conn) botID() string { return c.bot.bot.UserID }

// identifyData is the d of op 2.
type identifyData struct {
	Token   *string `json:"token"`
	Intents *int64  `json:"intents"`
	Shard   []int64 `json:"shard"`
}

// decodeIdentify decodes and checks the shape of an identify's d.
func decodeIdentify(d json.RawMessage) (identifyData, *closeError) {
	var id identifyData
	if !isObject(d) || json.Unmarshal(d, &id) != nil {
		return identifyData{}, closeWith(closeBadPayload, "identify d is not {token, intents, shard}")
	}
	if id.Token == nil || *id.Token == "" {
		return identifyData{}, closeWith(closeAuthFailed, "authentication failed")
	}
	return id, nil
}

// resumeData is the d of op 6.
type resumeData struct {
	Token     *string `json:"token"`
	SessionID *string `json:"session_id"`
	Seq       *int64  `json:"seq"`
}

// decodeResume decodes and checks the shape of a resume's d.
func decodeResume(d json.RawMessage) (resumeData, *closeError) {
	var rd resumeData
	if !isObject(d) || json.Unmarshal(d, &rd) != nil || (rd.Seq != nil && *rd.Seq < 0) {
		return resumeData{}, closeWith(closeBadPayload, "resume d is not {token, session_id, seq}")
	}
	if rd.Token == nil || *rd.Token == "" {
		return resumeData{}, closeWith(closeAuthFailed, "authentication failed")
	}
	return rd, nil
}

// checkShard returns the [id, count] an identify asks for; absent and [0,0] mean [0,1].
func checkShard(shard []int64, maxShards int) (id, count int, ce *closeError) {
	switch {
	case shard == nil:
		return 0, 1, nil
	case len(shard) != 2:
		return 0, 0, closeWith(closeInvalidShard, "shard is not [shard_id, shard_count]")
	case shard[0] == 0 && shard[1] == 0:
		return 0, 1, nil
	case shard[1] < 1 || shard[0] < 0 || shard[0] >= shard[1]:
		return 0, 0, closeWith(closeInvalidShard, "invalid shard")
	case shard[1] > int64(maxShards):
		return 0, 0, closeWith(closeShardingRequired, fmt.Sprintf("at most %d shards", maxShards))
	}
	return int(shard[0]), int(shard[1]), nil
}

// checkIntents checks requested intents against the bot's allowed ones (0: the default set).
func checkIntents(requested, allowed int64) *closeError {
	if requested < 0 || requested&^knownIntents != 0 {
		return closeWith(closeInvalidIntents, "invalid intents")
	}
	if allowed == 0 {
		allowed = defaultIntents
	}
	if requested&^allowed != 0 {
		return closeWith(closeDisallowedIntents, "disallowed intents")
	}
	return nil
}

// shardOf returns the shard a group's events go to: FNV-1a (32 bit) of the
// group's openid, as the bot sees it, modulo the shard count.
func shardOf(groupOpenID string, count int) int {
	if count <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(groupOpenID))
	return int(h.Sum32() % uint32(count))
}

// gatewayAuth authenticates a gateway token; a bad one closes with 4004.
func (c *conn) gatewayAuth(token string) (authBot, error) {
	b, err := c.s.authenticate(c.s.ctx, token, false)
	var ae *apiError
	if errors.As(err, &ae) {
		return authBot{}, closeWith(closeAuthFailed, "authentication failed: "+ae.detail)
	}
	return b, err
}

// readyData is the d of READY.
type readyData struct {
	Version   int       `json:"version"`
	SessionID string    `json:"session_id"`
	User      readyUser `json:"user"`
	Shard     [2]int    `json:"shard"`
}

type readyUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Bot      bool   `json:"bot"`
}

// wireSeq is the s a frame carries for a log seq: one more. An event's frame
// carries wireSeq of the event's seq, READY and RESUMED that of the session's
// cursor, so that s is never 0 and READY's s is the s of the bot's last event
// (1 for a bot without any). With s 0 for an empty log, qq-guild-bot keeps no
// session (it keeps one only if s is not 0) and qq-official-bot resumes from
// "seq || 1", which is after the first event: both would lose the bot's first
// event (its GROUP_ADD_ROBOT) across a reconnect.
//
// The offset lives at the gateway's edge alone: the log, the event ids and
// the session's Cursor and Sent keep log seqs, so a resume stays exact and
// event ids stay valid whatever a client does with s.
func wireSeq(seq int64) int64 { return seq + 1 }

// logSeq is the log seq of a resume's seq: one less. 0, which no frame
// carries (a client that kept no s), means nothing received, as 1 does.
func logSeq(s int64) int64 { return max(s-1, 0) }

// identify starts a new session. READY's s is that of the bot's last event:
// the session gets the events after it.
func (c *conn) identify(d json.RawMessage) error {
	s := c.s
	id, ce := decodeIdentify(d)
	if ce != nil {
		return ce
	}
	b, err := c.gatewayAuth(*id.Token)
	if err != nil {
		return err
	}
	shardID, shardCount, ce := checkShard(id.Shard, s.opts.MaxShards)
	if ce != nil {
		return ce
	}
	var intents int64
	if id.Intents != nil {
		intents = *id.Intents
	}
	if ce := checkIntents(intents, b.bot.Intents); ce != nil {
		return ce
	}
	now := s.now()
	if !s.identifyRate.allow(b.bot.UserID, now) {
		return closeWith(closeRateLimited, "identify too fast")
	}
	sess := group.Session{ID: newSessionID(), BotID: b.bot.UserID, ShardID: shardID, ShardCount: shardCount,
		Intents: intents, CreatedAt: now, UpdatedAt: now, ConnID: c.id, Node: s.opts.Node, ConnectedAt: now}
	// Wait before reading the last seq, so that no later event is missed.
	wake := s.store.WaitEvents(b.bot.UserID)
	feed := s.store.FeedEvents(b.bot.UserID)
	var user group.User
	err = s.store.UpdateSession(s.ctx, sess.ID, func(r group.Reader, _ group.Session, _ bool) (group.Session, bool, error) {
		last, err := r.LastEventSeq(sess.BotID)
		if err != nil {
			return sess, false, err
		}
		// READY's s is last; no event has been sent on this session yet.
		sess.Cursor, sess.Sent = last, 0
		user, err = r.User(sess.BotID)
		if group.IsNotExist(err) {
			err = nil
		}
		return sess, err == nil, err
	})
	if err != nil {
		feed.Close()
		return fmt.Errorf("identify: %w", err)
	}
	c.sess = sess
	c.bot, c.cursor, c.wake, c.feed, c.touched = b, sess.Cursor, wake, feed, now
	name := user.DisplayName
	if name == "" {
		name = user.Name
	}
	if err := c.write(dispatch{Op: opDispatch, S: wireSeq(sess.Cursor), T: "READY", D: readyData{
		Version:   1,
		SessionID: sess.ID,
		User:      readyUser{ID: b.bot.AppID, Username: name, Bot: true},
		Shard:     [2]int{shardID, shardCount},
	}}); err != nil {
		return err
	}
	s.opts.Observer.SessionStarted(false)
	s.log.Debug("qqbot: identify", "bot", sess.BotID, "session", sess.ID, "shard", [2]int{shardID, shardCount},
		"intents", intents, "seq", sess.Cursor, "conn", c.id)
	return nil
}

// Why a resume gets op 9.
var (
	errSessionUnknown = errors.New("unknown session")
	errSessionForeign = errors.New("another bot's session")
	errSessionExpired = errors.New("session unseen past the session retention")
	errSeqAhead       = errors.New("seq ahead of the log")
	errEventsGone     = errors.New("missed events pruned or past the event retention")
	// A resume does not carry intents: a session that identified with some
	// the bot has since lost is refused, so that the client identifies anew
	// and is checked against the bot's intents of now.
	errIntentsWithdrawn = errors.New("the session's intents are no longer all allowed")
)

// resumeState is what a resume is decided on: the request, and what the
// store holds, read in the transaction that claims the session.
type resumeState struct {
	botID   string    // the bot the resume's token authenticates
	allowed int64     // the intents the bot may have now (Bot.AllowedIntents)
	seq     int64     // the client's seq, as a log seq
	now     time.Time // the decision's time

	sess group.Session // the stored session; ID "" if there is none
	last int64         // the bot's last event seq
	next []group.Event // the first event after resumeStart(sess, seq), if one is left
}

// resumeStart is the log seq a resume's replay continues after.
//
// A client's seq moves only with the frames of its own shard, so a quiet
// shard's seq may be far behind the log. When the client has everything the
// session was sent (seq >= Sent), the events up to the session's Cursor were
// judged not its own, and the replay continues after the later of seq and
// Cursor: only the events from there on must still be in the log. A client
// that missed frames (seq < Sent) is replayed from seq.
func resumeStart(sess group.Session, seq int64) int64 {
	if seq >= sess.Sent {
		return max(seq, sess.Cursor)
	}
	return seq
}

// decideResume decides a resume: the log seq its replay continues after, or
// why the session cannot be resumed (one of the errXxx above).
func decideResume(st resumeState, sessionRetention, eventRetention time.Duration) (int64, error) {
	switch {
	case st.sess.ID == "":
		return 0, errSessionUnknown
	case st.sess.BotID != st.botID:
		return 0, errSessionForeign
	case st.now.Sub(st.sess.UpdatedAt) > sessionRetention:
		return 0, errSessionExpired
	case st.sess.Intents&^st.allowed != 0:
		return 0, errIntentsWithdrawn
	case st.seq > st.last:
		return 0, errSeqAhead
	}
	from := resumeStart(st.sess, st.seq)
	if from < st.last {
		// The first event not judged yet must still be there and within retention.
		if len(st.next) == 0 || st.next[0].Seq != from+1 || st.now.Sub(st.next[0].CreatedAt) > eventRetention {
			return 0, errEventsGone
		}
	}
	return from, nil
}

// readResume reads what decideResume needs about the stored session sess
// (found false if there is none).
func readResume(r group.Reader, st resumeState, sess group.Session, found bool) (resumeState, error) {
	if !found {
		return st, nil
	}
	var err error
	st.sess = sess
	if sess.BotID != st.botID {
		return st, nil // refused: nothing of the other bot is read
	}
	if st.last, err = r.LastEventSeq(sess.BotID); err != nil {
		return st, err
	}
	if from := resumeStart(sess, st.seq); from < st.last {
		st.next, err = r.Events(sess.BotID, from, 1)
	}
	return st, err
}

// resume continues a session: it replays every event of the session's shard
// after seq (see resumeStart), then sends RESUMED. An unknown, foreign or
// expired session, or one whose missed events are gone, gets op 9 and a close.
//
// The decision and the claim (the session's ConnID) are one UpdateSession,
// which reads the session locked (PostgreSQL) or inside the one writer (SQLite):
// of two resumes of one session, the later claim takes the session from the
// earlier one, exactly as from any connection holding it, and the holder it
// took it from is closed with 4006.
func (c *conn) resume(d json.RawMessage) error {
	s := c.s
	rd, ce := decodeResume(d)
	if ce != nil {
		return ce
	}
	b, err := c.gatewayAuth(*rd.Token)
	if err != nil {
		return err
	}
	now := s.now()
	if !s.identifyRate.allow(b.bot.UserID, now) {
		return closeWith(closeRateLimited, "resume too fast")
	}
	var seq int64
	if rd.Seq != nil {
		seq = logSeq(*rd.Seq)
	}
	var claimed group.Session
	var from int64
	var prev string // the connection the session is taken from
	refused := errSessionUnknown
	// Before the log is read, so that the feed misses nothing after it.
	feed := s.store.FeedEvents(b.bot.UserID)
	if rd.SessionID != nil && *rd.SessionID != "" {
		err = s.store.UpdateSession(s.ctx, *rd.SessionID, func(r group.Reader, cur group.Session, found bool) (group.Session, bool, error) {
			st, err := readResume(r, resumeState{botID: b.bot.UserID, allowed: b.bot.AllowedIntents(), seq: seq, now: now}, cur, found)
			if err != nil {
				return cur, false, err
			}
			if from, refused = decideResume(st, s.opts.SessionRetention, s.opts.EventRetention); refused != nil {
				return cur, false, nil
			}
			claimed, prev = st.sess, st.sess.ConnID
			claimed.UpdatedAt, claimed.Cursor, claimed.Sent, claimed.ConnID = now, from, seq, c.id
			claimed.Node, claimed.ConnectedAt = s.opts.Node, now
			return claimed, true, nil
		})
		if err != nil {
			feed.Close()
			return fmt.Errorf("resume: %w", err)
		}
	}
	if refused != nil {
		feed.Close()
		s.opts.Observer.InvalidSession()
		s.log.Debug("qqbot: resume refused", "bot", b.bot.UserID, "reason", refused)
		if err := c.write(invalidSessionFrame{Op: opInvalidSession, D: false}); err != nil {
			return err
		}
		return closeWith(closeSessionInvalid, "invalid session")
	}
	// A connection of this node that held the session is told at once; one
	// on another node finds out at its next heartbeat.
	s.kickConn(prev)
	c.sess = claimed
	c.bot, c.cursor, c.sent, c.feed, c.touched = b, from, seq, feed, now
	c.replaying = true
	if err := c.deliver(s.ctx); err != nil {
		return err
	}
	c.replaying = false
	if err := c.write(dispatch{Op: opDispatch, S: wireSeq(c.cursor), T: "RESUMED", D: ""}); err != nil {
		return err
	}
	s.opts.Observer.SessionStarted(true)
	s.log.Debug("qqbot: resume", "bot", b.bot.UserID, "session", claimed.ID, "seq", seq, "replayed_to", c.cursor, "conn", c.id)
	return nil
}

// dispatch sends events' op 0 frames as one burst and notes the last one's
// seq as the last event sent. A burst that fails moves neither Sent nor the
// cursor: the connection ends, and a resume replays the burst from the
// client's seq. READY and RESUMED are written directly: a client that
// ignores their s must not make the session look further along than the
// events it got.
func (c *conn) dispatch(frames []dispatch) error {
	if err := c.writeBurst(frames); err != nil {
		return err
	}
	if len(frames) > 0 {
		c.sent = frames[len(frames)-1].seq
	}
	for range frames {
		c.s.opts.Observer.EventDelivered(c.replaying)
	}
	return nil
}

// wants reports whether the session gets an event: its intents include the
// event's and the event's group belongs to the session's shard.
func (c *conn) wants(e group.Event) bool {
	if c.sess.Intents&intentGroupAndC2C == 0 {
		return false
	}
	return c.sess.ShardCount <= 1 || c.group(e.GroupID).shard == c.sess.ShardID
}

// deliver sends the bot's events after the cursor that the session wants,
// until it has caught up; it then waits for the next commit. The openids the
// frames show are stored before the bot can see them.
//
// A session that is caught up sends what the commits handed its feed
// (fromFeed) without reading the log; it reads the log when the feed cannot
// stand in for it: behind, after a resume, or when the handed events do not
// continue its cursor or stop short of what was committed.
func (c *conn) deliver(ctx context.Context) error {
	s, botID := c.s, c.botID()
	for {
		wake := s.store.WaitEvents(botID) // before the read: nothing is missed
		done, err := c.fromFeed(ctx)
		if err != nil {
			return err
		}
		if done {
			c.wake = wake
			return nil
		}
		var frames []dispatch
		var last int64
		ids := s.newOpenIDs(botID)
		want := func(e group.Event) bool { return isGatewayEvent(e.Type) && c.wants(e) }
		evs, src, err := c.readLog(ctx, want)
		// The feed renders with the user this read read: one it did not
		// read may have changed since the feed was last taken.
		c.haveUser = err == nil && src.readBot
		if err != nil {
			return fmt.Errorf("read events: %w", err)
		}
		c.user = src.bot
		n := len(evs)
		for _, e := range evs {
			last = e.Seq
			if want(e) {
				frames = append(frames, s.renderEvent(&src, ids, e, c.group(e.GroupID).openID))
			}
		}
		if err := ids.store(ctx); err != nil {
			return err
		}
		if err := c.dispatch(frames); err != nil {
			return err
		}
		if n > 0 {
			c.cursor = last
		}
		if n < DefaultEventBatch {
			c.wake = wake
			return nil
		}
	}
}

// readLog reads the bot's events after the cursor, up to DefaultEventBatch,
// and the sources of those want says are rendered: in one go from a store
// that is a BurstReader, else in a View.
func (c *conn) readLog(ctx context.Context, want func(group.Event) bool) ([]group.Event, eventSources, error) {
	s, botID := c.s, c.botID()
	if br, ok := s.store.(BurstReader); ok {
		ces, user, err := br.EventBurst(ctx, botID, c.cursor, DefaultEventBatch)
		if err != nil {
			return nil, eventSources{}, err
		}
		evs := make([]group.Event, len(ces))
		src := eventSources{bot: user, readBot: true}
		for i, ce := range ces {
			evs[i] = ce.Event
			if ce.Message != nil && ce.Event.Type == group.EventAtMessage && ce.Message.UID == ce.Event.MessageUID && want(ce.Event) {
				if src.msgs == nil {
					src.msgs = make(map[int64]group.Message, len(ces))
				}
				src.msgs[ce.Message.UID] = *ce.Message
			}
		}
		return evs, src, nil
	}
	var evs []group.Event
	var src eventSources
	err := s.store.View(ctx, func(r group.Reader) error {
		var err error
		if evs, err = r.Events(botID, c.cursor, DefaultEventBatch); err != nil {
			return err
		}
		src, err = readEventSources(r, botID, evs, want)
		return err
	})
	return evs, src, err
}

// fromFeed takes what the commits handed the session's feed and, when it
// holds every event after the cursor that has been committed (no gap, up to
// the last seq announced) and what rendering them needs (each at-event's
// message, the bot's user read by the last read of the log), sends it as
// one burst and reports true. It reports false when the log must be read;
// what it took is in the log too.
func (c *conn) fromFeed(ctx context.Context) (bool, error) {
	if c.feed == nil {
		return false, nil
	}
	// Taken first in any case: what a commit marks after this (the bot's
	// user changed, say) is seen by the next take.
	handed, woken, lost := c.feed.Take()
	if lost || !c.haveUser {
		return false, nil
	}
	for len(handed) > 0 && handed[0].Event.Seq <= c.cursor {
		handed = handed[1:] // read from the log already
	}
	next := c.cursor
	for _, h := range handed {
		if h.Event.Seq != next+1 {
			return false, nil
		}
		next++
	}
	if next < woken {
		return false, nil // committed, not handed: the log has it
	}
	if len(handed) == 0 {
		return true, nil // nothing new: a wake for what was read already
	}
	s, botID := c.s, c.botID()
	want := func(e group.Event) bool { return isGatewayEvent(e.Type) && c.wants(e) }
	src := eventSources{bot: c.user}
	for _, h := range handed {
		if h.Event.Type != group.EventAtMessage || !want(h.Event) {
			continue
		}
		if h.Message == nil || h.Message.UID != h.Event.MessageUID {
			return false, nil
		}
		if src.msgs == nil {
			src.msgs = make(map[int64]group.Message, len(handed))
		}
		src.msgs[h.Message.UID] = *h.Message
	}
	ids := s.newOpenIDs(botID)
	frames := make([]dispatch, 0, len(handed))
	for _, h := range handed {
		if want(h.Event) {
			frames = append(frames, s.renderEvent(&src, ids, h.Event, c.group(h.Event.GroupID).openID))
		}
	}
	if err := ids.store(ctx); err != nil {
		return false, err
	}
	if err := c.dispatch(frames); err != nil {
		return false, err
	}
	c.cursor = next
	return true, nil
}

// touch checks that this connection still holds its session and records that
// the session is alive and how far it got. On heartbeats it reads the session
// every time and writes it at most every sessionTouchInterval; when the
// connection ends (force) it writes now. A session another connection took
// over (a resume, on any node) is not written, and touch returns the 4006
// close. A failing store is logged and does not end the connection. The
// write when the connection ends (force) lets go of the session (ConnID ""),
// so that it is no longer listed as live.
func (c *conn) touch(force bool) error {
	if !c.identified() {
		return nil
	}
	s := c.s
	now := s.now()
	write := force || now.Sub(c.touched) >= min(sessionTouchInterval, s.opts.SessionRetention/4)
	sess := c.sess
	sess.UpdatedAt, sess.Cursor, sess.Sent, sess.ConnID = now, c.cursor, c.sent, c.id
	if force {
		sess.ConnID = ""
	}
	var taken bool
	ctx, cancel := context.WithTimeout(context.Background(), touchTimeout)
	defer cancel()
	var err error
	if write {
		// A pruned session (not found) is stored again.
		err = s.store.UpdateSession(ctx, sess.ID, func(_ group.Reader, cur group.Session, found bool) (group.Session, bool, error) {
			taken = found && cur.ConnID != c.id
			return sess, !taken, nil
		})
	} else {
		var cur group.Session
		cur, err = s.store.Session(ctx, sess.ID)
		taken = err == nil && cur.ConnID != c.id
		if group.IsNotExist(err) { // pruned: the next write stores it again
			err = nil
		}
	}
	if err != nil {
		s.log.Warn("qqbot: touch session", "bot", sess.BotID, "err", err)
		return nil
	}
	if taken {
		return closeWith(closeSessionInvalid, "session resumed on another connection")
	}
	if write {
		c.touched = now
	}
	return nil
}

// newConnID returns a random connection id: 32 lower-case hex characters.
func newConnID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("qqbot: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// newSessionID returns a random UUID (version 4).
func newSessionID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("qqbot: crypto/rand failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// liveWindow is how long after its last write a session whose connection
// has not ended still counts as held: a connection writes its session at
// least every touch interval, on a heartbeat, and heartbeats come within the
// heartbeat timeout or the connection is closed. A node that died leaves its
// sessions' ConnID set; they stop being live when this passes.
func (s *Server) liveWindow() time.Duration {
	return min(sessionTouchInterval, s.opts.SessionRetention/4) + s.opts.HeartbeatTimeout
}

// Sessions returns the bot's gateway sessions, the last updated first, at
// most limit (1..group.MaxSessionsPage), read from the store: those of every node.
// A session is Live when a connection holds it (ConnID set: the connection
// has not ended) and was seen within liveWindow. Node, ConnectedAt, Sent and
// Cursor are as of the session's last write. An unknown bot is ENotExist.
func (s *Server) Sessions(ctx context.Context, botID string, limit int) ([]group.SessionStatus, error) {
	if limit < 1 || limit > group.MaxSessionsPage {
		return nil, group.Errorf(group.EInvalidParam, "limit %d is out of 1..%d", limit, group.MaxSessionsPage)
	}
	if _, _, err := s.svc.GetRobot(ctx, botID); err != nil {
		return nil, err
	}
	ss, err := s.store.BotSessions(ctx, botID, limit)
	if err != nil {
		return nil, err
	}
	now, window := s.now(), s.liveWindow()
	out := make([]group.SessionStatus, len(ss))
	for i, sess := range ss {
		out[i] = group.SessionStatus{Session: sess, Live: sess.ConnID != "" && now.Sub(sess.UpdatedAt) <= window}
		if sess.Sent > 0 {
			out[i].LastSeq = wireSeq(sess.Sent)
		}
	}
	return out, nil
}
