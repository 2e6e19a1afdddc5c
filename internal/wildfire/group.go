package wildfire

import (
	"github.com/qun-chat/qun/internal/group"
)

// The group calls: the same bodies on /robot/group/... and /admin/group/...;
// only the actor differs (request.actor). Each handler decodes, checks that
// the fields it needs are present, and calls the service, which holds every
// rule. A missing required field is 251, before anything is read or written.

// groupWrite is what every group write's body shares (Wildfire InputGroupBase).
type groupWrite struct {
	Operator      flexString    `json:"operator"`
	ToLines       list[flexInt] `json:"to_lines"`
	NotifyMessage *payloadIn    `json:"notify_message"`
}

// notify returns the write's notification override. to_lines is bounded by
// group.DefaultMaxLines and the notification's mentions by perCall.
func (g *groupWrite) notify(perCall int) (group.Notify, error) {
	lines, err := flexInts("to_lines", g.ToLines, group.DefaultMaxLines)
	if err != nil {
		return group.Notify{}, err
	}
	n := group.Notify{Lines: lines}
	if g.NotifyMessage != nil {
		p, err := g.NotifyMessage.domain("notify_message", perCall)
		if err != nil {
			return n, err
		}
		n.Message = &p
	}
	return n, nil
}

// groupRef names a group: group_id on writes, groupId (camelCase, as
// Wildfire's get_info, member/list and member/get read it) on reads. Either
// spelling is taken on every call.
type groupRef struct {
	GroupID      flexString `json:"group_id"`
	GroupIDCamel flexString `json:"groupId"`
}

// id returns the group id, or a 251 when neither field is given.
func (g *groupRef) id() (string, error) {
	if id := firstOf(g.GroupID, g.GroupIDCamel); id != "" {
		return id, nil
	}
	return "", invalid("group_id (or groupId) is missing")
}

// writeBody is the body of a write to one existing group.
type writeBody interface {
	id() (string, error)
	notify(perCall int) (group.Notify, error)
}

// decodeWrite decodes a write's body and returns its group id and
// notification override.
func decodeWrite(r *request, body writeBody) (string, group.Notify, error) {
	if err := r.decode(body); err != nil {
		return "", group.Notify{}, err
	}
	gid, err := body.id()
	if err != nil {
		return "", group.Notify{}, err
	}
	n, err := body.notify(r.perCall)
	return gid, n, err
}

// firstOf returns the first non-empty of a field's spellings.
func firstOf(spellings ...flexString) string {
	for _, s := range spellings {
		if s != "" {
			return string(s)
		}
	}
	return ""
}

// groupIDResult is the result of group/create.
type groupIDResult struct {
	GroupID string `json:"group_id"`
}

// createGroup serves group/create. A robot becomes the owner whatever
// group_info.owner says; the Admin API with an empty operator uses it.
func (a *api) createGroup(r *request) (any, error) {
	var body struct {
		groupWrite
		Group *struct {
			GroupInfo *groupInfoIn   `json:"group_info"`
			Members   list[memberIn] `json:"members"`
		} `json:"group"`
		MemberExtra      flexString `json:"member_extra"`
		MemberExtraCamel flexString `json:"memberExtra"`
	}
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	if body.Group == nil {
		return nil, invalid("group is missing")
	}
	if body.Group.GroupInfo == nil {
		return nil, invalid("group.group_info is missing")
	}
	n, err := body.notify(r.perCall)
	if err != nil {
		return nil, err
	}
	members, err := body.Group.Members.decode("group.members", r.perCall)
	if err != nil {
		return nil, err
	}
	in := group.CreateGroupInput{
		Group:   body.Group.GroupInfo.domain(),
		Members: membersDomain(members, firstOf(body.MemberExtra, body.MemberExtraCamel)),
		Notify:  n,
	}
	id, err := a.svc.CreateGroup(r.ctx, r.actor(body.Operator), in)
	if err != nil {
		return nil, err
	}
	return groupIDResult{GroupID: id}, nil
}

// dismissGroup serves group/del.
func (a *api) dismissGroup(r *request) (any, error) {
	var body struct {
		groupWrite
		groupRef
	}
	gid, n, err := decodeWrite(r, &body)
	if err != nil {
		return nil, err
	}
	return nil, a.svc.DismissGroup(r.ctx, r.actor(body.Operator), gid, n)
}

