package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/qun-chat/qun/internal/group"
)

// memberRoles are the role changes of the members page, by the form's
// action: the domain's mute and allow operations, on (true) or off.
var memberRoles = map[string]struct {
	allow bool // AllowMembers, else MuteMembers
	on    bool
}{
	"mute":     {false, true},
	"unmute":   {false, false},
	"allow":    {true, true},
	"disallow": {true, false},
}

// setMemberRole mutes or unmutes a member, or lets it speak while the group
// is muted or no longer: the operator acts as the server (the Admin API's
// group/manager/mute and allow), a bot developer as the bot (the Robot
// API's), so the group's rules decide whether the bot may.
func (c *Console) setMemberRole(w http.ResponseWriter, r *http.Request, s *session) {
	lang := language(r)
	gid := r.PathValue("id")
	if !c.mayGroup(r.Context(), s, gid) {
		c.fail(w, r, s, http.StatusForbidden, text(lang, "forbidden"))
		return
	}
	f := r.PostForm
	member := strings.TrimSpace(f.Get("member"))
	if member == "" {
		c.fail(w, r, s, http.StatusBadRequest, fieldText(lang, "member", "empty"))
		return
	}
	role, ok := memberRoles[f.Get("action")]
	if !ok {
		c.fail(w, r, s, http.StatusBadRequest, text(lang, "bad_action"))
		return
	}
	actor := group.Admin
	if !s.operator() {
		actor = group.Robot(s.botID)
	}
	var err error
	if role.allow {
		err = c.svc.AllowMembers(r.Context(), actor, gid, []string{member}, role.on, group.Notify{})
	} else {
		err = c.svc.MuteMembers(r.Context(), actor, gid, []string{member}, role.on, group.Notify{})
	}
	if err != nil {
		c.domainError(w, r, s, err)
		return
	}
	back := url.Values{"flash": {"saved"}}
	if p := f.Get("members_after"); p != "" && p != "0" && strings.Trim(p, "0123456789") == "" {
		back.Set("members_after", p) // back to the page of members the form was on
	}
	redirect(w, "/groups/"+url.PathEscape(gid)+"?"+back.Encode())
}
