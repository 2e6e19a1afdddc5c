package console

import (
	"container/list"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/qun-chat/qun/internal/group"
)

// The bot page's credentials and intents: reset a secret (the new one is
// shown once, on the page the reset leads to) and edit the allowed intents.
//
// A bot developer signed in with the appId and appSecret who resets the
// appSecret stays signed in: the browser that reset it proved it held the
// old secret and now holds the new one. Every other console session of that
// bot, signed in with the old appSecret, is ended, whoever (the console, the
// Admin API, the CLI) reset it: a secret is reset to lock out whoever else
// holds it.

// revealed are new secrets kept for the one page view that shows them, one
// reset per session, at most DefaultMaxSessions: when full, the reset kept
// longest is forgotten first (its page was most likely never asked for),
// never one just made.
type revealed struct {
	mu    sync.Mutex
	m     map[string]*list.Element // by session id; each Value a newSecrets
	order list.List                // of m's elements, the oldest first
}

// newSecrets are the secrets a reset renewed ("" for one kept).
type newSecrets struct {
	SessionID string
	BotID     string
	Secret    string
	AppSecret string
}

func (v *revealed) put(sessionID string, n newSecrets) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = make(map[string]*list.Element)
	}
	n.SessionID = sessionID
	if el, ok := v.m[sessionID]; ok { // a second reset before the page: the newer one shows
		el.Value = n
		v.order.MoveToBack(el)
		return
	}
	if len(v.m) >= DefaultMaxSessions {
		oldest := v.order.Front()
		delete(v.m, v.order.Remove(oldest).(newSecrets).SessionID)
	}
	v.m[sessionID] = v.order.PushBack(n)
}

// take returns and forgets the secrets kept for the session and bot.
func (v *revealed) take(sessionID, botID string) *newSecrets {
	v.mu.Lock()
	defer v.mu.Unlock()
	el, ok := v.m[sessionID]
	if !ok || el.Value.(newSecrets).BotID != botID {
		return nil
	}
	delete(v.m, sessionID)
	n := v.order.Remove(el).(newSecrets)
	return &n
}

// botChanged ends the console sessions of a bot whose appSecret was reset,
// but the one that reset it (sparing).
func (c *Console) botChanged(ch group.BotChange) {
	if ch.Secrets&group.AppSecret == 0 {
		return
	}
	c.sessions.mu.Lock()
	defer c.sessions.mu.Unlock()
	for id, s := range c.sessions.m {
		if _, spared := c.sparing.Load(id); s.botID == ch.BotID && !spared {
			delete(c.sessions.m, id)
		}
	}
}

// resets are the reset forms, in the order shown: the form's which, which
// also names its texts (reset_<which>), and the secrets it renews.
var resets = []struct {
	which   string
	secrets group.Secrets
}{
	{"app", group.AppSecret},
	{"robot", group.RobotSecret},
	{"both", group.BothSecrets},
}

// resetNames returns the reset forms' which, in the order shown.
func resetNames() []string {
	names := make([]string, len(resets))
	for i, rs := range resets {
		names[i] = rs.which
	}
	return names
}

// secretsOf returns the secrets a reset form's which renews.
func secretsOf(which string) (group.Secrets, bool) {
	for _, rs := range resets {
		if rs.which == which {
			return rs.secrets, true
		}
	}
	return 0, false
}

// credData is what the credentials and intents sections show.
type credData struct {
	New     *newSecrets // the secrets just reset, shown this once
	Intents []intentRow
	Default bool     // the bot has no intents of its own: the default set applies
	Resets  []string // the reset forms' which, in the order shown
}

// intentRow is one checkbox of the intents editor.
type intentRow struct {
	Bit     uint
	Name    string
	Value   int64 // 1<<Bit
	Checked bool
}

// credentials returns the sections' data for the bot page of b.
func (c *Console) credentials(s *session, b group.Bot) credData {
	d := credData{New: c.revealed.take(s.id, b.UserID), Default: b.Intents == 0,
		Resets: resetNames()}
	allowed := b.AllowedIntents()
	for _, in := range group.Intents {
		d.Intents = append(d.Intents, intentRow{Bit: in.Bit, Name: in.Name, Value: 1 << in.Bit, Checked: allowed&(1<<in.Bit) != 0})
	}
	return d
}

