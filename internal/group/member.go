package group

import (
	"context"
	"slices"
	"time"
)

// Member types (Wildfire ProtoConstants.GroupMemberType).
const (
	MemberNormal  = 0
	MemberManager = 1
	MemberOwner   = 2
	MemberSilent  = 3 // muted member
	MemberRemoved = 4 // tombstone: kicked or quit; hidden from listings
	MemberAllowed = 5 // may speak while the group is muted
)

// Member is one user's row in one group. Removed members keep their row with
// Type MemberRemoved, as Wildfire does.
type Member struct {
	GroupID  string
	UserID   string
	Alias    string
	Type     int
	Extra    string
	JoinedAt time.Time
	// Pos orders a group's members by the time their row was first written; it
	// is the key of keyset paging. The store assigns it on first insert.
	Pos       int64
	UpdatedAt time.Time
}

// Active reports whether m is a current member (not removed).
func (m Member) Active() bool { return m.Type != MemberRemoved }

// IsAdmin reports whether m is the owner or a manager.
func (m Member) IsAdmin() bool { return m.Type == MemberOwner || m.Type == MemberManager }

// ListMembers returns a group's active members. A robot or user that is not a
// member gets an empty list, as in Wildfire.
func (s *Service) ListMembers(ctx context.Context, a Actor, groupID string) ([]Member, error) {
	if err := checkRead(a, groupID); err != nil {
		return nil, err
	}
	var ms []Member
	err := s.view(ctx, func(r Reader) error {
		if _, err := r.Group(groupID); err != nil {
			return err
		}
		if !a.Admin {
			if _, err := activeMember(r, groupID, a.UserID); ErrorCode(err) == ENotInGroup {
				return nil
			} else if err != nil {
				return err
			}
		}
		var err error
		ms, err = r.Members(groupID)
		return err
	})
	return ms, err
}

// GetMember returns one active member. A robot or user must be a member itself.
func (s *Service) GetMember(ctx context.Context, a Actor, groupID, memberID string) (Member, error) {
	if err := checkRead(a, groupID, memberID); err != nil {
		return Member{}, err
	}
	var m Member
	err := s.view(ctx, func(r Reader) error {
		if _, err := r.Group(groupID); err != nil {
			return err
		}
		if !a.Admin {
			if _, err := activeMember(r, groupID, a.UserID); err != nil {
				return err
			}
		}
		var err error
		m, err = r.Member(groupID, memberID)
		if err == nil && !m.Active() {
			return Errorf(ENotExist, "%s is not a member of %s", memberID, groupID)
		}
		return err
	})
	return m, err
}

// checkRead validates the actor and the ids of a read.
func checkRead(a Actor, ids ...string) error {
	if err := checkActor(a); err != nil {
		return err
	}
	return checkText("id", ids...)
}

// checkMemberIDs validates the member ids of one call.
func (s *Service) checkMemberIDs(ids []string) error {
	if len(ids) == 0 {
		return Errorf(EInvalidParam, "members is empty")
	}
	if len(ids) > s.cfg.MaxMembersPerCall {
		return Errorf(EInvalidParam, "more than %d members in one call", s.cfg.MaxMembersPerCall)
	}
	for _, id := range ids {
		if err := checkID("member id", id); err != nil {
			return err
		}
	}
	return nil
}

