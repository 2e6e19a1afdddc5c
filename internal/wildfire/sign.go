package wildfire

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// Sign returns a Wildfire request signature: the lower-case hex SHA-1 of
// nonce|secret|timestamp.
func Sign(nonce, secret, timestamp string) string {
	sum := sha1.Sum([]byte(nonce + "|" + secret + "|" + timestamp))
	return hex.EncodeToString(sum[:])
}

// signedHeaders are the signature headers of a request. Header names are
// case-insensitive (net/http canonicalises them), as in Wildfire.
type signedHeaders struct {
	nonce, timestamp, sign, rid string
}

func readSignedHeaders(h http.Header) signedHeaders {
	return signedHeaders{
		nonce:     h.Get("nonce"),
		timestamp: h.Get("timestamp"),
		sign:      h.Get("sign"),
		rid:       h.Get("rid"),
	}
}

// authRobot checks a Robot API request's signature, in Wildfire's order
// (RobotAction#preAction), and returns the robot's id. Each failure is an
// auth *wireError:
//
//	any of nonce, timestamp, sign, rid missing or empty   239
//	over the robot's rate (checked before the signature)  250
//	timestamp not an int64                                239
//	timestamp outside now ± SignWindow                    243
//	robot not found                                       253
//	robot secret empty                                    248
//	signature mismatch                                    244
//	replayed rid|nonce|timestamp (qun only)               244
//
// A replay gets the same code as a bad signature: to the client both mean
// "this request is not authentic", and Wildfire has no better code.
func (a *api) authRobot(r *http.Request) (string, error) {
	h := readSignedHeaders(r.Header)
	if h.nonce == "" || h.timestamp == "" || h.sign == "" || h.rid == "" {
		return "", errAuth(CodeNotSigned)
	}
	// The rate limiter keys on rid before anything is verified: an unbounded
	// rid would let unsigned requests fill it with large keys.
	if len(h.rid) > group.MaxIDLen || len(h.nonce) > MaxNonceLen || len(h.sign) > MaxSignLen {
		return "", errAuth(CodeNotSigned)
	}
	if a.limiter != nil && !a.limiter.allow(h.rid) {
		return "", errAuth(CodeOverFrequency)
	}
	ts, err := a.checkTimestamp(h.timestamp)
	if err != nil {
		return "", err
	}
	secret, err := a.robotSecret(r.Context(), h.rid)
	if group.IsNotExist(err) {
		return "", errAuth(CodeNotExist)
	}
	if err != nil {
		return "", err
	}
	if secret == "" {
		return "", errAuth(CodeNotRight)
	}
	if err := a.checkSign(r, h, secret, "robot:"+strconv.Itoa(len(h.rid))+":"+h.rid, ts); err != nil {
		return "", err
	}
	return h.rid, nil
}

// authAdmin checks an Admin API request's signature: the Robot API's steps
// without rid and rate limit, with the admin secret. An empty admin secret
// refuses everything with 248, as an empty robot secret does.
func (a *api) authAdmin(r *http.Request) error {
	h := readSignedHeaders(r.Header)
	if h.nonce == "" || h.timestamp == "" || h.sign == "" || len(h.nonce) > MaxNonceLen || len(h.sign) > MaxSignLen {
		return errAuth(CodeNotSigned)
	}
	ts, err := a.checkTimestamp(h.timestamp)
	if err != nil {
		return err
	}
	if a.adminSecret == "" {
		return errAuth(CodeNotRight)
	}
	return a.checkSign(r, h, a.adminSecret, "admin", ts)
}

// Header limits: a nonce is a short random string (the Java SDK sends an int
// below 100,003) and a sign is 40 hex characters; anything much longer is not
// a signed request, and would only grow the nonce cache's keys.
const (
	MaxNonceLen = 64
	MaxSignLen  = 64
)

// checkTimestamp parses a timestamp in Unix milliseconds and checks that it
// is within the sign window of now, in both directions.
func (a *api) checkTimestamp(s string) (int64, error) {
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errAuth(CodeNotSigned)
	}
	now, w := a.now().UnixMilli(), a.window.Milliseconds()
	// Compared this way round so that no extreme ts can overflow.
	if ts < now-w || ts > now+w {
		return 0, errAuth(CodeSignExpired)
	}
	return ts, nil
}

// checkSign compares the signature in constant time (case-sensitively, as
// Wildfire's String.equals does) and then records the request in the nonce
// cache so that it cannot be replayed. who keeps robots' and the admin's
// keys apart; it is length-prefixed so that no rid can forge another's key.
func (a *api) checkSign(r *http.Request, h signedHeaders, secret, who string, ts int64) error {
	want := Sign(h.nonce, secret, h.timestamp)
	if subtle.ConstantTimeCompare([]byte(want), []byte(h.sign)) != 1 {
		return errAuth(CodeAuthFailure)
	}
	// The timestamp is acceptable up to ts+window inclusive; remembering the
	// key until the millisecond after (at most 2×window from now) is enough.
	expires := time.UnixMilli(ts).Add(a.window + time.Millisecond)
	fresh, err := a.nonces.Use(r.Context(), who+"|"+h.nonce+"|"+h.timestamp, expires)
	if errors.Is(err, ErrNoncesFull) {
		return errAuth(CodeOverFrequency)
	}
	if err != nil {
		return err
	}
	if !fresh {
		return errAuth(CodeAuthFailure)
	}
	return nil
}