// mayBot reports whether s may see or change bot id's pages (the operator any
// bot's, a bot developer only theirs), refusing it otherwise.
func (c *Console) mayBot(w http.ResponseWriter, r *http.Request, s *session, id string) bool {
	if s.operator() || id == s.botID {
		return true
	}
	c.fail(w, r, s, http.StatusForbidden, text(language(r), "forbidden"))
	return false
}

// resetSecret serves POST /bots/{id}/reset: which is robot, app or both.
func (c *Console) resetSecret(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	if !c.mayBot(w, r, s, id) {
		return
	}
	which, ok := secretsOf(r.PostForm.Get("which"))
	if !ok {
		c.fail(w, r, s, http.StatusBadRequest, text(language(r), "bad_which"))
		return
	}
	if !s.operator() {
		// The developer who resets stays signed in; the bot's other
		// sessions, holding the old appSecret, end (botChanged).
		c.sparing.Store(s.id, struct{}{})
	}
	b, err := c.svc.ResetSecrets(r.Context(), id, which)
	c.sparing.Delete(s.id)
	if err != nil {
		c.domainError(w, r, s, err)
		return
	}
	n := newSecrets{BotID: id}
	if which&group.RobotSecret != 0 {
		n.Secret = b.Secret
	}
	if which&group.AppSecret != 0 {
		n.AppSecret = b.AppSecret
	}
	c.revealed.put(s.id, n)
	redirect(w, "/bots/"+url.PathEscape(id)+"#new-secrets")
}

// setIntents serves POST /bots/{id}/intents: one intent field per checked
// bit (its value 1<<bit); none checked is the default set.
func (c *Console) setIntents(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	if !c.mayBot(w, r, s, id) {
		return
	}
	var intents int64
	for _, v := range r.PostForm["intent"] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || n&(n-1) != 0 {
			c.fail(w, r, s, http.StatusBadRequest, joinText(language(r), text(language(r), "bad_intent"), strconv.Quote(v)))
			return
		}
		intents |= n
	}
	if _, err := c.svc.SetIntents(r.Context(), id, intents); err != nil {
		c.domainError(w, r, s, err)
		return
	}
	redirect(w, "/bots/"+url.PathEscape(id)+"?flash=intents_saved#intents")
}

// credentialTexts are the strings of the credentials and intents sections,
// English and Chinese; init adds them to texts.
var credentialTexts = map[string][2]string{
	"reveal":        {"Show the secrets", "显示密钥"},
	"reset":         {"Reset…", "重置…"},
	"reset_robot":   {"Reset the robot secret", "重置 Robot 密钥"},
	"reset_app":     {"Reset the appSecret", "重置 appSecret"},
	"reset_both":    {"Reset both", "全部重置"},
	"confirm_reset": {"Yes, reset", "确认重置"},
	"reset_warn_robot": {"Robot API calls signed with the old secret are refused at once.",
		"使用旧密钥签名的 Robot API 调用将立即被拒绝。"},
	"reset_warn_app": {"Token requests with the old appSecret are refused, and every access token issued with it stops working: the bot must log in again with the new one. Other console sessions signed in with the old appSecret are signed out; this one stays.",
		"使用旧 appSecret 获取 token 将被拒绝，已签发的 access token 全部失效：机器人须用新的 appSecret 重新登录。用旧 appSecret 登录的其他控制台会话将被退出，当前会话保持登录。"},
	"new_secrets":     {"New secrets: copy them now, this page shows them once.", "新密钥：请立即复制，此页面只显示一次。"},
	"intents":         {"Allowed intents", "允许的 intents"},
	"intents_help":    {"A gateway identify asking for intents beyond these is refused (4014). Connections identified before keep theirs until they reconnect. None checked: the default set.", "网关 identify 请求超出这些 intents 时被拒绝（4014）。已连接的会话保留原有 intents，直到重新连接。全不勾选：默认集合。"},
	"intents_default": {"The bot has the default set.", "该机器人使用默认集合。"},
	"intents_saved":   {"Intents saved.", "intents 已保存。"},
	"bad_which":       {"Say which secret to reset: robot, app or both.", "请指明要重置的密钥：robot、app 或 both。"},
	"bad_intent":      {"Not an intent bit", "不是有效的 intent 位"},
}

func init() {
	for k, v := range credentialTexts {
		texts[k] = v
	}
}