// AddMembers adds members to a group (Wildfire member/add). Members present
// already are skipped; the notification lists every requested member.
func (s *Service) AddMembers(ctx context.Context, a Actor, groupID string, members []Member, n Notify) error {
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.UserID
		if err := checkText("member alias and extra", m.Alias, m.Extra); err != nil {
			return err
		}
	}
	if err := s.checkMemberIDs(ids); err != nil {
		return err
	}
	done, err := s.bulkTurn(ctx, len(ids))
	if err != nil {
		return err
	}
	defer done()
	// The actor's row is read with the others', and the group, its count
	// and the members' bots with them: one read, not five.
	lookup := ids
	if !a.Admin {
		lookup = append(slices.Clip(ids), a.UserID)
	}
	var (
		read  []Member
		count int
		bots  []Bot
	)
	get := func(tx Tx) (g Group, err error) {
		g, read, count, bots, err = tx.GroupJoining(groupID, lookup, ids)
		return g, err
	}
	return s.writeGroupBy(ctx, a, groupID, n, get, func(tx Tx, g Group, now time.Time) error {
		rows := byUser(read)
		if !a.Admin {
			if err := mayAdd(tx, a, g, ids, rows); err != nil {
				return err
			}
		}
		var added []Member
		seen := make(map[string]bool, len(members))
		for _, m := range members {
			if seen[m.UserID] {
				continue
			}
			seen[m.UserID] = true
			if old, ok := rows[m.UserID]; ok && old.Active() {
				continue
			}
			typ := MemberNormal
			if m.UserID == g.Owner {
				typ = MemberOwner
			}
			added = append(added, Member{GroupID: g.ID, UserID: m.UserID, Alias: m.Alias, Extra: m.Extra, Type: typ, JoinedAt: now, UpdatedAt: now})
		}
		if len(added) == 0 {
			return Errorf(EAlreadyMember, "every member is in the group already")
		}
		if limit := s.memberLimit(g); count+len(added) > limit {
			return Errorf(EExceedMax, "%d members exceed the group's limit of %d", count+len(added), limit)
		}
		if err := tx.PutMembers(added); err != nil {
			return err
		}
		if err := s.notify(tx, g.ID, a.UserID, &Notification{Type: NotifyAddMember, GroupID: g.ID, Operator: a.UserID, Members: ids}, n, now); err != nil {
			return err
		}
		joined := make(map[string]bool, len(added))
		for _, m := range added {
			joined[m.UserID] = true
		}
		bots = slices.DeleteFunc(bots, func(b Bot) bool { return !joined[b.UserID] })
		return botsJoinedOf(tx, g.ID, inBotOrder(bots), a.UserID, now)
	})
}

// mayAdd applies Wildfire's member/add rules for a robot or user, in
// Wildfire's order; rows holds the actor's member row if it has one.
func mayAdd(tx Reader, a Actor, g Group, ids []string, rows map[string]Member) error {
	t, err := rulesType(tx, a, g)
	if err != nil {
		return err
	}
	if t == GroupOrganization {
		return Errorf(ENotRight, "only the server adds members to an organization group")
	}
	selfJoin := len(ids) == 1 && ids[0] == a.UserID
	am, exists := rows[a.UserID]
	if exists && !am.Active() && !selfJoin {
		return Errorf(ENotInGroup, "%s has left %s", a.UserID, g.ID)
	}
	if exists && am.Type == MemberSilent {
		return Errorf(ENotRight, "a muted member may not add members")
	}
	if t == GroupRestricted && !(exists && am.Active() && am.IsAdmin()) {
		if g.JoinType == JoinManagers {
			return Errorf(ENotRight, "only the owner or a manager adds members")
		}
		if g.JoinType == JoinMembers && selfJoin {
			return Errorf(ENotRight, "members join by invitation only")
		}
	}
	if !(exists && am.Active()) && !selfJoin {
		return Errorf(ENotInGroup, "%s is not a member of %s", a.UserID, g.ID)
	}
	return nil
}

// KickMembers removes members from a group (Wildfire member/del). The owner
// cannot be removed. The notification goes out before the removal.
func (s *Service) KickMembers(ctx context.Context, a Actor, groupID string, ids []string, n Notify) error {
	if err := s.checkMemberIDs(ids); err != nil {
		return err
	}
	done, err := s.bulkTurn(ctx, len(ids))
	if err != nil {
		return err
	}
	defer done()
	return s.writeGroup(ctx, a, groupID, n, func(tx Tx, g Group, now time.Time) error {
		if !a.Admin {
			if t, err := rulesType(tx, a, g); err != nil {
				return err
			} else if t == GroupOrganization {
				return Errorf(ENotRight, "only the server removes members of an organization group")
			}
		}
		for _, id := range ids {
			if id == g.Owner {
				return Errorf(ENotRight, "the owner cannot be removed")
			}
		}
		if !a.Admin {
			am, err := activeMember(tx, g.ID, a.UserID)
			if err != nil && ErrorCode(err) != ENotInGroup {
				return err
			}
			switch {
			case err == nil && am.IsAdmin():
			case g.Type != GroupFree:
				return Errorf(ENotRight, "only the owner or a manager removes members")
			case err != nil: // a free group lets any member kick, not strangers
				return err
			}
		}
		if err := s.notify(tx, g.ID, a.UserID, &Notification{Type: NotifyKickMember, GroupID: g.ID, Operator: a.UserID, Members: ids}, n, now); err != nil {
			return err
		}
		return removeMembers(tx, g.ID, ids, a.UserID, now)
	})
}

