package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	token := newToken()
	setCookie(w, r, signInCookie, token, time.Hour)
	c.show(w, r, nil, http.StatusOK, "signin", "signin", map[string]string{"Token": token})
}

// signIn checks the admin secret, or a bot's appId and appSecret, in
// constant time, at most DefaultSignInAttempts per client address per window.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	r.Body = http.MaxBytesReader(w, r.Body, DefaultMaxForm)
	ck, err := r.Cookie(signInCookie)
	if err != nil || r.ParseForm() != nil || !sameToken(r.PostForm.Get("csrf"), ck.Value) {
		c.fail(w, r, nil, http.StatusForbidden, text(lang, "bad_csrf"))
		return
	}
	if !c.signIns.allow(r) {
		c.fail(w, r, nil, http.StatusTooManyRequests, text(lang, "too_many"))
		return
	}
	botID, ok := "", false
	if appID := strings.TrimSpace(r.PostForm.Get("app_id")); appID != "" {
		b, err := c.svc.BotByAppID(r.Context(), appID)
		if err != nil && !group.IsNotExist(err) {
			c.domainError(w, r, nil, err)
			return
		}
		ok = err == nil && sameToken(r.PostForm.Get("app_secret"), b.AppSecret)
		botID = b.UserID
	} else {
		ok = sameToken(r.PostForm.Get("secret"), c.opt.AdminSecret)
	}
	if !ok {
		c.fail(w, r, nil, http.StatusUnauthorized, text(lang, "bad_signin"))
		return
	}
	s, ok := c.sessions.create(botID)
	if !ok {
		c.fail(w, r, nil, http.StatusServiceUnavailable, text(lang, "full"))
		return
	}
	setCookie(w, r, sessionCookie, s.id, DefaultSessionLifetime)
	setCookie(w, r, signInCookie, "", -1)
	if s.operator() {
		redirect(w, "/")
	} else {
		redirect(w, "/bots/"+url.PathEscape(botID))
	}
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, s *session) {
	c.sessions.remove(s.id)
	setCookie(w, r, sessionCookie, "", -1)
	redirect(w, "/signin")
}

// switchLanguage keeps the chosen language in a cookie and goes back.
func (c *Console) switchLanguage(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if lang != langEN && lang != langZH {
		c.fail(w, r, nil, http.StatusNotFound, text(language(r), "not_found"))
		return
	}
	setCookie(w, r, langCookie, lang, 365*24*time.Hour)
	back := r.URL.Query().Get("back")
	if !localPath(back) {
		back = "/"
	}
	redirect(w, back)
}

// operatorOnly refuses a bot developer.
func (c *Console) operatorOnly(w http.ResponseWriter, r *http.Request, s *session) bool {
	if s.operator() {
		return true
	}
	c.fail(w, r, s, http.StatusForbidden, text(language(r), "forbidden"))
	return false
}

// mayGroup reports whether s may see groupID: the operator any group, a
// bot developer the groups the bot is a member of.
func (c *Console) mayGroup(ctx context.Context, s *session, groupID string) bool {
	if s.operator() {
		return true
	}
	_, err := c.svc.GetMember(ctx, group.Admin, groupID, s.botID)
	return err == nil
}

type overviewData struct {
	Healthy bool
	Version string
	Store   string
	Stats   []Stat
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.operator() {
		redirect(w, "/bots/"+url.PathEscape(s.botID))
		return
	}
	d := overviewData{Healthy: true, Version: c.opt.Version, Store: c.opt.StoreKind}
	if c.opt.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		d.Healthy = c.opt.Ready(ctx) == nil
		cancel()
	}
	if c.opt.Stats != nil {
		d.Stats = c.rates.observe(c.opt.Now(), c.opt.Stats())
	}
	c.show(w, r, s, http.StatusOK, "overview", "overview", d)
}

type botRow struct {
	group.Bot
	Name string
}

type botListData struct {
	Bots []botRow
	Next string
}

func (c *Console) botList(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.operator() {
		redirect(w, "/bots/"+url.PathEscape(s.botID))
		return
	}
	bs, next, err := c.svc.Bots(r.Context(), r.URL.Query().Get("after"), DefaultPage)
	if err != nil {
		c.domainError(w, r, s, err)
		return
	}
	d := botListData{Next: next}
	for _, b := range bs {
		row := botRow{Bot: b}
		if u, _, err := c.svc.GetRobot(r.Context(), b.UserID); err == nil {
			row.Name = u.DisplayName
		}
		d.Bots = append(d.Bots, row)
	}
	c.show(w, r, s, http.StatusOK, "bots", "bots", d)
}

