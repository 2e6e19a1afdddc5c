package qqbot

import (
	"net/http"
)

// meResponse is the answer of GET /users/@me. botpy does int(id), so the id
// is the bot's numeric app id.
type meResponse struct {
	ID               string `json:"id"`
	Username         string `json:"username"`
	Avatar           string `json:"avatar"`
	UnionOpenID      string `json:"union_openid"`
	UnionUserAccount string `json:"union_user_account"`
}

// getMe serves GET /users/@me: the authenticated bot.
func (s *Server) getMe(w http.ResponseWriter, r *http.Request, b authBot) {
	u, _, err := s.svc.GetRobot(r.Context(), b.bot.UserID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	name := u.DisplayName
	if name == "" {
		name = u.Name
	}
	writeJSON(w, http.StatusOK, meResponse{ID: b.bot.AppID, Username: name, Avatar: u.Portrait})
}