// removeMembers turns the active rows of ids into tombstones.
func removeMembers(tx Tx, groupID string, ids []string, operator string, now time.Time) error {
	rows, err := tx.MembersOf(groupID, ids)
	if err != nil {
		return err
	}
	var removed []Member
	for _, m := range rows {
		if m.Active() {
			m.Type, m.UpdatedAt = MemberRemoved, now
			removed = append(removed, m)
		}
	}
	if err := tx.PutMembers(removed); err != nil {
		return err
	}
	gone := make([]string, len(removed))
	for i, m := range removed {
		gone[i] = m.UserID
	}
	return botsLeft(tx, groupID, gone, operator, now)
}

// memberRows reads the rows of ids in groupID, by user id.
func memberRows(r Reader, groupID string, ids []string) (map[string]Member, error) {
	rows, err := r.MembersOf(groupID, ids)
	if err != nil {
		return nil, err
	}
	return byUser(rows), nil
}

// byUser returns rows by user id.
func byUser(rows []Member) map[string]Member {
	byID := make(map[string]Member, len(rows))
	for _, m := range rows {
		byID[m.UserID] = m
	}
	return byID
}

// QuitGroup makes the actor leave a group; only a member may (Wildfire does
// not check, which would let anyone post into any group). An owner leaving a
// non-free group hands it to the earliest other member, or dismisses it if
// nobody is left.
func (s *Service) QuitGroup(ctx context.Context, a Actor, groupID string, n Notify) error {
	if a.UserID == "" {
		return Errorf(EInvalidParam, "operator is empty: only a user quits")
	}
	return s.writeGroup(ctx, a, groupID, n, func(tx Tx, g Group, now time.Time) error {
		if t, err := rulesType(tx, a, g); err != nil {
			return err
		} else if t == GroupOrganization && !a.Admin {
			return Errorf(ENotRight, "only the server removes members of an organization group")
		}
		// Wildfire does not check membership here; qun does, or anyone could
		// post a 107 (or any notify_message payload) into any group.
		if _, err := activeMember(tx, g.ID, a.UserID); err != nil {
			return err
		}
		if err := s.notify(tx, g.ID, a.UserID, &Notification{Type: NotifyQuitGroup, GroupID: g.ID, Operator: a.UserID}, n, now); err != nil {
			return err
		}
		if g.Owner == a.UserID && g.Type != GroupFree {
			heir, err := firstOtherMember(tx, g.ID, a.UserID)
			if IsNotExist(err) {
				if err := removeMembers(tx, g.ID, []string{a.UserID}, a.UserID, now); err != nil {
					return err
				}
				return tx.DeleteGroup(g.ID)
			}
			if err != nil {
				return err
			}
			heir.Type, heir.UpdatedAt = MemberOwner, now
			if err := tx.PutMember(heir); err != nil {
				return err
			}
			g.Owner, g.UpdatedAt = heir.UserID, now
			if err := tx.PutGroup(g); err != nil {
				return err
			}
		}
		return removeMembers(tx, g.ID, []string{a.UserID}, a.UserID, now)
	})
}

// firstOtherMember returns the active member with the lowest Pos other than userID.
func firstOtherMember(r Reader, groupID, userID string) (Member, error) {
	ms, err := r.MembersPage(groupID, 0, 2)
	if err != nil {
		return Member{}, err
	}
	for _, m := range ms {
		if m.UserID != userID {
			return m, nil
		}
	}
	return Member{}, Errorf(ENotExist, "no other member in %s", groupID)
}

