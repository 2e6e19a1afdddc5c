package wildfire

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/qun-chat/qun/internal/group"
)

// Wildfire ErrorCode values this door answers with (common/.../ErrorCode.java).
const (
	CodeSuccess          = 0
	CodeInvalidData      = 2
	CodeServerError      = 4
	CodeNotInGroup       = 9
	CodeGroupExists      = 11
	CodeAlreadyInGroup   = 12
	CodeTimeExpired      = 24
	CodeNotSigned        = 239
	CodeExceedMaxMembers = 240
	CodeGroupMuted       = 241
	CodeSignExpired      = 243
	CodeAuthFailure      = 244
	CodeNotRight         = 248
	CodeTimeout          = 249
	CodeOverFrequency    = 250
	CodeInvalidParameter = 251
	CodeNotExist         = 253
	CodeNotImplement     = 254
)

// codeMessages holds the exact msg string of every code this door sends,
// copied from Wildfire's ErrorCode enum; clients compare some of them.
var codeMessages = map[int]string{
	CodeSuccess:          "success",
	CodeInvalidData:      "invalid data",
	CodeServerError:      "server error",
	CodeNotInGroup:       "not in group",
	CodeGroupExists:      "group already exist",
	CodeAlreadyInGroup:   "member already in group",
	CodeTimeExpired:      "time expired",
	CodeNotSigned:        "api not signed or sign parameter not completion",
	CodeExceedMaxMembers: "group exceed max member count",
	CodeGroupMuted:       "group is muted",
	CodeSignExpired:      "sign expired",
	CodeAuthFailure:      "auth failure",
	CodeNotRight:         "no right to operate",
	CodeTimeout:          "timeout",
	CodeOverFrequency:    "over frequency",
	CodeInvalidParameter: "Invalid parameter",
	CodeNotExist:         "not exist",
	CodeNotImplement:     "not implement",
}

// domainCodes maps every domain error code to a Wildfire code. It is the only
// place the two vocabularies meet; a test walks every group.Code constant and
// fails if one is missing here.
var domainCodes = map[group.Code]int{
	group.ENotExist:      CodeNotExist,
	group.ENotRight:      CodeNotRight,
	group.ENotInGroup:    CodeNotInGroup,
	group.EAlreadyMember: CodeAlreadyInGroup,
	group.EGroupExists:   CodeGroupExists,
	group.EExceedMax:     CodeExceedMaxMembers,
	group.EInvalidParam:  CodeInvalidParameter,
	group.EInvalidData:   CodeInvalidData,
	group.EGroupMuted:    CodeGroupMuted,
	group.ENotImplement:  CodeNotImplement,
	group.EConflict:      CodeInvalidParameter, // e.g. creating a robot over a normal user's id
	group.EInternal:      CodeServerError,
	// The Bot Open Platform's codes cannot come out of this door today; they
	// are mapped so that a future call that reaches them answers sensibly.
	group.EDuplicate: CodeInvalidParameter, // the same (msg_id, msg_seq) again
	group.EExpired:   CodeTimeExpired,      // a passive reply's window has passed
	group.ERejected:  CodeNotRight,         // the group turned the bot's proactive messages off
	group.EOverQuota: CodeOverFrequency,    // the proactive quota is used up
}

// wireError is an answer of this door that is not a domain error: a Wildfire
// code and why.
type wireError struct {
	Code int
	// Auth marks a signature-check failure: Wildfire echoes those inside "result".
	Auth bool
	// Reason says what is wrong, naming the field or header concerned; it
	// follows the code's msg on the wire ("Invalid parameter: group_id is
	// missing"). It never holds a secret.
	Reason string
}

func (e *wireError) Error() string {
	if e.Reason == "" {
		return "wildfire: code " + strconv.Itoa(e.Code) + " " + codeMessages[e.Code]
	}
	return "wildfire: code " + strconv.Itoa(e.Code) + " " + codeMessages[e.Code] + ": " + e.Reason
}

// errCode returns a *wireError with code and reason.
func errCode(code int, reason string) *wireError { return &wireError{Code: code, Reason: reason} }

// errAuth returns an auth *wireError with code and reason.
func errAuth(code int, reason string) *wireError {
	return &wireError{Code: code, Auth: true, Reason: reason}
}

// invalid is the 251 answer to a body the door cannot take, saying which
// field is wrong and why.
func invalid(format string, args ...any) *wireError {
	return errCode(CodeInvalidParameter, fmt.Sprintf(format, args...))
}

// wireMessage is the msg of an answer with code: Wildfire's exact text, then
// the reason when there is one. Every Wildfire SDK maps an answer by its code
// (Java IMResult.getErrorCode, Python and JS ErrorCode.from_code) and passes
// msg on as text, so the reason reaches the caller without changing what the
// SDKs make of the answer.
func wireMessage(code int, reason string) string {
	if reason == "" {
		return codeMessages[code]
	}
	return codeMessages[code] + ": " + reason
}

// wireReason returns what err says to the caller: a wireError's reason or a
// domain error's message (which names the caller's own ids and values, never
// an internal detail: stores keep SQL and constraint names out of it).
func wireReason(err error) string {
	var we *wireError
	if errors.As(err, &we) {
		return we.Reason
	}
	var de *group.Error
	if errors.As(err, &de) {
		return de.Message
	}
	return ""
}

// wireCode returns the Wildfire code for err and whether it is known. An
// unknown error (not a domain error, not one of ours) is a bug or an
// infrastructure failure: code 4, and the caller logs it.
func wireCode(err error) (code int, known bool) {
	var we *wireError
	if errors.As(err, &we) {
		return we.Code, true
	}
	var de *group.Error
	if errors.As(err, &de) {
		c, ok := domainCodes[de.Code]
		if !ok || de.Code == group.EInternal {
			return CodeServerError, false
		}
		return c, true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return CodeTimeout, true
	}
	if errors.Is(err, context.Canceled) {
		// The client went away mid-request: nobody reads the answer and
		// nothing is wrong with qun, so it is not logged as an error.
		return CodeTimeout, true
	}
	return CodeServerError, false
}
