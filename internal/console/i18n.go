package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/qun-chat/qun/internal/group"
)

// The console's languages.
const (
	langEN = "en"
	langZH = "zh"
)

// texts holds every string the console shows, English and Chinese.
var texts = map[string][2]string{
	"title":            {"qun console", "qun 控制台"},
	"overview":         {"Overview", "概览"},
	"bots":             {"Bots", "机器人"},
	"groups":           {"Groups", "群组"},
	"playground":       {"Playground", "调试群"},
	"signin":           {"Sign in", "登录"},
	"signout":          {"Sign out", "退出"},
	"as_operator":      {"Operator (admin secret)", "运维（管理密钥）"},
	"as_bot":           {"Bot developer (appId + appSecret)", "机器人开发者（appId + appSecret）"},
	"admin_secret":     {"Admin secret", "管理密钥"},
	"app_id":           {"appId", "appId"},
	"app_secret":       {"appSecret", "appSecret"},
	"robot_secret":     {"Robot secret", "Robot 密钥"},
	"health":           {"Health", "健康"},
	"ok":               {"ok", "正常"},
	"unavailable":      {"the store does not answer", "存储无响应"},
	"version":          {"Version", "版本"},
	"store":            {"Store", "存储"},
	"requests":         {"Requests answered", "已应答请求"},
	"gateway_conns":    {"Gateway connections", "网关连接"},
	"events_delivered": {"Events delivered", "已投递事件"},
	"events_appended":  {"Events appended", "已生成事件"},
	"events_rate":      {"Events per second", "每秒事件数"},
	"backlog":          {"Deliveries pending (webhooks and callbacks)", "待投递（Webhook 与回调）"},
	"id":               {"ID", "ID"},
	"name":             {"Name", "名称"},
	"display_name":     {"Display name", "显示名"},
	"owner":            {"Owner", "群主"},
	"bot_owner":        {"Owner (user id)", "所有者（用户 ID）"},
	"create":           {"Create", "创建"},
	"create_bot":       {"Create a bot", "创建机器人"},
	"create_group":     {"Create a group", "创建群组"},
	"members_input":    {"Members (ids, separated by spaces or commas)", "成员（ID，以空格或逗号分隔）"},
	"next_page":        {"Next page", "下一页"},
	"search":           {"Search groups", "搜索群组"},
	"search_by":        {"by", "按"},
	"search_go":        {"Search", "搜索"},
	"search_hint":      {"The start of the id or name, case-sensitive.", "ID 或名称的开头，区分大小写。"},
	"bad_search_field": {"Search by id or by name.", "请按 ID 或名称搜索。"},
	"older":            {"Older", "更早"},
	"newest":           {"Newest", "最新"},
	"credentials":      {"Credentials (click to reveal)", "凭据（点击显示）"},
	"ice_breaker":      {"Ice-breaker message", "进群破冰消息"},
	"ice_enabled":      {"Post it when the bot joins a group", "机器人进群时发送"},
	"ice_text":         {"Text", "内容"},
	"preview":          {"Preview", "预览"},
	"save":             {"Save", "保存"},
	"saved":            {"Saved.", "已保存。"},
	"bot_groups":       {"The bot's groups", "机器人所在的群"},
	"none":             {"none", "无"},
	"members":          {"Members", "成员"},
	"role":             {"Role", "角色"},
	"member":           {"Member", "成员"},
	"change_role":      {"Change", "操作"},
	"mute":             {"Mute", "禁言"},
	"unmute":           {"Unmute", "解除禁言"},
	"allow":            {"Let speak when muted", "加入白名单"},
	"disallow":         {"No longer", "移出白名单"},
	"bad_action":       {"Unknown change.", "未知的操作。"},
	"timeline":         {"Timeline", "消息记录"},
	"live":             {"updates live", "实时更新"},
	"group":            {"Group", "群"},
	"user":             {"User", "用户"},
	"message":          {"Message", "消息"},
	"mention":          {"@-mention a bot", "@ 机器人"},
	"no_mention":       {"(no one)", "（不 @）"},
	"send":             {"Send", "发送"},
	"open":             {"Open", "打开"},
	"bot":              {"Bot", "机器人"},
	"add_bot":          {"Add the bot", "添加机器人"},
	"remove_bot":       {"Remove the bot", "移除机器人"},
	"proactive_off":    {"Turn its proactive messages off", "关闭主动消息"},
	"proactive_on":     {"Turn its proactive messages on", "开启主动消息"},
	"act_as":           {"acting as the user above", "以上面的用户身份操作"},
	"bot_events":       {"Events the bot was sent", "机器人收到的事件"},
	"bot_events_hint":  {"The gateway's op 0 frames (t, s, id, d), as JSON, byte for byte; the bot's latest first, then live, from all its groups.", "网关发送的 op 0 帧（t、s、id、d）原样 JSON；先显示最近的，随后实时更新，包含机器人所在的所有群。"},
	"show":             {"Show", "显示"},
	"pick_group":       {"Pick a group and a user", "选择群和用户"},
	"error":            {"Error", "错误"},
	"back":             {"Back", "返回"},
	"not_found":        {"This page does not exist.", "页面不存在。"},
	"forbidden":        {"You may not see this page.", "你无权查看此页面。"},
	"bad_signin":       {"Wrong secret, or wrong appId/appSecret.", "密钥错误，或 appId/appSecret 错误。"},
	"too_many":         {"Too many sign-in attempts: wait a minute.", "登录尝试过多：请稍候一分钟。"},
	"bad_csrf":         {"The form expired: reload the page and try again.", "表单已过期：请刷新页面后重试。"},
	"server_error":     {"Server error.", "服务器错误。"},
	"full":             {"Too many sessions: try again later.", "会话过多：请稍后再试。"},
	"empty":            {"empty", "不能为空"},
	"bad_after":        {"after must be a whole number, 0 or more.", "after 必须是不小于 0 的整数。"},
	"bad_page_keys":    {"members_after and before must be whole numbers, 0 or more.", "members_after 和 before 必须是不小于 0 的整数。"},
	"content_type":     {"[content type %d]", "[消息类型 %d]"},
	"role_0":           {"member", "成员"},
	"role_1":           {"manager", "管理员"},
	"role_2":           {"owner", "群主"},
	"role_3":           {"muted", "禁言"},
	"role_5":           {"allowed", "白名单"},
	"lang_switch":      {"中文", "English"},
	"sent":             {"Sent.", "已发送。"},
	"server":           {"the server", "系统"},
}

