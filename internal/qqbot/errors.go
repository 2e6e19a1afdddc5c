package qqbot

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/qun-chat/qun/internal/access"
	"github.com/qun-chat/qun/internal/group"
)

// REST answers. Every answer, success or error, carries the header
// X-Tps-trace-ID and Content-Type exactly "application/json" (botpy parses a
// body only then); every success is HTTP 200. An error body is
//
//	{"message":"...","code":N,"err_code":N,"trace_id":"<the X-Tps-trace-ID>"}
//
// The codes qun uses (the v2 codes come from third-party observation of the
// real platform and are UNVERIFIED there; the others are qun's choice):
//
//	HTTP  code      when
//	400   11255     malformed request: bad JSON, a parameter missing or out of range, a malformed msg_id/event_id
//	401   11244     missing, unknown or expired access token (botgo then asks its token source again)
//	401   100016    getAppAccessToken: unknown appId or wrong clientSecret
//	403   40054003  the bot is not a member of the group
//	403   40054002  the bot may not speak: it or the group is muted
//	403   40034105  proactive message refused: the group turned the bot's proactive messages off
//	403   40034100  proactive message quota used up
//	400   40054005  duplicate passive reply: that (msg_id, msg_seq) was sent already
//	400   40034128  passive reply window passed, or its replies are used up
//	404   11255     unknown group or member openid (also another bot's), unknown msg_id/event_id, unknown path
//	405   11255     method not allowed on that path
//	429   22009     REST rate limit of the app exceeded
//	429   22009     getAppAccessToken: too many wrong secrets for the app (TokenFailRate)
//	500   500       server error, a panic included (logged with the trace id; no detail is given)
//	503   503       gateway upgrade refused: the node serves MaxGatewayConns connections
//	501   11255     a valid request qun does not serve
const (
	codeInvalidRequest = 11255
	codeTokenInvalid   = 11244
	codeAppInvalid     = 100016
	codeNotInGroup     = 40054003
	codeMuted          = 40054002
	codeRejected       = 40034105
	codeOverQuota      = 40034100
	codeDuplicate      = 40054005
	codeExpired        = 40034128
	codeRateLimited    = 22009
	codeServerError    = 500
	codeUnavailable    = 503
)

// traceHeader is the response header the SDKs read the trace id from.
const traceHeader = "X-Tps-trace-ID"

// apiError is a REST error as the client sees it, and what the log says of it.
type apiError struct {
	Status  int
	Code    int
	Message string
	// detail says why for the log, when Message does not (an expired
	// token); never a secret or a token.
	detail string
}

func (e *apiError) Error() string { return e.Message }

// because returns e with the log's reason.
func (e *apiError) because(detail string) *apiError {
	c := *e
	c.detail = detail
	return &c
}

// reason is what the log says of e.
func (e *apiError) reason() string {
	if e.detail != "" {
		return e.Message + ": " + e.detail
	}
	return e.Message
}

// Door-level errors.
var (
	errTokenInvalid = &apiError{http.StatusUnauthorized, codeTokenInvalid, "token not exist or expire", ""}
	errAppInvalid   = &apiError{http.StatusUnauthorized, codeAppInvalid, "invalid appid or secret", ""}
	errNotFound     = &apiError{http.StatusNotFound, codeInvalidRequest, "not found", ""}
	errMethod       = &apiError{http.StatusMethodNotAllowed, codeInvalidRequest, "method not allowed", ""}
	errRateLimited  = &apiError{http.StatusTooManyRequests, codeRateLimited, "request limit exceed", ""}
	errServer       = &apiError{http.StatusInternalServerError, codeServerError, "server error", ""}
	errTooManyConns = &apiError{http.StatusServiceUnavailable, codeUnavailable, "too many gateway connections, retry later", ""}
)

// badRequest is a 400 about the request itself; msg is the door's own text,
// naming the field and why.
func badRequest(msg string) *apiError {
	return &apiError{http.StatusBadRequest, codeInvalidRequest, "invalid request: " + msg, ""}
}

