// Package group is qun's domain: users, robots, groups, members, the group
// timeline and the bots' event log, and every rule of who may change what.
//
// It knows nothing of HTTP, SQL or wire formats and imports only the standard
// library. Doors (Robot API, Admin API, Bot Open Platform) call Service; stores
// implement Store. A write is one call of Store.Update: it checks permissions,
// changes state, appends timeline messages and appends the events of every
// affected bot in one transaction.
package group

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Group types (Wildfire ProtoConstants.GroupType).
const (
	GroupNormal       = 0 // members may add, quit and change name and portrait; the owner may do all
	GroupFree         = 1 // every member may add, quit, kick and transfer
	GroupRestricted   = 2 // members may only quit; the owner may do all
	GroupOrganization = 3 // members may do nothing; the server API manages it, and a robot owner
)

// Join types.
const (
	JoinAnyone   = 0
	JoinMembers  = 1
	JoinManagers = 2
)

// Group is a group's profile and settings.
type Group struct {
	ID             string
	Name           string
	Portrait       string
	Owner          string
	Type           int
	Extra          string
	Mute           int
	JoinType       int
	PrivateChat    int
	Searchable     int
	HistoryMessage int
	MaxMemberCount int // 0: the platform's default limit applies
	SuperGroup     bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Modify types (Wildfire ProtoConstants.ModifyGroupInfoType).
const (
	ModifyName           = 0
	ModifyPortrait       = 1
	ModifyExtra          = 2
	ModifyMute           = 3
	ModifyJoinType       = 4
	ModifyPrivateChat    = 5
	ModifySearchable     = 6
	ModifyHistoryMessage = 7  // Admin API only
	ModifyMaxMemberCount = 8  // Admin API only
	ModifySuperGroup     = 9  // Admin API only
	ModifyGroupType      = 10 // Admin API only
)

// modifyNotification maps a modify type to its built-in notification; types
// without one are absent.
var modifyNotification = map[int]int{
	ModifyName:        NotifyChangeName,
	ModifyPortrait:    NotifyChangePortrait,
	ModifyExtra:       NotifyChangeExtra,
	ModifyMute:        NotifyChangeMute,
	ModifyJoinType:    NotifyChangeJoinType,
	ModifyPrivateChat: NotifyChangePrivateChat,
	ModifySearchable:  NotifyChangeSearchable,
}

// rulesType is the group type whose rules apply to a acting on g: a robot
// acting on an organization group it owns manages it as the owner of a
// restricted group (so a robot can run the organization groups it creates);
// everyone else gets g's own type.
func rulesType(r Reader, a Actor, g Group) (int, error) {
	if g.Type != GroupOrganization || a.Admin || g.Owner != a.UserID {
		return g.Type, nil
	}
	robot, err := isRobot(r, a.UserID)
	if err != nil || !robot {
		return g.Type, err
	}
	return GroupRestricted, nil
}

// isRobot reports whether userID is a robot's (has a Bot record).
func isRobot(r Reader, userID string) (bool, error) {
	_, err := r.Bot(userID)
	if IsNotExist(err) {
		return false, nil
	}
	return err == nil, err
}

// memberLimit is the member limit of g.
func (s *Service) memberLimit(g Group) int {
	if g.MaxMemberCount > 0 {
		return g.MaxMemberCount
	}
	return s.cfg.MaxGroupMembers
}

// flag keeps a 0/1-style setting given at creation if it is in 1..127, as Wildfire does.
func flag(v int) int {
	if v >= 1 && v <= 127 {
		return v
	}
	return 0
}

// CreateGroupInput is a group creation request.
type CreateGroupInput struct {
	Group   Group    // ID empty: generated; Owner is used only by the Admin acting on its own
	Members []Member // UserID, Alias and Extra are used; types are forced
	Notify  Notify
}

// CreateGroup creates a group and returns its id. A robot or user creating a
// group becomes its owner; every listed member joins as a normal member. A
// user may not create an organization group; a robot may, and it owns it.
func (s *Service) CreateGroup(ctx context.Context, a Actor, in CreateGroupInput) (string, error) {
	gi := in.Group
	if gi.Type < GroupNormal || gi.Type > GroupOrganization {
		return "", Errorf(EInvalidData, "group type %d is out of 0..3", gi.Type)
	}
	if err := checkNotify(in.Notify); err != nil {
		return "", err
	}
	if err := checkActor(a); err != nil {
		return "", err
	}
	if err := checkText("group_info", gi.Name, gi.Portrait, gi.Extra); err != nil {
		return "", err
	}
	if len(in.Members) > s.cfg.MaxMembersPerCall {
		return "", Errorf(EInvalidParam, "more than %d members in one call", s.cfg.MaxMembersPerCall)
	}
	if gi.ID != "" {
		if err := checkID("group id", gi.ID); err != nil {
			return "", err
		}
	}
	owner := a.UserID
	if a.Admin {
		owner = gi.Owner
	}
	if err := checkID("owner", owner); err != nil {
		return "", err
	}
	for _, m := range in.Members {
		if err := checkID("member_id", m.UserID); err != nil {
			return "", err
		}
		if err := checkText("member alias and extra", m.Alias, m.Extra); err != nil {
			return "", err
		}
	}
	done, err := s.bulkTurn(ctx, len(in.Members))
	if err != nil {
		return "", err
	}
	defer done()
	var id string
	err = s.update(ctx, func(tx Tx, now time.Time) error {
		id = gi.ID
		if id == "" {
			id = s.cfg.NewID()
		}
		if _, err := tx.Group(id); err == nil {
			return Errorf(EGroupExists, "group %s exists", id)
		} else if !IsNotExist(err) {
			return err
		}
		if gi.Type == GroupOrganization && !a.Admin {
			if robot, err := isRobot(tx, a.UserID); err != nil {
				return err
			} else if !robot {
				return Errorf(ENotRight, "only the server and robots create organization groups")
			}
		}
		g := Group{
			ID: id, Name: gi.Name, Portrait: gi.Portrait, Owner: owner, Type: gi.Type, Extra: gi.Extra,
			Mute: flag(gi.Mute), JoinType: flag(gi.JoinType), PrivateChat: flag(gi.PrivateChat),
			Searchable: flag(gi.Searchable), HistoryMessage: flag(gi.HistoryMessage),
			SuperGroup: gi.SuperGroup, CreatedAt: now, UpdatedAt: now,
		}
		if gi.MaxMemberCount > 0 {
			g.MaxMemberCount = gi.MaxMemberCount
		}
		members := []Member{{GroupID: id, UserID: owner, Type: MemberOwner, JoinedAt: now, UpdatedAt: now}}
		seen := map[string]int{owner: 0}
		for _, m := range in.Members {
			if i, ok := seen[m.UserID]; ok {
				members[i].Alias, members[i].Extra = m.Alias, m.Extra
				continue
			}
			seen[m.UserID] = len(members)
			members = append(members, Member{GroupID: id, UserID: m.UserID, Alias: m.Alias, Extra: m.Extra, Type: MemberNormal, JoinedAt: now, UpdatedAt: now})
		}
		// Wildfire checks the member limit on member/add only (reference §4
		// group/create); qun checks it here too, or one create could make a
		// group that no add could ever join.
		if limit := s.memberLimit(g); len(members) > limit {
			return Errorf(EExceedMax, "%d members exceed the group's limit of %d", len(members), limit)
		}
		if err := tx.PutGroup(g); err != nil {
			return err
		}
		if err := tx.PutMembers(members); err != nil {
			return err
		}
		if err := s.notify(tx, id, a.UserID, &Notification{Type: NotifyCreateGroup, GroupID: id, Operator: a.UserID, Value: g.Name}, in.Notify, now); err != nil {
			return err
		}
		ids := make([]string, len(members))
		for i, m := range members {
			ids[i] = m.UserID
		}
		return botsJoined(tx, id, ids, a.UserID, now)
	})
	return id, err
}

// DismissGroup deletes a group. A robot or user may dismiss only a normal or
// restricted group it owns (a robot also an organization group it owns). The
// notification is sent before the members go.
func (s *Service) DismissGroup(ctx context.Context, a Actor, groupID string, n Notify) error {
	return s.writeGroup(ctx, a, groupID, n, func(tx Tx, g Group, now time.Time) error {
		t, err := rulesType(tx, a, g)
		if err != nil {
			return err
		}
		if !a.Admin && !((t == GroupNormal || t == GroupRestricted) && g.Owner == a.UserID) {
			return Errorf(ENotRight, "only the owner dismisses a normal or restricted group")
		}
		if err := s.notify(tx, g.ID, a.UserID, &Notification{Type: NotifyDismissGroup, GroupID: g.ID, Operator: a.UserID}, n, now); err != nil {
			return err
		}
		bots, err := tx.BotMembers(g.ID)
		if err != nil {
			return err
		}
		if err := botsLeft(tx, g.ID, bots, a.UserID, now); err != nil {
			return err
		}
		return tx.DeleteGroup(g.ID)
	})
}

// GetGroup returns a group. Anyone may read any group, as in Wildfire.
func (s *Service) GetGroup(ctx context.Context, groupID string) (Group, error) {
	if err := checkText("group id", groupID); err != nil {
		return Group{}, err
	}
	var g Group
	err := s.view(ctx, func(r Reader) (err error) {
		g, err = r.Group(groupID)
		return err
	})
	return g, err
}

// TransferGroup makes newOwner the owner. In normal and restricted groups only
// the owner may transfer, in free groups any member, in organization groups only
// the server and a robot owner. The new owner need not be a member; one who is
// not joins.
func (s *Service) TransferGroup(ctx context.Context, a Actor, groupID, newOwner string, n Notify) error {
	if err := checkID("new_owner", newOwner); err != nil {
		return err
	}
	return s.writeGroup(ctx, a, groupID, n, func(tx Tx, g Group, now time.Time) error {
		if !a.Admin {
			t, err := rulesType(tx, a, g)
			if err != nil {
				return err
			}
			switch t {
			case GroupOrganization:
				return Errorf(ENotRight, "only the server transfers an organization group")
			case GroupNormal, GroupRestricted:
				if g.Owner != a.UserID {
					return Errorf(ENotRight, "only the owner transfers the group")
				}
			case GroupFree: // any member, not any stranger
				if _, err := activeMember(tx, g.ID, a.UserID); err != nil {
					return err
				}
			}
		}
		if old, err := tx.Member(g.ID, g.Owner); err == nil && old.Type == MemberOwner && g.Owner != newOwner {
			old.Type, old.UpdatedAt = MemberNormal, now
			if err := tx.PutMember(old); err != nil {
				return err
			}
		} else if err != nil && !IsNotExist(err) {
			return err
		}
		m, err := tx.Member(g.ID, newOwner)
		joined := IsNotExist(err) || (err == nil && !m.Active())
		if err != nil && !IsNotExist(err) {
			return err
		}
		if joined {
			m = Member{GroupID: g.ID, UserID: newOwner, JoinedAt: now}
			if n, err := tx.MemberCount(g.ID); err != nil {
				return err
			} else if n+1 > s.memberLimit(g) {
				return Errorf(EExceedMax, "the group is full")
			}
		}
		m.Type, m.UpdatedAt = MemberOwner, now
		if err := tx.PutMember(m); err != nil {
			return err
		}
		g.Owner, g.UpdatedAt = newOwner, now
		if err := tx.PutGroup(g); err != nil {
			return err
		}
		if err := s.notify(tx, g.ID, a.UserID, &Notification{Type: NotifyTransferOwner, GroupID: g.ID, Operator: a.UserID, Member: newOwner}, n, now); err != nil {
			return err
		}
		if joined {
			return botsJoined(tx, g.ID, []string{newOwner}, a.UserID, now)
		}
		return nil
	})
}

// ModifyGroup changes one field of a group; value is the field's string form
// ("0"/"1" for switches).
func (s *Service) ModifyGroup(ctx context.Context, a Actor, groupID string, typ int, value string, n Notify) error {
	maxType := ModifySearchable
	if a.Admin {
		maxType = ModifyGroupType
	}
	if err := checkText("value", value); err != nil {
		return err
	}
	return s.writeGroup(ctx, a, groupID, n, func(tx Tx, g Group, now time.Time) error {
		if !a.Admin {
			if err := s.mayModify(tx, a, g, typ); err != nil {
				return err
			}
		}
		// The modify type is checked last, after the permission rules, as
		// Wildfire does (reference §4 group/modify).
		if typ < 0 || typ > maxType {
			return Errorf(EInvalidParam, "modify type %d is out of 0..%d", typ, maxType)
		}
		if err := applyModify(&g, typ, value); err != nil {
			return err
		}
		g.UpdatedAt = now
		if err := tx.PutGroup(g); err != nil {
			return err
		}
		var builtin *Notification
		if nt, ok := modifyNotification[typ]; ok {
			builtin = &Notification{Type: nt, GroupID: g.ID, Operator: a.UserID, Value: value}
		} else if err := s.recordGroupChange(tx, EventGroupInfo, g.ID, a.UserID, GroupChange{Type: GroupUpdateInfo, Value: value}, now); err != nil {
			return err // a change no notification tells of (types 7-10)
		}
		return s.notify(tx, g.ID, a.UserID, builtin, n, now)
	})
}

// mayModify applies Wildfire's modify rules for a robot or user.
func (s *Service) mayModify(tx Reader, a Actor, g Group, typ int) error {
	t, err := rulesType(tx, a, g)
	if err != nil {
		return err
	}
	if t == GroupOrganization && typ != ModifyExtra && typ != ModifyMute && typ != ModifyPrivateChat {
		return Errorf(ENotRight, "an organization group's field %d is the server's", typ)
	}
	m, err := activeMember(tx, g.ID, a.UserID)
	if err != nil {
		return err
	}
	basic := typ == ModifyName || typ == ModifyPortrait || typ == ModifyExtra
	switch t {
	case GroupRestricted, GroupOrganization:
		if !m.IsAdmin() {
			return Errorf(ENotRight, "only the owner or a manager modifies this group")
		}
	case GroupNormal:
		if !m.IsAdmin() && !basic {
			return Errorf(ENotRight, "a member may change only name, portrait and extra")
		}
	case GroupFree:
		if !basic {
			return Errorf(ENotRight, "in a free group only name, portrait and extra change")
		}
	}
	return nil
}

// applyModify sets field typ of g from value.
func applyModify(g *Group, typ int, value string) error {
	switch typ {
	case ModifyName:
		g.Name = value
	case ModifyPortrait:
		g.Portrait = value
	case ModifyExtra:
		g.Extra = value
	case ModifyMute, ModifyPrivateChat, ModifySearchable, ModifyHistoryMessage, ModifySuperGroup:
		v, err := parseRange(value, 0, 1)
		if err != nil {
			return err
		}
		switch typ {
		case ModifyMute:
			g.Mute = v
		case ModifyPrivateChat:
			g.PrivateChat = v
		case ModifySearchable:
			g.Searchable = v
		case ModifyHistoryMessage:
			g.HistoryMessage = v
		case ModifySuperGroup:
			g.SuperGroup = v == 1
		}
	case ModifyJoinType:
		v, err := parseRange(value, JoinAnyone, JoinManagers)
		if err != nil {
			return err
		}
		g.JoinType = v
	case ModifyMaxMemberCount:
		v, err := parseRange(value, 0, 1<<30)
		if err != nil {
			return err
		}
		g.MaxMemberCount = v
	case ModifyGroupType:
		v, err := parseRange(value, GroupNormal, GroupOrganization)
		if err != nil {
			return err
		}
		g.Type = v
	}
	return nil
}

// parseRange parses a decimal integer in lo..hi.
func parseRange(s string, lo, hi int) (int, error) {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < lo || v > hi {
		return 0, Errorf(EInvalidParam, "value %q is not an integer in %d..%d", s, lo, hi)
	}
	return v, nil
}

// GroupsOfUser returns the groups userID is a member of.
func (s *Service) GroupsOfUser(ctx context.Context, userID string) ([]string, error) {
	if err := checkText("user id", userID); err != nil {
		return nil, err
	}
	var ids []string
	err := s.view(ctx, func(r Reader) (err error) {
		ids, err = r.GroupsOfUser(userID)
		return err
	})
	return ids, err
}

// activeMember returns userID's row in groupID if it is an active member, else ENotInGroup.
func activeMember(r Reader, groupID, userID string) (Member, error) {
	m, err := r.Member(groupID, userID)
	if IsNotExist(err) || (err == nil && !m.Active()) {
		return Member{}, Errorf(ENotInGroup, "%s is not a member of %s", userID, groupID)
	}
	return m, err
}

// MaxGroupsPage is the largest page Groups serves.
const MaxGroupsPage = 500

// Groups returns up to limit groups with ID > afterID, in ID order, and the
// ID to continue after ("" when there are no more). The page is read by key,
// so its cost does not grow with the number of groups.
func (s *Service) Groups(ctx context.Context, afterID string, limit int) ([]Group, string, error) {
	if limit < 1 || limit > MaxGroupsPage {
		return nil, "", Errorf(EInvalidParam, "limit %d is out of 1..%d", limit, MaxGroupsPage)
	}
	var gs []Group
	err := s.view(ctx, func(r Reader) (err error) {
		gs, err = r.Groups(afterID, limit+1)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	var next string
	if len(gs) > limit {
		gs = gs[:limit]
		next = gs[limit-1].ID
	}
	return gs, next, nil
}

// GroupField is the field SearchGroups matches a prefix of.
type GroupField int

// The fields SearchGroups searches.
const (
	// ByGroupID matches a prefix of the group's id, in id order.
	ByGroupID GroupField = iota
	// ByGroupName matches a prefix of the group's name, in (name, id) order.
	ByGroupName
)

// GroupKey is where a page of SearchGroups continues: after the group with
// this Name (searched by name) and ID. The zero key starts at the first group.
type GroupKey struct {
	Name string
	ID   string
}

// SearchGroups returns up to limit groups whose id (ByGroupID) or name
// (ByGroupName) starts with prefix, after the key after, and the key to
// continue after (zero when there are no more). The match is case-sensitive
// and byte by byte ("Te" finds "Team", not "team"; an empty prefix finds
// every group). Each page is one range of an index, so its cost does not
// grow with the number of groups.
func (s *Service) SearchGroups(ctx context.Context, by GroupField, prefix string, after GroupKey, limit int) ([]Group, GroupKey, error) {
	if limit < 1 || limit > MaxGroupsPage {
		return nil, GroupKey{}, Errorf(EInvalidParam, "limit %d is out of 1..%d", limit, MaxGroupsPage)
	}
	if by != ByGroupID && by != ByGroupName {
		return nil, GroupKey{}, Errorf(EInvalidParam, "unknown search field %d", by)
	}
	if err := checkText("search", prefix, after.Name, after.ID); err != nil {
		return nil, GroupKey{}, err
	}
	var gs []Group
	err := s.view(ctx, func(r Reader) (err error) {
		if by == ByGroupName {
			gs, err = r.GroupsByNamePrefix(prefix, after.Name, after.ID, limit+1)
		} else {
			gs, err = r.GroupsByIDPrefix(prefix, after.ID, limit+1)
		}
		return err
	})
	if err != nil {
		return nil, GroupKey{}, err
	}
	var next GroupKey
	if len(gs) > limit {
		gs = gs[:limit]
		next.ID = gs[limit-1].ID
		if by == ByGroupName {
			next.Name = gs[limit-1].Name
		}
	}
	return gs, next, nil
}