// deliveryTexts are the strings of the bot page's webhook, deliveries and
// sessions sections, kept apart so that they read as one block.
var deliveryTexts = map[string][2]string{
	"webhook":           {"Webhook", "Webhook 回调"},
	"webhook_url":       {"Webhook URL", "回调地址"},
	"webhook_help":      {"qun validates the URL (op 13) before it sends events there; empty turns the webhook off.", "qun 先校验该地址（op 13）再向其推送事件；留空则关闭回调。"},
	"webhook_set":       {"Validate and save", "校验并保存"},
	"webhook_none":      {"No webhook: events go to the gateway only.", "未设置回调：事件仅通过网关下发。"},
	"webhook_ok":        {"Validated (op 13)", "已通过校验（op 13）"},
	"webhook_refused":   {"Refused", "校验失败"},
	"webhook_validated": {"The webhook URL passed validation (op 13) and is saved.", "回调地址已通过校验（op 13）并保存。"},
	"webhook_off":       {"The webhook is off.", "回调已关闭。"},
	"deliveries":        {"Deliveries", "投递"},
	"stream":            {"Stream", "通道"},
	"stream_webhook":    {"QQ webhook", "QQ 回调"},
	"stream_callback":   {"Wildfire callback", "野火回调"},
	"stream_off":        {"off", "未开启"},
	"delivered_seq":     {"Delivered up to seq", "已投递至 seq"},
	"pending":           {"Pending", "待投递"},
	"last_error":        {"Last error", "最近错误"},
	"next_attempt":      {"Next attempt", "下次重试"},
	"dropped":           {"Dropped", "已丢弃"},
	"node":              {"Node", "节点"},
	"from_seq":          {"From seq", "起始 seq"},
	"redeliver":         {"Redeliver", "重新投递"},
	"redeliver_from":    {"Redeliver from seq", "从 seq 重新投递"},
	"redelivered":       {"Redelivery started.", "已开始重新投递。"},
	"attempts":          {"Recent attempts", "最近投递记录"},
	"seq":               {"Seq", "Seq"},
	"event_type":        {"Event", "事件"},
	"status":            {"Status", "状态"},
	"time":              {"Time (UTC)", "时间（UTC）"},
	"duration":          {"Took", "耗时"},
	"no_answer":         {"no answer", "无响应"},
	"sessions":          {"Gateway sessions", "网关会话"},
	"sessions_help": {"Every node's, read from the store; a session is live while its connection sends heartbeats. Last seq is the s the client last got (an event's seq above plus one).",
		"来自存储，包含所有节点；连接持续发送心跳时会话为在线。最新 seq 是客户端最近收到的 s（上面事件的 seq 加一）。"},
	"session_id":      {"Session", "会话"},
	"shard":           {"Shard", "分片"},
	"connected_since": {"Connected since (UTC)", "连接时间（UTC）"},
	"last_seen":       {"Last seen (UTC)", "最近活动（UTC）"},
	"last_seq":        {"Last seq", "最新 seq"},
	"session_live":    {"live", "在线"},
	"session_gone":    {"disconnected", "已断开"},
	"no_deliveries":   {"This server delivers no webhooks.", "此服务器不投递回调。"},
	"bad_stream":      {"Pick the webhook or the callback stream.", "请选择 QQ 回调或野火回调通道。"},
	"bad_from_seq":    {"From seq must be a whole number, 0 or more.", "起始 seq 必须是不小于 0 的整数。"},
	"too_long":        {"too long", "过长"},
}