// codeErrors maps every domain error code to its QQ answer. A code missing
// here is a bug (a test walks every group.Code) and answers errServer.
var codeErrors = map[group.Code]*apiError{
	group.ENotExist:      {http.StatusNotFound, codeInvalidRequest, "not found", ""},
	group.ENotInGroup:    {http.StatusForbidden, codeNotInGroup, "机器人不在群中", ""},
	group.ENotRight:      {http.StatusForbidden, codeMuted, "机器人被禁言", ""},
	group.EGroupMuted:    {http.StatusForbidden, codeMuted, "机器人被禁言", ""},
	group.ERejected:      {http.StatusForbidden, codeRejected, "主动消息失败, 无权限", ""},
	group.EOverQuota:     {http.StatusForbidden, codeOverQuota, "主动消息频率超限", ""},
	group.EDuplicate:     {http.StatusBadRequest, codeDuplicate, "消息被去重，请检查请求msgseq", ""},
	group.EExpired:       {http.StatusBadRequest, codeExpired, "被动回复已过期或次数已用完", ""},
	group.EInvalidParam:  {http.StatusBadRequest, codeInvalidRequest, "invalid request", ""},
	group.EInvalidData:   {http.StatusBadRequest, codeInvalidRequest, "invalid request", ""},
	group.EAlreadyMember: {http.StatusBadRequest, codeInvalidRequest, "invalid request", ""},
	group.EGroupExists:   {http.StatusBadRequest, codeInvalidRequest, "invalid request", ""},
	group.EExceedMax:     {http.StatusBadRequest, codeInvalidRequest, "invalid request", ""},
	group.EConflict:      {http.StatusBadRequest, codeInvalidRequest, "invalid request", ""},
	group.ENotImplement:  {http.StatusNotImplemented, codeInvalidRequest, "not supported", ""},
	group.EInternal:      errServer,
}

// shownReasons are the domain codes whose message follows the answer's own
// ("被动回复已过期或次数已用完: the 5 passive replies are used up"): botgo and
// botpy show a failed call's message. The domain words these codes'
// messages with the request's own fields and values only (see group.Error);
// the other codes' messages may name internal ids, which a bot, knowing only
// openids, must not learn.
var shownReasons = map[group.Code]bool{
	group.EInvalidParam: true,
	group.EInvalidData:  true,
	group.EDuplicate:    true,
	group.EExpired:      true,
	group.ERejected:     true,
	group.EOverQuota:    true,
	group.ENotImplement: true,
}

// toAPIError maps any error to its answer; it reports whether the error is a
// server error (500), logged with its detail.
func toAPIError(err error) (*apiError, bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae, ae.Status >= 500
	}
	var de *group.Error
	if !errors.As(err, &de) {
		return errServer, true
	}
	e, ok := codeErrors[de.Code]
	if !ok || e == errServer {
		return errServer, true
	}
	if shownReasons[de.Code] && de.Message != "" {
		return &apiError{e.Status, e.Code, e.Message + ": " + de.Message, ""}, false
	}
	return e, false
}

// writeError answers err. Its reason goes to the access log (a refused call
// at info, a server error at error with the trace id); a server error's
// detail never reaches the client.
func (s *Server) writeError(w http.ResponseWriter, _ *http.Request, err error) {
	ae, internal := toAPIError(err)
	rec := access.From(w)
	switch {
	case internal:
		rec.Fail(strconv.Itoa(ae.Code), err)
	case errors.As(err, new(*apiError)):
		rec.Refuse(strconv.Itoa(ae.Code), ae.reason())
	default:
		rec.Refuse(strconv.Itoa(ae.Code), err.Error()) // the domain's message, ids and all
	}
	s.writeAPIError(w, ae)
}

// writeAPIError writes ae's body.
func (s *Server) writeAPIError(w http.ResponseWriter, ae *apiError) {
	writeJSON(w, ae.Status, errorBody{Message: ae.Message, Code: ae.Code, ErrCode: ae.Code, TraceID: w.Header().Get(traceHeader)})
}

type errorBody struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
	ErrCode int    `json:"err_code"`
	TraceID string `json:"trace_id"`
}

// writeJSON writes v with the exact Content-Type the SDKs expect and its
// Content-Length: net/http would send an answer over 2 KiB chunked, and some
// clients read a body only when Content-Length says it is there.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // our own answer types always marshal
		status = http.StatusInternalServerError
		body = []byte(`{"message":"server error","code":500,"err_code":500,"trace_id":""}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// newTraceID returns a fresh trace id: 16 lower-case hex characters.
func newTraceID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
