package qqbot

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/qun-chat/qun/internal/group"
)

// Member page sizes (QQ: limit 1–500).
const (
	// DefaultMemberPage is the page size when limit is absent or 0.
	DefaultMemberPage = 100
	// MaxMemberPage is the largest limit.
	MaxMemberPage = group.MaxMembersPage
)

// membersRequest is the page a members call asks for. start_index is the
// next_index of the previous page (0 for the first): the Pos of the last
// member shown, so pages are read by key, never by offset.
type membersRequest struct {
	Limit      *int64 `json:"limit"`
	StartIndex *int64 `json:"start_index"`
}

// membersResponse is a page of members. next_index is 0 on the last page:
// loop while it is not 0.
type membersResponse struct {
	Members   []memberItem `json:"members"`
	NextIndex int64        `json:"next_index"`
}

type memberItem struct {
	MemberOpenID  string `json:"member_openid"`
	JoinTimestamp int64  `json:"join_timestamp"` // unix seconds
}

// getGroupMembers serves GET /v2/groups/{group_openid}/members?limit=&start_index=.
func (s *Server) getGroupMembers(w http.ResponseWriter, r *http.Request, b authBot) {
	var req membersRequest
	q := r.URL.Query()
	for _, p := range []struct {
		name string
		dst  **int64
	}{{"limit", &req.Limit}, {"start_index", &req.StartIndex}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.writeError(w, r, badRequest(p.name+" is not an integer"))
			return
		}
		*p.dst = &n
	}
	s.groupMembers(w, r, b, req)
}

// postGroupMembers serves POST /v2/groups/{group_openid}/members with
// {"limit":N,"start_index":N} (an empty body means the first page).
func (s *Server) postGroupMembers(w http.ResponseWriter, r *http.Request, b authBot) {
	var req membersRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBody))
	if err != nil {
		s.writeError(w, r, badRequest("body too large"))
		return
	}
	if !isAbsent(body) && (!isObject(body) || json.Unmarshal(body, &req) != nil) {
		s.writeError(w, r, badRequest("body is not {limit, start_index}"))
		return
	}
	s.groupMembers(w, r, b, req)
}

// groupMembers answers one page of a group's active members, as the bot sees them.
func (s *Server) groupMembers(w http.ResponseWriter, r *http.Request, b authBot, req membersRequest) {
	limit, after := int64(DefaultMemberPage), int64(0)
	if req.Limit != nil && *req.Limit != 0 {
		limit = *req.Limit
	}
	if limit < 1 || limit > MaxMemberPage {
		s.writeError(w, r, badRequest(fmt.Sprintf("limit must be 1..%d", MaxMemberPage)))
		return
	}
	if req.StartIndex != nil {
		after = *req.StartIndex
	}
	if after < 0 {
		s.writeError(w, r, badRequest("start_index must not be negative"))
		return
	}
	ctx := r.Context()
	botID := b.bot.UserID
	groupID, err := s.resolve(ctx, botID, group.OpenIDGroup, r.PathValue("group_openid"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ms, next, err := s.svc.MembersPage(ctx, group.Robot(botID), groupID, after, int(limit))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ids := s.newOpenIDs(botID)
	resp := membersResponse{Members: make([]memberItem, 0, len(ms)), NextIndex: next}
	for _, m := range ms {
		resp.Members = append(resp.Members, memberItem{ids.id(group.OpenIDMember, m.UserID), m.JoinedAt.Unix()})
	}
	if err := ids.store(ctx); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}