func init() {
	for k, v := range deliveryTexts {
		texts[k] = v
	}
}

// refusalTexts are what an error page says before a domain error's own
// message (which is English and names the request's ids and values), by
// the error's code: "参数无效：id is longer than 64 bytes".
var refusalTexts = map[group.Code]string{
	group.ENotExist:      "code_not_exist",
	group.ENotRight:      "code_not_right",
	group.ENotInGroup:    "code_not_in_group",
	group.EAlreadyMember: "code_already_member",
	group.EGroupExists:   "code_group_exists",
	group.EExceedMax:     "code_exceed_max",
	group.EInvalidParam:  "code_invalid_param",
	group.EInvalidData:   "code_invalid_data",
	group.EGroupMuted:    "code_group_muted",
	group.EConflict:      "code_conflict",
	group.EDuplicate:     "code_duplicate",
	group.EExpired:       "code_expired",
	group.ERejected:      "code_rejected",
	group.EOverQuota:     "code_over_quota",
	group.ENotImplement:  "code_not_implemented",
}

// codeTexts are the strings of refusalTexts.
var codeTexts = map[string][2]string{
	"code_not_exist":       {"Not found", "不存在"},
	"code_not_right":       {"Not allowed", "无权操作"},
	"code_not_in_group":    {"Not a member", "不是群成员"},
	"code_already_member":  {"Already a member", "已是群成员"},
	"code_group_exists":    {"The group exists already", "群已存在"},
	"code_exceed_max":      {"Over the member limit", "超出成员上限"},
	"code_invalid_param":   {"Invalid parameter", "参数无效"},
	"code_invalid_data":    {"Invalid value", "取值无效"},
	"code_group_muted":     {"The group is muted", "群已禁言"},
	"code_conflict":        {"Already taken", "已被占用"},
	"code_duplicate":       {"Sent already", "已发送过"},
	"code_expired":         {"Expired", "已过期"},
	"code_rejected":        {"Refused by the group", "已被群拒绝"},
	"code_over_quota":      {"Over the quota", "超出配额"},
	"code_not_implemented": {"Not supported", "不支持"},
}

func init() {
	for k, v := range codeTexts {
		texts[k] = v
	}
}

// joinText puts a detail after a text, with lang's colon: "ID: empty",
// "ID：不能为空".
func joinText(lang, head, detail string) string {
	if lang == langZH {
		return head + "：" + detail
	}
	return head + ": " + detail
}

// fieldText is a refusal of a form field: the field's text, then the
// problem's.
func fieldText(lang, field, problem string) string {
	return joinText(lang, text(lang, field), text(lang, problem))
}

// text returns the string of key in lang, the key itself when unknown.
func text(lang, key string) string {
	t, ok := texts[key]
	if !ok {
		return key
	}
	if lang == langZH {
		return t[1]
	}
	return t[0]
}

// language chooses the page's language: the switch's cookie, else the
// Accept-Language entry of zh or en with the highest weight, else English.
func language(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == langEN || c.Value == langZH) {
		return c.Value
	}
	best, bestQ := langEN, -1.0
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if (base == langZH || base == langEN) && q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
}
