package qqbot

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/qun-chat/qun/internal/access"
	"github.com/qun-chat/qun/internal/group"
)

// tokenEntry is a validated access token and its bot, cached in memory.
type tokenEntry struct {
	token   group.AccessToken
	bot     group.Bot
	fetched time.Time
}

// authBot is who a request or gateway connection is authenticated as.
type authBot struct {
	token group.AccessToken
	bot   group.Bot
}

// tokenRequest is the body of POST /app/getAppAccessToken.
type tokenRequest struct {
	AppID        flexString `json:"appId"`
	ClientSecret string     `json:"clientSecret"`
}

// flexString accepts a JSON string or number (some clients send the app id as a number).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexString(n.String())
	return nil
}

// tokenError is the token endpoint's error body. It carries expires_in "0"
// (and no access_token) so that botgo, which parses expires_in before it looks
// at code, reports "code.message" instead of a ParseInt error; botpy still
// fails because access_token is absent.
type tokenError struct {
	errorBody
	ExpiresIn string `json:"expires_in"`
}

// getAppAccessToken serves POST /app/getAppAccessToken: {appId, clientSecret}
// → {"access_token":..., "expires_in":"<remaining seconds>"}. The same token is
// returned until its last DefaultTokenOverlap; then a new one is issued while
// the old one stays valid until it expires. A right secret counts against the
// app's RESTRate; a wrong one against its TokenFailRate (both 429 when spent).
func (s *Server) getAppAccessToken(w http.ResponseWriter, r *http.Request) {
	rec := access.From(w)
	fail := func(ae *apiError) {
		rec.Refuse(strconv.Itoa(ae.Code), ae.reason())
		writeJSON(w, ae.Status, tokenError{errorBody{ae.Message, ae.Code, ae.Code, w.Header().Get(traceHeader)}, "0"})
	}
	var req tokenRequest
	if err := decodeBody(w, r, s.opts.MaxBody, &req); err != nil {
		fail(badRequest("body is not a JSON object with appId and clientSecret"))
		return
	}
	rec.SetCaller(string(req.AppID)) // the app id is public; as claimed until the secret matched
	ctx := r.Context()
	bot, err := s.svc.BotByAppID(ctx, string(req.AppID))
	if req.AppID == "" || group.IsNotExist(err) {
		// Compare anyway so that an unknown app costs what a known one does.
		subtle.ConstantTimeCompare([]byte(req.ClientSecret), []byte(req.ClientSecret))
		fail(errAppInvalid.because("no bot has this appId"))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.now()
	// The app id is public: only a request that knows the secret may spend
	// the app's REST budget. Wrong secrets have a budget of their own.
	if bot.AppSecret == "" || subtle.ConstantTimeCompare([]byte(req.ClientSecret), []byte(bot.AppSecret)) != 1 {
		if !s.tokenFailRate.allow(bot.AppID, now) {
			fail(errRateLimited.because(fmt.Sprintf("over %d wrong clientSecrets per minute", s.opts.TokenFailRate)))
			return
		}
		fail(errAppInvalid.because("clientSecret is not the app's"))
		return
	}
	if !s.restRate.allow(bot.AppID, now) {
		fail(errRateLimited.because(fmt.Sprintf("over %d requests per second", s.opts.RESTRate)))
		return
	}
	tok, err := s.issueToken(ctx, bot.UserID, now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	left := tok.ExpiresAt.Sub(now) / time.Second // whole seconds, never more than is left
	writeJSON(w, http.StatusOK, struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   string `json:"expires_in"`
	}{tok.Token, strconv.FormatInt(int64(left), 10)})
}

// issueToken returns the bot's current token, or a new one when the latest
// is in its overlap period or gone. Returning the current token is a read;
// only a new one is written, and the write checks again that no other
// request has stored one meanwhile.
func (s *Server) issueToken(ctx context.Context, botID string, now time.Time) (group.AccessToken, error) {
	reuseAfter := now.Add(DefaultTokenOverlap)
	t, err := s.store.LatestAccessToken(ctx, botID)
	if err == nil && t.ExpiresAt.After(reuseAfter) {
		return t, nil
	}
	if err != nil && !group.IsNotExist(err) {
		return group.AccessToken{}, err
	}
	fresh := group.AccessToken{Token: newToken(), BotID: botID, ExpiresAt: now.Add(s.opts.TokenTTL), CreatedAt: now}
	return s.store.IssueAccessToken(ctx, fresh, reuseAfter)
}

// newToken returns a fresh random access token: 32 URL-safe characters.
func newToken() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("qqbot: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// parseToken splits a credential: "QQBot {token}", the legacy
// "Bot {appid}.{token}", and (when bare is true, on the gateway) "{token}".
// appID is "" unless the legacy form names one.
func parseToken(cred string, bare bool) (appID, token string, ok bool) {
	cred = strings.TrimSpace(cred)
	if t, found := strings.CutPrefix(cred, "QQBot "); found {
		t = strings.TrimSpace(t)
		return "", t, t != ""
	}
	if t, found := strings.CutPrefix(cred, "Bot "); found {
		app, tok, found := strings.Cut(strings.TrimSpace(t), ".")
		return app, tok, found && app != "" && tok != ""
	}
	if bare && cred != "" && !strings.ContainsAny(cred, " \t") {
		return "", cred, true
	}
	return "", "", false
}

// authenticate resolves a credential to a live token and its bot. rest
// selects the REST forms (no bare token).
func (s *Server) authenticate(ctx context.Context, cred string, rest bool) (authBot, error) {
	appID, tok, ok := parseToken(cred, !rest)
	if !ok {
		if cred == "" {
			return authBot{}, errTokenInvalid.because("no token")
		}
		return authBot{}, errTokenInvalid.because(`the credential is not "QQBot {access_token}"`)
	}
	now := s.now()
	e, cached := s.tokens.get(tok)
	if !cached || now.Sub(e.fetched) > DefaultTokenCache || now.Before(e.fetched) {
		e = tokenEntry{fetched: now}
		var err error
		e.token, err = s.store.AccessToken(ctx, tok)
		if err == nil {
			err = s.store.View(ctx, func(r group.Reader) (err error) {
				e.bot, err = r.Bot(e.token.BotID)
				return err
			})
		}
		if group.IsNotExist(err) {
			s.tokens.remove(tok)
			return authBot{}, errTokenInvalid.because("unknown token")
		}
		if err != nil {
			return authBot{}, err
		}
		s.tokens.put(tok, e)
	}
	if !now.Before(e.token.ExpiresAt) {
		s.tokens.remove(tok)
		return authBot{}, errTokenInvalid.because("the token expired")
	}
	if appID != "" && appID != e.bot.AppID {
		return authBot{}, errTokenInvalid.because("the token is another app's")
	}
	return authBot{token: e.token, bot: e.bot}, nil
}

// decodeBody decodes a JSON request body of at most max bytes into v.
func decodeBody(w http.ResponseWriter, r *http.Request, max int64, v any) error {
	body := http.MaxBytesReader(w, r.Body, max)
	return json.NewDecoder(body).Decode(v)
}

// forgetBot drops the cached tokens of a bot whose appSecret was reset or
// whose intents changed, so that on this node a revoked token is refused and
// an identify is checked against the new intents at once. Other nodes trust
// what they cached for up to DefaultTokenCache.
func (s *Server) forgetBot(c group.BotChange) {
	s.tokens.removeIf(func(_ string, e tokenEntry) bool { return e.bot.UserID == c.BotID })
}