// getGroupInfo serves group/get_info. Anyone may read any group, as in Wildfire.
func (a *api) getGroupInfo(r *request) (any, error) {
	var body groupRef
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	gid, err := body.id()
	if err != nil {
		return nil, err
	}
	g, err := a.svc.GetGroup(r.ctx, gid)
	if err != nil {
		return nil, err
	}
	return newGroupInfoJSON(g), nil
}

// transferGroup serves group/transfer.
func (a *api) transferGroup(r *request) (any, error) {
	var body struct {
		groupWrite
		groupRef
		NewOwner flexString `json:"new_owner"`
	}
	gid, n, err := decodeWrite(r, &body)
	if err != nil {
		return nil, err
	}
	return nil, a.svc.TransferGroup(r.ctx, r.actor(body.Operator), gid, string(body.NewOwner), n)
}

// modifyGroup serves group/modify: {group_id, type, value}, where value is
// the field's string form ("0"/"1" for switches). Both type and value are
// required: gson would read a missing type as 0 and rename the group.
func (a *api) modifyGroup(r *request) (any, error) {
	var body struct {
		groupWrite
		groupRef
		Type  *flexInt    `json:"type"`
		Value *flexString `json:"value"`
	}
	gid, n, err := decodeWrite(r, &body)
	if err != nil {
		return nil, err
	}
	if body.Type == nil {
		return nil, invalid("type is missing")
	}
	if body.Value == nil {
		return nil, invalid("value is missing")
	}
	return nil, a.svc.ModifyGroup(r.ctx, r.actor(body.Operator), gid, int(*body.Type), string(*body.Value), n)
}

// membersResult is the result of member/list: wrapped, as Wildfire's
// OutputGroupMemberList (the docs' bare array is wrong).
type membersResult struct {
	Members []memberJSON `json:"members"`
}

// listMembers serves group/member/list. A robot that is not a member gets
// {"members":[]}, as in Wildfire.
func (a *api) listMembers(r *request) (any, error) {
	var body struct {
		groupRef
		Operator flexString `json:"operator"`
	}
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	gid, err := body.id()
	if err != nil {
		return nil, err
	}
	ms, err := a.svc.ListMembers(r.ctx, r.actor(body.Operator), gid)
	if err != nil {
		return nil, err
	}
	out := membersResult{Members: make([]memberJSON, len(ms))}
	for i, m := range ms {
		out.Members[i] = newMemberJSON(m)
	}
	return out, nil
}

// getMember serves group/member/get: {groupId, memberId}.
func (a *api) getMember(r *request) (any, error) {
	var body struct {
		groupRef
		Operator flexString `json:"operator"`
		MemberID flexString `json:"memberId"`
	}
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	gid, err := body.id()
	if err != nil {
		return nil, err
	}
	if body.MemberID == "" {
		return nil, invalid("memberId is missing")
	}
	m, err := a.svc.GetMember(r.ctx, r.actor(body.Operator), gid, string(body.MemberID))
	if err != nil {
		return nil, err
	}
	return newMemberJSON(m), nil
}

// addMembers serves group/member/add: members are GroupMember objects. The
// member_extra of the docs and the JS SDK is the extra of every member that
// has none.
func (a *api) addMembers(r *request) (any, error) {
	var body struct {
		groupWrite
		groupRef
		Members          list[memberIn] `json:"members"`
		MemberExtra      flexString     `json:"member_extra"`
		MemberExtraCamel flexString     `json:"memberExtra"`
	}
	gid, n, err := decodeWrite(r, &body)
	if err != nil {
		return nil, err
	}
	members, err := body.Members.decode("members", r.perCall)
	if err != nil {
		return nil, err
	}
	ms := membersDomain(members, firstOf(body.MemberExtra, body.MemberExtraCamel))
	return nil, a.svc.AddMembers(r.ctx, r.actor(body.Operator), gid, ms, n)
}

// memberIDsWrite is the body of the calls that take member ids.
type memberIDsWrite struct {
	groupWrite
	groupRef
	Members list[flexString] `json:"members"`
}

// kickMembers serves group/member/del: members are ids.
func (a *api) kickMembers(r *request) (any, error) {
	var body memberIDsWrite
	gid, n, err := decodeWrite(r, &body)
	if err != nil {
		return nil, err
	}
	ids, err := flexStrings("members", body.Members, r.perCall)
	if err != nil {
		return nil, err
	}
	return nil, a.svc.KickMembers(r.ctx, r.actor(body.Operator), gid, ids, n)
}