func (c *Console) createBot(w http.ResponseWriter, r *http.Request, s *session) {
	if !c.operatorOnly(w, r, s) {
		return
	}
	f := r.PostForm
	id := strings.TrimSpace(f.Get("id"))
	if id == "" {
		c.fail(w, r, s, http.StatusBadRequest, fieldText(language(r), "id", "empty"))
		return
	}
	u, _, err := c.svc.CreateRobot(r.Context(), group.RobotInput{
		User:  group.User{ID: id, Name: strings.TrimSpace(f.Get("name")), DisplayName: strings.TrimSpace(f.Get("display_name"))},
		Owner: strings.TrimSpace(f.Get("owner")),
	})
	if err != nil {
		c.domainError(w, r, s, err)
		return
	}
	redirect(w, "/bots/"+url.PathEscape(u.ID))
}

type botData struct {
	User      group.User
	Bot       group.Bot
	IceText   string
	Groups    []string
	MoreGroup bool
	Creds     credData
	Delivery  *deliveryData // the webhook, deliveries and sessions sections
}

func (c *Console) botPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.showBot(w, r, s, r.PathValue("id"), http.StatusOK, nil)
}

// showBot shows bot id's page with status; adjust, if not nil, changes what
// its outbound sections show (a refused webhook URL and why).
func (c *Console) showBot(w http.ResponseWriter, r *http.Request, s *session, id string, status int, adjust func(*deliveryData)) {
	if !s.operator() && id != s.botID {
		c.fail(w, r, s, http.StatusForbidden, text(language(r), "forbidden"))
		return
	}
	u, b, err := c.svc.GetRobot(r.Context(), id)
	if err != nil {
		c.domainError(w, r, s, err)
		return
	}
	gs, err := c.svc.GroupsOfUser(r.Context(), id)
	if err != nil {
		c.domainError(w, r, s, err)
		return
	}
	d := botData{User: u, Bot: b, IceText: b.IceBreaker.Payload.SearchableContent}
	if d.IceText == "" {
		d.IceText = b.IceBreaker.Payload.Content
	}
	if len(gs) > DefaultBotGroups {
		gs, d.MoreGroup = gs[:DefaultBotGroups], true
	}
	d.Groups = gs
	d.Creds = c.credentials(s, b)
	if d.Delivery, err = c.loadDelivery(r.Context(), language(r), id); err != nil {
		c.domainError(w, r, s, err)
		return
	}
	if adjust != nil {
		adjust(d.Delivery)
	}
	c.show(w, r, s, status, "bot", "bot", d)
}

func (c *Console) setIceBreaker(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	if !s.operator() && id != s.botID {
		c.fail(w, r, s, http.StatusForbidden, text(language(r), "forbidden"))
		return
	}
	t := r.PostForm.Get("text")
	ib := group.IceBreaker{Enabled: r.PostForm.Get("enabled") == "on"}
	if t != "" {
		ib.Payload = group.Payload{Type: group.ContentText, SearchableContent: t}
	}
	if err := c.svc.SetIceBreaker(r.Context(), id, ib); err != nil {
		c.domainError(w, r, s, err)
		return
	}
	redirect(w, "/bots/"+url.PathEscape(id)+"?flash=saved")
}

type groupListData struct {
	Groups []group.Group
	Query  string // the prefix searched, "" for every group
	ByName bool   // the prefix is the name's, else the id's
	Next   string // the next page's path and query, "" when there is none
}

// groupList lists the groups, or those whose id or name starts with ?q=
// (?by=id or name), a page by key: ?after= (an id), and ?after_name= when
// searched by name.
func (c *Console) groupList(w http.ResponseWriter, r *http.Request, s *session) {
	if !c.operatorOnly(w, r, s) {
		return
	}
	q := r.URL.Query()
	d := groupListData{Query: q.Get("q")}
	by := group.ByGroupID
	switch q.Get("by") {
	case "", "id":
	case "name":
		by, d.ByName = group.ByGroupName, true
	default:
		c.fail(w, r, s, http.StatusBadRequest, text(language(r), "bad_search_field"))
		return
	}
	after := group.GroupKey{ID: q.Get("after")}
	if d.ByName {
		after.Name = q.Get("after_name")
	}
	gs, next, err := c.svc.SearchGroups(r.Context(), by, d.Query, after, DefaultPage)
	if err != nil {
		c.domainError(w, r, s, err)
		return
	}
	d.Groups = gs
	if next != (group.GroupKey{}) {
		v := url.Values{"after": {next.ID}}
		if d.Query != "" {
			v.Set("q", d.Query)
		}
		if d.ByName {
			v.Set("by", "name")
			v.Set("after_name", next.Name)
		}
		d.Next = "/groups?" + v.Encode()
	}
	c.show(w, r, s, http.StatusOK, "groups", "groups", d)
}

