package console

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/qun-chat/qun/internal/group"
)

// notificationData is the {g,o,n,m,ms} JSON a built-in notification is kept
// in (Wildfire's GroupNotificationBinaryContent).
type notificationData struct {
	Group    string   `json:"g"`
	Operator string   `json:"o"`
	Value    string   `json:"n"`
	Member   string   `json:"m"`
	Members  []string `json:"ms"`
}

// sentences are the readable forms of the built-in notifications: %[1]s is
// the operator, %[2]s the members (or the member), %[3]s the value.
var sentences = map[int][2]string{
	group.NotifyCreateGroup:       {"%[1]s created the group %[3]s", "%[1]s 创建了群 %[3]s"},
	group.NotifyAddMember:         {"%[1]s added %[2]s", "%[1]s 邀请 %[2]s 加入了群"},
	group.NotifyKickMember:        {"%[1]s removed %[2]s", "%[1]s 将 %[2]s 移出了群"},
	group.NotifyQuitGroup:         {"%[1]s left the group", "%[1]s 退出了群"},
	group.NotifyDismissGroup:      {"%[1]s dismissed the group", "%[1]s 解散了群"},
	group.NotifyTransferOwner:     {"%[1]s made %[2]s the owner", "%[1]s 将群转让给了 %[2]s"},
	group.NotifyChangeName:        {"%[1]s renamed the group to %[3]s", "%[1]s 将群名修改为 %[3]s"},
	group.NotifyMemberAlias:       {"%[2]s is now called %[3]s", "%[2]s 的群昵称改为 %[3]s"},
	group.NotifyChangePortrait:    {"%[1]s changed the group's picture", "%[1]s 修改了群头像"},
	group.NotifyChangeMute:        {"%[1]s set the group's mute to %[3]s", "%[1]s 将全员禁言设置为 %[3]s"},
	group.NotifyChangeJoinType:    {"%[1]s changed how people join", "%[1]s 修改了入群方式"},
	group.NotifyChangePrivateChat: {"%[1]s changed private chat", "%[1]s 修改了群内私聊设置"},
	group.NotifyChangeSearchable:  {"%[1]s changed whether the group can be found", "%[1]s 修改了群可搜索设置"},
	group.NotifySetManager:        {"%[1]s set manager %[3]s for %[2]s", "%[1]s 将 %[2]s 的管理员设置为 %[3]s"},
	group.NotifyMuteMember:        {"%[1]s set mute %[3]s for %[2]s", "%[1]s 将 %[2]s 的禁言设置为 %[3]s"},
	group.NotifyAllowMember:       {"%[1]s set allowed %[3]s for %[2]s", "%[1]s 将 %[2]s 的白名单设置为 %[3]s"},
	group.NotifyChangeExtra:       {"%[1]s changed the group's extra", "%[1]s 修改了群附加信息"},
	group.NotifyMemberExtra:       {"%[1]s changed the extra of %[2]s", "%[1]s 修改了 %[2]s 的附加信息"},
}

// switched are the sentences of the notifications whose value turns
// something on ("1") or off ("0"), by value: "muted bob" reads better than
// "set mute 1 for bob". Another value falls back to sentences.
var switched = map[int]map[string][2]string{
	group.NotifyMuteMember: {
		"1": {"%[1]s muted %[2]s", "%[1]s 禁言了 %[2]s"},
		"0": {"%[1]s unmuted %[2]s", "%[1]s 解除了 %[2]s 的禁言"},
	},
	group.NotifyAllowMember: {
		"1": {"%[1]s let %[2]s speak while the group is muted", "%[1]s 将 %[2]s 加入了禁言白名单"},
		"0": {"%[1]s no longer lets %[2]s speak while the group is muted", "%[1]s 将 %[2]s 移出了禁言白名单"},
	},
	group.NotifySetManager: {
		"1": {"%[1]s made %[2]s a manager", "%[1]s 将 %[2]s 设为管理员"},
		"0": {"%[1]s removed %[2]s as a manager", "%[1]s 取消了 %[2]s 的管理员"},
	},
	group.NotifyChangeMute: {
		"1": {"%[1]s muted the group", "%[1]s 开启了全员禁言"},
		"0": {"%[1]s unmuted the group", "%[1]s 关闭了全员禁言"},
	},
}

// line is one timeline message as the console shows it.
type line struct {
	Seq    int64  `json:"seq"`
	Sender string `json:"sender"`
	Time   string `json:"time"`
	Text   string `json:"text"`
	Notice bool   `json:"notice"` // a built-in notification, shown as a sentence
}

// render turns a timeline message into a line: a notification into a
// sentence in lang, a chat message into its text.
func render(lang string, m group.Message) line {
	l := line{Seq: m.Seq, Sender: m.Sender, Time: m.CreatedAt.UTC().Format("2006-01-02 15:04:05")}
	if s, ok := sentences[m.Payload.Type]; ok {
		var d notificationData
		if json.Unmarshal(m.Payload.Data, &d) == nil {
			op := d.Operator
			if op == "" {
				op = text(lang, "server")
			}
			who := strings.Join(d.Members, ", ")
			if who == "" {
				who = d.Member
			}
			if byValue, ok := switched[m.Payload.Type][d.Value]; ok {
				s = byValue
			}
			f := s[0]
			if lang == langZH {
				f = s[1]
			}
			l.Text, l.Notice = fmt.Sprintf(f, op, who, d.Value), true
			return l
		}
	}
	switch {
	case m.Payload.SearchableContent != "":
		l.Text = m.Payload.SearchableContent
	case m.Payload.Content != "":
		l.Text = m.Payload.Content
	default:
		l.Text = fmt.Sprintf(text(lang, "content_type"), m.Payload.Type)
	}
	return l
}