// quitGroup serves group/member/quit: the actor leaves. On the Admin API it
// needs an operator (the admin itself is no member).
func (a *api) quitGroup(r *request) (any, error) {
	var body struct {
		groupWrite
		groupRef
	}
	gid, n, err := decodeWrite(r, &body)
	if err != nil {
		return nil, err
	}
	return nil, a.svc.QuitGroup(r.ctx, r.actor(body.Operator), gid, n)
}

// setMemberAlias serves group/member/set_alias: {group_id, memberId, alias};
// an empty memberId is the actor's own alias.
func (a *api) setMemberAlias(r *request) (any, error) {
	var body struct {
		groupWrite
		groupRef
		MemberID flexString `json:"memberId"`
		Alias    flexString `json:"alias"`
	}
	gid, n, err := decodeWrite(r, &body)
	if err != nil {
		return nil, err
	}
	return nil, a.svc.SetMemberAlias(r.ctx, r.actor(body.Operator), gid, string(body.MemberID), string(body.Alias), n)
}

// setMemberExtra serves group/member/set_extra: {group_id, memberId, extra}.
func (a *api) setMemberExtra(r *request) (any, error) {
	var body struct {
		groupWrite
		groupRef
		MemberID flexString `json:"memberId"`
		Extra    flexString `json:"extra"`
	}
	gid, n, err := decodeWrite(r, &body)
	if err != nil {
		return nil, err
	}
	return nil, a.svc.SetMemberExtra(r.ctx, r.actor(body.Operator), gid, string(body.MemberID), string(body.Extra), n)
}

// roleWrite is the body of manager/set, mute and allow. The Java and JS SDKs
// send the switch as is_manager on all three; the Python SDK sends is_mute
// and is_allow, which win when both are given. One of them is required.
type roleWrite struct {
	memberIDsWrite
	IsManager *flexBool `json:"is_manager"`
	IsMute    *flexBool `json:"is_mute"`
	IsAllow   *flexBool `json:"is_allow"`
}

// roleCall is a decoded role call.
type roleCall struct {
	actor group.Actor
	gid   string
	ids   []string
	on    bool
	n     group.Notify
}

// decodeRole decodes a role call; alt returns the Python SDK's name of the
// switch, altName its name ("" for none).
func decodeRole(r *request, altName string, alt func(*roleWrite) *flexBool) (roleCall, error) {
	var body roleWrite
	gid, n, err := decodeWrite(r, &body)
	if err != nil {
		return roleCall{}, err
	}
	sw := body.IsManager
	if v := alt(&body); v != nil {
		sw = v
	}
	if sw == nil {
		if altName != "" {
			return roleCall{}, invalid("%s (or is_manager) is missing", altName)
		}
		return roleCall{}, invalid("is_manager is missing")
	}
	ids, err := flexStrings("members", body.Members, r.perCall)
	if err != nil {
		return roleCall{}, err
	}
	return roleCall{actor: r.actor(body.Operator), gid: gid, ids: ids, on: bool(*sw), n: n}, nil
}

// setManagers serves group/manager/set. The Wildfire community server does
// not serve the robot route; the rules are its admin API's (setGroupManager).
func (a *api) setManagers(r *request) (any, error) {
	c, err := decodeRole(r, "", func(*roleWrite) *flexBool { return nil })
	if err != nil {
		return nil, err
	}
	return nil, a.svc.SetManagers(r.ctx, c.actor, c.gid, c.ids, c.on, c.n)
}

// muteMembers serves group/manager/mute: the switch means "mute".
func (a *api) muteMembers(r *request) (any, error) {
	c, err := decodeRole(r, "is_mute", func(b *roleWrite) *flexBool { return b.IsMute })
	if err != nil {
		return nil, err
	}
	return nil, a.svc.MuteMembers(r.ctx, c.actor, c.gid, c.ids, c.on, c.n)
}

// allowMembers serves group/manager/allow: the switch means "may speak while the group is muted".
func (a *api) allowMembers(r *request) (any, error) {
	c, err := decodeRole(r, "is_allow", func(b *roleWrite) *flexBool { return b.IsAllow })
	if err != nil {
		return nil, err
	}
	return nil, a.svc.AllowMembers(r.ctx, c.actor, c.gid, c.ids, c.on, c.n)
}