// ids splits a form's list of ids at spaces and commas.
func ids(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

func (c *Console) createGroup(w http.ResponseWriter, r *http.Request, s *session) {
	if !c.operatorOnly(w, r, s) {
		return
	}
	f := r.PostForm
	in := group.CreateGroupInput{Group: group.Group{ID: strings.TrimSpace(f.Get("id")),
		Name: strings.TrimSpace(f.Get("name")), Owner: strings.TrimSpace(f.Get("owner"))}}
	if in.Group.Owner == "" {
		c.fail(w, r, s, http.StatusBadRequest, fieldText(language(r), "owner", "empty"))
		return
	}
	for _, id := range ids(f.Get("members")) {
		in.Members = append(in.Members, group.Member{UserID: id})
	}
	gid, err := c.svc.CreateGroup(r.Context(), group.Admin, in)
	if err != nil {
		c.domainError(w, r, s, err)
		return
	}
	redirect(w, "/groups/"+url.PathEscape(gid))
}

type memberRow struct {
	group.Member
	Role string
}

// Owner, Muted and Allowed tell the members page which changes to offer.
func (m memberRow) Owner() bool   { return m.Type == group.MemberOwner }
func (m memberRow) Muted() bool   { return m.Type == group.MemberSilent }
func (m memberRow) Allowed() bool { return m.Type == group.MemberAllowed }

type groupData struct {
	Group        group.Group
	Count        int
	Members      []memberRow
	NextMembers  int64
	MembersAfter int64 // where this page of members starts
	Lines        []line
	Older        int64
	Last         int64 // the newest seq shown: the live stream continues after it
	Bots         []string
	Mentions     []mention // the playground's mention menu: Bots with their names
	User         string    // the playground's user
	EventsBot    string    // the bot whose events the playground shows; "" for none
	EventsURL    string    // the stream of its events
}

// int64Param reads a non-negative integer query parameter; absent is 0.
func int64Param(r *http.Request, name string) (int64, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}

// loadGroup reads what a group's page and the playground show: a page of
// members and of the timeline, both by key.
func (c *Console) loadGroup(w http.ResponseWriter, r *http.Request, s *session, gid string) (groupData, bool) {
	lang := language(r)
	if !c.mayGroup(r.Context(), s, gid) {
		c.fail(w, r, s, http.StatusForbidden, text(lang, "forbidden"))
		return groupData{}, false
	}
	afterPos, ok1 := int64Param(r, "members_after")
	before, ok2 := int64Param(r, "before")
	if !ok1 || !ok2 {
		c.fail(w, r, s, http.StatusBadRequest, text(lang, "bad_page_keys"))
		return groupData{}, false
	}
	g, err := c.svc.GetGroup(r.Context(), gid)
	if err != nil {
		c.domainError(w, r, s, err)
		return groupData{}, false
	}
	d := groupData{Group: g, MembersAfter: afterPos}
	ms, next, err := c.svc.MembersPage(r.Context(), group.Admin, gid, afterPos, DefaultPage)
	if err != nil {
		c.domainError(w, r, s, err)
		return groupData{}, false
	}
	d.NextMembers = next
	for _, m := range ms {
		d.Members = append(d.Members, memberRow{Member: m, Role: text(lang, "role_"+strconv.Itoa(m.Type))})
	}
	msgs, older, err := c.svc.TimelineBefore(r.Context(), gid, 0, before, DefaultTimelinePage)
	if err != nil {
		c.domainError(w, r, s, err)
		return groupData{}, false
	}
	d.Older = older
	for i := len(msgs) - 1; i >= 0; i-- { // oldest first, as a chat reads
		d.Lines = append(d.Lines, render(lang, msgs[i]))
	}
	if len(msgs) > 0 {
		d.Last = msgs[0].Seq
	}
	if before != 0 {
		d.Last = -1 // an older page does not follow live
	}
	if d.Bots, err = c.svc.GroupBots(r.Context(), gid); err != nil {
		c.domainError(w, r, s, err)
		return groupData{}, false
	}
	return d, true
}

func (c *Console) groupPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadGroup(w, r, s, r.PathValue("id"))
	if !ok {
		return
	}
	c.show(w, r, s, http.StatusOK, "group", "group", d)
}