// SetMemberAlias sets a member's alias; an empty memberID means the actor's own.
func (s *Service) SetMemberAlias(ctx context.Context, a Actor, groupID, memberID, alias string, n Notify) error {
	if err := checkText("alias", alias); err != nil {
		return err
	}
	return s.setMemberField(ctx, a, groupID, memberID, n, true, func(m *Member) { m.Alias = alias },
		func(g, o, m string) *Notification {
			return &Notification{Type: NotifyMemberAlias, GroupID: g, Operator: o, Value: alias, Member: m}
		})
}

// SetMemberExtra sets a member's extra; an empty memberID means the actor's own.
func (s *Service) SetMemberExtra(ctx context.Context, a Actor, groupID, memberID, extra string, n Notify) error {
	if err := checkText("extra", extra); err != nil {
		return err
	}
	return s.setMemberField(ctx, a, groupID, memberID, n, false, func(m *Member) { m.Extra = extra },
		func(g, o, m string) *Notification {
			return &Notification{Type: NotifyMemberExtra, GroupID: g, Operator: o, Value: extra, Member: m}
		})
}

// setMemberField applies Wildfire's alias/extra rules: the owner may set
// anyone's; others need both rows (active ones for alias), and a manager may
// set only a manager's, as Wildfire codes it.
func (s *Service) setMemberField(ctx context.Context, a Actor, groupID, memberID string, n Notify, activeOnly bool,
	set func(*Member), builtin func(g, o, m string) *Notification) error {
	target := memberID
	if target == "" {
		target = a.UserID
	}
	if err := checkID("memberId", target); err != nil {
		return err
	}
	return s.writeGroup(ctx, a, groupID, n, func(tx Tx, g Group, now time.Time) error {
		row := func(id string) (Member, error) {
			m, err := tx.Member(g.ID, id)
			if IsNotExist(err) || (err == nil && activeOnly && !m.Active()) {
				return Member{}, Errorf(ENotInGroup, "%s is not a member of %s", id, g.ID)
			}
			return m, err
		}
		if !a.Admin && memberID != "" && g.Owner != a.UserID {
			am, err := row(a.UserID)
			if err != nil {
				return err
			}
			tm, err := row(target)
			if err != nil {
				return err
			}
			if am.Type == MemberManager && tm.Type != MemberManager {
				return Errorf(ENotRight, "a manager may not change this member")
			}
		}
		m, err := row(target)
		if err != nil {
			return err
		}
		set(&m)
		m.UpdatedAt = now
		if err := tx.PutMember(m); err != nil {
			return err
		}
		return s.notify(tx, g.ID, a.UserID, builtin(g.ID, a.UserID, target), n, now)
	})
}

// memberRole is the kind of change SetMemberRole makes.
type memberRole struct {
	notification int
	// apply returns the new type of a member of type t, and whether it changes.
	apply func(t int, on, byOwner bool) (int, bool)
	// ownerOnly: only the owner (or the server) may make the change.
	ownerOnly bool
}

var (
	roleManager = memberRole{NotifySetManager, func(t int, on, _ bool) (int, bool) {
		switch {
		case on && t != MemberManager:
			return MemberManager, true
		case !on && t == MemberManager:
			return MemberNormal, true
		}
		return t, false
	}, true}
	roleMute = memberRole{NotifyMuteMember, func(t int, on, byOwner bool) (int, bool) {
		switch {
		case on && (t == MemberNormal || t == MemberAllowed || (t == MemberManager && byOwner)):
			return MemberSilent, true
		case !on && t == MemberSilent:
			return MemberNormal, true
		}
		return t, false
	}, false}
	roleAllow = memberRole{NotifyAllowMember, func(t int, on, _ bool) (int, bool) {
		switch {
		case on && (t == MemberNormal || t == MemberSilent):
			return MemberAllowed, true
		case !on && t == MemberAllowed:
			return MemberNormal, true
		}
		return t, false
	}, false}
)

// SetManagers makes members managers (on) or normal members again (off). Only the owner may.
func (s *Service) SetManagers(ctx context.Context, a Actor, groupID string, ids []string, on bool, n Notify) error {
	return s.setRole(ctx, a, groupID, ids, on, n, roleManager)
}

