package wildfire

import (
	"context"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
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
// (RobotAction#preAction), and returns the robot's id and its nonce's claim,
// to be checked once the request is served. Each failure is an auth
// *wireError:
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
func (a *api) authRobot(r *http.Request) (string, nonceClaim, error) {
	h := readSignedHeaders(r.Header)
	if err := h.check(true); err != nil {
		return "", nonceClaim{}, err
	}
	if a.limiter != nil && !a.limiter.allow(h.rid) {
		return "", nonceClaim{}, errAuth(CodeOverFrequency, fmt.Sprintf("robot %s is over its %.0f calls per %v", h.rid, a.limiter.rate, RobotRatePeriod))
	}
	ts, err := a.checkTimestamp(h.timestamp)
	if err != nil {
		return "", nonceClaim{}, err
	}
	secret, err := a.robotSecret(r.Context(), h.rid)
	if group.IsNotExist(err) {
		return "", nonceClaim{}, errAuth(CodeNotExist, "no robot has the rid "+h.rid)
	}
	if err != nil {
		return "", nonceClaim{}, err
	}
	if secret == "" {
		return "", nonceClaim{}, errAuth(CodeNotRight, "robot "+h.rid+" has no secret")
	}
	claim, err := a.checkSign(r, h, secret, "robot:"+strconv.Itoa(len(h.rid))+":"+h.rid, ts)
	if err != nil {
		return "", nonceClaim{}, err
	}
	return h.rid, claim, nil
}

// authAdmin checks an Admin API request's signature: the Robot API's steps
// without rid and rate limit, with the admin secret. An empty admin secret
// refuses everything with 248, as an empty robot secret does.
func (a *api) authAdmin(r *http.Request) (nonceClaim, error) {
	h := readSignedHeaders(r.Header)
	if err := h.check(false); err != nil {
		return nonceClaim{}, err
	}
	ts, err := a.checkTimestamp(h.timestamp)
	if err != nil {
		return nonceClaim{}, err
	}
	if a.adminSecret == "" {
		return nonceClaim{}, errAuth(CodeNotRight, "the server has no admin secret")
	}
	return a.checkSign(r, h, a.adminSecret, "admin", ts)
}

// check reports the first signature header that is missing or too long
// (239); rid is checked on the Robot API only. The rate limiter keys on rid
// before anything is verified: an unbounded rid would let unsigned requests
// fill it with large keys.
func (h signedHeaders) check(robot bool) error {
	for _, f := range []struct {
		name, value string
		max         int
		used        bool
	}{
		{"nonce", h.nonce, MaxNonceLen, true},
		{"timestamp", h.timestamp, 0, true},
		{"sign", h.sign, MaxSignLen, true},
		{"rid", h.rid, group.MaxIDLen, robot},
	} {
		switch {
		case !f.used:
		case f.value == "":
			return errAuth(CodeNotSigned, "header "+f.name+" is missing")
		case f.max > 0 && len(f.value) > f.max:
			return errAuth(CodeNotSigned, fmt.Sprintf("header %s is longer than %d bytes", f.name, f.max))
		}
	}
	return nil
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
		return 0, errAuth(CodeNotSigned, "header timestamp is not an integer of Unix milliseconds")
	}
	now, w := a.now().UnixMilli(), a.window.Milliseconds()
	// Compared this way round so that no extreme ts can overflow.
	if ts < now-w || ts > now+w {
		reason := fmt.Sprintf("timestamp is more than %v before the server's clock", a.window)
		switch {
		case ts > now:
			reason = fmt.Sprintf("timestamp is more than %v after the server's clock", a.window)
		case ts > 0 && ts*1000 >= now-w && ts*1000 <= now+w:
			reason += " (it is in seconds: give milliseconds)"
		}
		return 0, errAuth(CodeSignExpired, reason)
	}
	return ts, nil
}

// checkSign compares the signature in constant time (case-sensitively, as
// Wildfire's String.equals does) and then claims the request's nonce so that
// it cannot be replayed. who keeps robots' and the admin's keys apart; it is
// length-prefixed so that no rid can forge another's key.
func (a *api) checkSign(r *http.Request, h signedHeaders, secret, who string, ts int64) (nonceClaim, error) {
	want := Sign(h.nonce, secret, h.timestamp)
	if subtle.ConstantTimeCompare([]byte(want), []byte(h.sign)) != 1 {
		return nonceClaim{}, errAuth(CodeAuthFailure, "sign is not sha1(nonce|secret|timestamp) in lower-case hex")
	}
	// The timestamp is acceptable up to ts+window inclusive; remembering the
	// key until the millisecond after (at most 2×window from now) is enough.
	key, signed := who+"|"+h.nonce+"|"+h.timestamp, time.UnixMilli(ts)
	expires := signed.Add(a.window + time.Millisecond)
	claim := nonceClaim{ctx: r.Context()}
	var fresh bool
	var err error
	if sn, ok := a.nonces.(*StoreNonces); ok {
		claim.ctx, claim.settle, fresh, err = sn.bind(r.Context(), key, signed, expires)
	} else {
		fresh, err = a.nonces.Use(r.Context(), key, signed, expires)
	}
	if err = nonceError(fresh, err); err != nil {
		return nonceClaim{}, err
	}
	return claim, nil
}

// nonceClaim is a signed request's nonce between the signature check and the
// answer: the context to serve the request with, and, when the request's
// write may record the nonce, what settles it once the request is served.
type nonceClaim struct {
	ctx    context.Context
	settle func() (fresh bool, err error) // nil: settled already
}

// check settles the claim once the request has been served with the result
// err: a replay (or a nonce that could not be recorded) outweighs it.
func (c nonceClaim) check(err error) error {
	if c.settle == nil {
		return err
	}
	if nerr := nonceError(c.settle()); nerr != nil {
		return nerr
	}
	return err
}

// nonceError is the answer to a nonce's use: nil for a fresh one, 244 for a
// replay, 250 when the cache is full.
func nonceError(fresh bool, err error) error {
	switch {
	case errors.Is(err, ErrNoncesFull):
		return errAuth(CodeOverFrequency, "too many signed calls within the sign window")
	case err != nil:
		return err
	case !fresh:
		return errAuth(CodeAuthFailure, "this nonce and timestamp were used already: a replay")
	}
	return nil
}