// playground lets one play a user of a group: send, mention a bot, add or
// remove it, turn its proactive messages off or on.
func (c *Console) playground(w http.ResponseWriter, r *http.Request, s *session) {
	gid := strings.TrimSpace(r.URL.Query().Get("group"))
	if gid == "" {
		c.show(w, r, s, http.StatusOK, "playground", "playground", groupData{})
		return
	}
	d, ok := c.loadGroup(w, r, s, gid)
	if !ok {
		return
	}
	d.User = strings.TrimSpace(r.URL.Query().Get("user"))
	for _, id := range d.Bots {
		m := mention{ID: id}
		if u, _, err := c.svc.GetRobot(r.Context(), id); err == nil && u.DisplayName != id {
			m.Name = u.DisplayName
		}
		d.Mentions = append(d.Mentions, m)
	}
	if c.opt.BotEvents != nil {
		d.EventsBot = eventsBot(s, strings.TrimSpace(r.URL.Query().Get("bot")), d.Bots)
		d.EventsURL = "/playground/events?" + url.Values{"bot": {d.EventsBot}}.Encode()
	}
	c.show(w, r, s, http.StatusOK, "playground", "playground", d)
}

// mention is a bot of the playground's mention menu: the id is what is
// sent, the display name what the bot's users see, when it differs.
type mention struct{ ID, Name string }

// playTarget reads the playground form's group and user, and checks that s may act there.
func (c *Console) playTarget(w http.ResponseWriter, r *http.Request, s *session) (gid, user string, ok bool) {
	gid, user = strings.TrimSpace(r.PostForm.Get("group")), strings.TrimSpace(r.PostForm.Get("user"))
	if gid == "" || user == "" {
		c.fail(w, r, s, http.StatusBadRequest, text(language(r), "pick_group"))
		return "", "", false
	}
	if !c.mayGroup(r.Context(), s, gid) {
		c.fail(w, r, s, http.StatusForbidden, text(language(r), "forbidden"))
		return "", "", false
	}
	return gid, user, true
}

// backToPlayground shows the playground again, with flash when not "".
func backToPlayground(w http.ResponseWriter, gid, user, flash string) {
	q := url.Values{"group": {gid}, "user": {user}}
	if flash != "" {
		q.Set("flash", flash)
	}
	redirect(w, "/playground?"+q.Encode())
}

func (c *Console) playSend(w http.ResponseWriter, r *http.Request, s *session) {
	gid, user, ok := c.playTarget(w, r, s)
	if !ok {
		return
	}
	p := group.Payload{Type: group.ContentText, SearchableContent: r.PostForm.Get("text")}
	if bot := strings.TrimSpace(r.PostForm.Get("mention")); bot != "" {
		p.MentionedType, p.MentionedTarget = group.MentionSome, []string{bot}
	}
	if _, err := c.svc.SendMessage(r.Context(), group.SendInput{Sender: user, ConvType: group.ConvGroup, Target: gid, Payload: p}); err != nil {
		c.domainError(w, r, s, err)
		return
	}
	backToPlayground(w, gid, user, "")
}

func (c *Console) playRobot(w http.ResponseWriter, r *http.Request, s *session) {
	gid, user, ok := c.playTarget(w, r, s)
	if !ok {
		return
	}
	bot := strings.TrimSpace(r.PostForm.Get("bot"))
	if !s.operator() && bot != s.botID {
		c.fail(w, r, s, http.StatusForbidden, text(language(r), "forbidden"))
		return
	}
	var err error
	if r.PostForm.Get("action") == "remove" {
		err = c.svc.KickMembers(r.Context(), group.AsUser(user), gid, []string{bot}, group.Notify{})
	} else {
		err = c.svc.AddMembers(r.Context(), group.AsUser(user), gid, []group.Member{{UserID: bot}}, group.Notify{})
	}
	if err != nil {
		c.domainError(w, r, s, err)
		return
	}
	backToPlayground(w, gid, user, "saved")
}

func (c *Console) playProactive(w http.ResponseWriter, r *http.Request, s *session) {
	gid, user, ok := c.playTarget(w, r, s)
	if !ok {
		return
	}
	bot := strings.TrimSpace(r.PostForm.Get("bot"))
	if !s.operator() && bot != s.botID {
		c.fail(w, r, s, http.StatusForbidden, text(language(r), "forbidden"))
		return
	}
	if err := c.svc.SetProactive(r.Context(), group.AsUser(user), gid, bot, r.PostForm.Get("allow") == "1"); err != nil {
		c.domainError(w, r, s, err)
		return
	}
	backToPlayground(w, gid, user, "saved")
}