// MuteMembers mutes members (on) or lifts their mute (off). The owner or a manager may.
func (s *Service) MuteMembers(ctx context.Context, a Actor, groupID string, ids []string, on bool, n Notify) error {
	return s.setRole(ctx, a, groupID, ids, on, n, roleMute)
}

// AllowMembers lets members speak while the group is muted (on), or no longer (off).
func (s *Service) AllowMembers(ctx context.Context, a Actor, groupID string, ids []string, on bool, n Notify) error {
	return s.setRole(ctx, a, groupID, ids, on, n, roleAllow)
}

// setRole changes the member type of ids. Unknown ids are ignored; the owner
// is never changed.
func (s *Service) setRole(ctx context.Context, a Actor, groupID string, ids []string, on bool, n Notify, role memberRole) error {
	if err := s.checkMemberIDs(ids); err != nil {
		return err
	}
	done, err := s.bulkTurn(ctx, len(ids))
	if err != nil {
		return err
	}
	defer done()
	return s.writeGroup(ctx, a, groupID, n, func(tx Tx, g Group, now time.Time) error {
		byOwner := a.Admin || g.Owner == a.UserID
		if !a.Admin {
			if t, err := rulesType(tx, a, g); err != nil {
				return err
			} else if t == GroupOrganization {
				return Errorf(ENotRight, "only the server manages roles in an organization group")
			}
			am, err := activeMember(tx, g.ID, a.UserID)
			if ErrorCode(err) == ENotInGroup || (err == nil && !am.IsAdmin()) || (err == nil && role.ownerOnly && am.Type != MemberOwner) {
				return Errorf(ENotRight, "%s may not change member roles in %s", a.UserID, g.ID)
			}
			if err != nil {
				return err
			}
		}
		for _, id := range ids {
			if id == g.Owner {
				return Errorf(ENotRight, "the owner's role cannot change")
			}
		}
		rows, err := tx.MembersOf(g.ID, ids)
		if err != nil {
			return err
		}
		var changed []Member
		for _, m := range rows {
			if !m.Active() {
				continue
			}
			if t, ok := role.apply(m.Type, on, byOwner); ok {
				m.Type, m.UpdatedAt = t, now
				changed = append(changed, m)
			}
		}
		if err := tx.PutMembers(changed); err != nil {
			return err
		}
		v := "0"
		if on {
			v = "1"
		}
		return s.notify(tx, g.ID, a.UserID, &Notification{Type: role.notification, GroupID: g.ID, Operator: a.UserID, Value: v, Members: ids}, n, now)
	})
}

// MaxMembersPage is the largest page MembersPage serves.
const MaxMembersPage = 500

// MembersPage returns up to limit active members of groupID with Pos > afterPos,
// in Pos order, and the Pos to continue after (0 when there are no more). The
// page is read by key, so its cost does not grow with the group. A robot or
// user must be an active member itself.
func (s *Service) MembersPage(ctx context.Context, a Actor, groupID string, afterPos int64, limit int) ([]Member, int64, error) {
	if limit < 1 || limit > MaxMembersPage {
		return nil, 0, Errorf(EInvalidParam, "limit %d is out of 1..%d", limit, MaxMembersPage)
	}
	if afterPos < 0 {
		return nil, 0, Errorf(EInvalidParam, "start %d is negative", afterPos)
	}
	if err := checkRead(a, groupID); err != nil {
		return nil, 0, err
	}
	var ms []Member
	err := s.view(ctx, func(r Reader) error {
		if _, err := r.Group(groupID); err != nil {
			return err
		}
		if !a.Admin {
			if _, err := activeMember(r, groupID, a.UserID); err != nil {
				return err
			}
		}
		var err error
		ms, err = r.MembersPage(groupID, afterPos, limit+1)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(ms) > limit {
		ms = ms[:limit]
		next = ms[limit-1].Pos
	}
	return ms, next, nil
}

// GroupBots returns the ids of the bots that are active members of groupID.
func (s *Service) GroupBots(ctx context.Context, groupID string) ([]string, error) {
	var ids []string
	err := s.view(ctx, func(r Reader) error {
		if _, err := r.Group(groupID); err != nil {
			return err
		}
		var err error
		ids, err = r.BotMembers(groupID)
		return err
	})
	return ids, err
}
