package group

import (
	"context"
	"time"
)

// User types.
const (
	UserNormal = 0
	UserRobot  = 1
)

// User is a person or a robot. A robot is a user with Type UserRobot and a Bot record.
type User struct {
	ID          string
	Name        string
	Password    string
	DisplayName string
	Portrait    string
	Gender      int
	Mobile      string
	Email       string
	Address     string
	Company     string
	Social      string
	Extra       string
	Type        int
	UpdatedAt   time.Time
}

// Bot is a robot user's credentials and settings for both bot doors.
type Bot struct {
	UserID     string
	Owner      string
	Secret     string // Wildfire robot secret: signs Robot API calls
	Callback   string
	RobotExtra string
	AppID      string // QQ Bot Open Platform app id: a numeric string
	AppSecret  string // QQ clientSecret
	Intents    int64  // intents the bot may ask for on the gateway; 0 means the default set
	IceBreaker IceBreaker
	UpdatedAt  time.Time
}

// IceBreaker is the message a bot posts, as itself, into every group it joins.
type IceBreaker struct {
	Enabled bool
	Payload Payload
}

// PutUser creates a user, or updates the profile of an existing one (its type
// is kept). An empty ID is generated. It returns the stored user.
func (s *Service) PutUser(ctx context.Context, u User) (User, error) {
	if err := checkUser(u); err != nil {
		return User{}, err
	}
	if u.ID != "" {
		if err := checkID("userId", u.ID); err != nil {
			return User{}, err
		}
	}
	err := s.update(ctx, func(tx Tx, now time.Time) error {
		if u.ID == "" {
			u.ID = s.cfg.NewID()
		}
		old, err := tx.User(u.ID)
		switch {
		case err == nil:
			u.Type = old.Type
		case IsNotExist(err):
			u.Type = UserNormal
		default:
			return err
		}
		u.UpdatedAt = now
		return tx.PutUser(u)
	})
	return u, err
}

// UserQuery finds a user by the first non-empty of its fields, in this order.
type UserQuery struct {
	UserID string
	Name   string
	Mobile string
}

// FindUser returns the user a query names.
func (s *Service) FindUser(ctx context.Context, q UserQuery) (User, error) {
	if err := checkText("userId, name and mobile", q.UserID, q.Name, q.Mobile); err != nil {
		return User{}, err
	}
	var u User
	err := s.view(ctx, func(r Reader) (err error) {
		switch {
		case q.UserID != "":
			u, err = r.User(q.UserID)
		case q.Name != "":
			u, err = r.UserByName(q.Name)
		case q.Mobile != "":
			u, err = r.UserByMobile(q.Mobile)
		default:
			err = Errorf(EInvalidParam, "userId, name and mobile are all empty")
		}
		return err
	})
	return u, err
}

// Profile fields a robot updates with update_profile (Wildfire MyInfoType).
const (
	ProfileDisplayName = 0
	ProfilePortrait    = 1
	ProfileGender      = 2
	ProfileMobile      = 3 // ignored, as in Wildfire: the Admin API sets it
	ProfileEmail       = 4
	ProfileAddress     = 5
	ProfileCompany     = 6
	ProfileSocial      = 7
	ProfileExtra       = 8
)

// UpdateProfile sets one profile field of a user. Unknown fields and the
// mobile are accepted and ignored, as in Wildfire.
func (s *Service) UpdateProfile(ctx context.Context, userID string, field int, value string) error {
	if err := checkText("value", userID, value); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, now time.Time) error {
		u, err := tx.User(userID)
		if err != nil {
			return err
		}
		switch field {
		case ProfileDisplayName:
			u.DisplayName = value
		case ProfilePortrait:
			u.Portrait = value
		case ProfileGender:
			g, err := parseRange(value, -1<<31, 1<<31-1)
			if err != nil {
				return err
			}
			u.Gender = g
		case ProfileEmail:
			u.Email = value
		case ProfileAddress:
			u.Address = value
		case ProfileCompany:
			u.Company = value
		case ProfileSocial:
			u.Social = value
		case ProfileExtra:
			u.Extra = value
		default:
			return nil
		}
		u.UpdatedAt = now
		return tx.PutUser(u)
	})
}
