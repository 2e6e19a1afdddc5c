package group

import (
	"errors"
	"fmt"
)

// Code classifies a domain error. Each door maps codes to its own vocabulary
// (Wildfire numeric codes, QQ HTTP status + body, gateway close codes) in one
// explicit table; the domain never speaks a door's language.
type Code string

// The error codes of the domain.
const (
	ENotExist      Code = "not_exist"       // the group, user, robot or member does not exist
	ENotRight      Code = "not_right"       // the actor may not do this
	ENotInGroup    Code = "not_in_group"    // the actor (or target) is not a member
	EAlreadyMember Code = "already_member"  // every member to add is a member already
	EGroupExists   Code = "group_exists"    // a group with that id exists already
	EExceedMax     Code = "exceed_max"      // the member limit would be exceeded
	EInvalidParam  Code = "invalid_param"   // a parameter is missing or malformed
	EInvalidData   Code = "invalid_data"    // a value is out of its range (e.g. group type)
	EGroupMuted    Code = "group_muted"     // the group is muted and the sender may not speak
	EConflict      Code = "conflict"        // a unique value (e.g. an app id) is taken
	EDuplicate     Code = "duplicate"       // the same (msg_id, msg_seq) reply was sent already
	EExpired       Code = "expired"         // a passive reply's window has passed or its replies are used up
	ERejected      Code = "rejected"        // the group turned the bot's proactive messages off
	EOverQuota     Code = "over_quota"      // the proactive message quota is used up
	ENotImplement  Code = "not_implemented" // a valid request qun does not serve
	EInternal      Code = "internal"        // a bug or an infrastructure failure
)

// Error is the domain's error: a code for machines and a message for people,
// saying what is wrong in words the caller can act on; the doors show it
// after their own text. A message may name the caller's ids and values but
// never an internal detail (SQL, a constraint, a secret). The messages of
// the request-value codes (EInvalidParam, EInvalidData, EDuplicate,
// EExpired, ERejected, EOverQuota, ENotImplement) name only fields and
// values of the request itself, never a stored id: the Bot Open Platform
// door shows them to bots, which know groups and users only by openid.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EInternal for errors that are not domain errors.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// IsNotExist reports whether err is a domain "not exist" error.
func IsNotExist(err error) bool { return err != nil && ErrorCode(err) == ENotExist }
