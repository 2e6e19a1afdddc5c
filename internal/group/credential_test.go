package group_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/qun-chat/qun/internal/group"
)

// tokenStore is the part of the stores' door state the reset revokes.
type tokenStore interface {
	IssueAccessToken(ctx context.Context, t group.AccessToken, reuseAfter time.Time) (group.AccessToken, error)
	AccessToken(ctx context.Context, token string) (group.AccessToken, error)
}

func TestResetSecrets(t *testing.T) {
	tests := []struct {
		name  string
		bot   string
		which group.Secrets
		want  group.Code
		robot bool // the robot secret changes
		app   bool // the appSecret changes and the tokens are revoked
	}{
		{"robot", botOut, group.RobotSecret, ok, true, false},
		{"app", botOut, group.AppSecret, ok, false, true},
		{"both", botOut, group.BothSecrets, ok, true, true},
		{"none", botOut, 0, group.EInvalidParam, false, false},
		{"unknown-kind", botOut, 4, group.EInvalidParam, false, false},
		{"not-a-robot", mem, group.BothSecrets, group.ENotExist, false, false},
		{"empty-id", "", group.RobotSecret, group.EInvalidParam, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, group.Config{})
			var changes []group.BotChange
			e.svc.WatchBots(func(c group.BotChange) { changes = append(changes, c) })
			ts := e.store.(tokenStore)
			tok := group.AccessToken{Token: "tok-" + tt.name, BotID: botOut, ExpiresAt: t0.Add(time.Hour), CreatedAt: t0}
			if _, err := ts.IssueAccessToken(t.Context(), tok, t0); err != nil {
				t.Fatal(err)
			}
			_, before, err := e.svc.GetRobot(t.Context(), botOut)
			if err != nil {
				t.Fatal(err)
			}
			e.clk.Advance(time.Second)

			got, err := e.svc.ResetSecrets(t.Context(), tt.bot, tt.which)
			checkCode(t, err, tt.want)
			_, after, err := e.svc.GetRobot(t.Context(), botOut)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == ok {
				if !cmp.Equal(got, after) {
					t.Errorf("ResetSecrets returned %+v, stored %+v", got, after)
				}
				if !after.UpdatedAt.Equal(t0.Add(time.Second)) {
					t.Errorf("UpdatedAt %v, want the reset's time", after.UpdatedAt)
				}
				if len(changes) != 1 || changes[0] != (group.BotChange{BotID: tt.bot, Secrets: tt.which}) {
					t.Errorf("watchers were told %+v", changes)
				}
			} else if len(changes) != 0 || !cmp.Equal(after, before) {
				t.Errorf("a refused reset changed the bot to %+v or told %+v", after, changes)
			}
			if changed := after.Secret != before.Secret; changed != tt.robot {
				t.Errorf("robot secret changed: %v, want %v", changed, tt.robot)
			}
			if changed := after.AppSecret != before.AppSecret; changed != tt.app {
				t.Errorf("appSecret changed: %v, want %v", changed, tt.app)
			}
			if tt.robot && len(after.Secret) != 32 || tt.app && len(after.AppSecret) != 32 {
				t.Errorf("new secrets %q, %q: want 32 characters", after.Secret, after.AppSecret)
			}
			if after.AppID != before.AppID || after.Intents != before.Intents {
				t.Errorf("reset changed appId or intents: %+v", after)
			}
			_, err = ts.AccessToken(t.Context(), tok.Token)
			if revoked := group.IsNotExist(err); revoked != tt.app {
				t.Errorf("token revoked: %v (%v), want %v", revoked, err, tt.app)
			}
		})
	}
}

func TestSetIntents(t *testing.T) {
	tests := []struct {
		name    string
		bot     string
		intents int64
		want    group.Code
		allowed int64 // AllowedIntents after the call
	}{
		{"group-events", botOut, 1 << 25, ok, 1 << 25},
		{"default", botOut, 0, ok, group.DefaultIntents},
		{"every-known", botOut, group.KnownIntents, ok, group.KnownIntents},
		{"unknown-bit", botOut, 1 << 16, group.EInvalidParam, group.DefaultIntents},
		{"bit-31", botOut, 1 << 31, group.EInvalidParam, group.DefaultIntents},
		{"negative", botOut, -1, group.EInvalidParam, group.DefaultIntents},
		{"not-a-robot", mem, 1 << 25, group.ENotExist, group.DefaultIntents},
		{"empty-id", "", 1 << 25, group.EInvalidParam, group.DefaultIntents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, group.Config{})
			var changes []group.BotChange
			e.svc.WatchBots(func(c group.BotChange) { changes = append(changes, c) })
			got, err := e.svc.SetIntents(t.Context(), tt.bot, tt.intents)
			checkCode(t, err, tt.want)
			_, after, err := e.svc.GetRobot(t.Context(), botOut)
			if err != nil {
				t.Fatal(err)
			}
			if a := after.AllowedIntents(); a != tt.allowed {
				t.Errorf("AllowedIntents = %#x, want %#x", a, tt.allowed)
			}
			if tt.want != ok {
				if len(changes) != 0 {
					t.Errorf("a refused change told %+v", changes)
				}
				return
			}
			if !cmp.Equal(got, after) || after.Intents != tt.intents {
				t.Errorf("SetIntents returned %+v, stored %+v, want intents %#x", got, after, tt.intents)
			}
			if len(changes) != 1 || changes[0] != (group.BotChange{BotID: tt.bot, Intents: true}) {
				t.Errorf("watchers were told %+v", changes)
			}
		})
	}
}

// The catalogue and the mask say the same.
func TestIntentsCatalogue(t *testing.T) {
	var mask int64
	for i, in := range group.Intents {
		if i > 0 && in.Bit <= group.Intents[i-1].Bit {
			t.Errorf("%s: bits out of order", in.Name)
		}
		mask |= 1 << in.Bit
	}
	if mask != group.KnownIntents {
		t.Errorf("catalogue mask %#x, KnownIntents %#x", mask, group.KnownIntents)
	}
	if group.DefaultIntents&^group.KnownIntents != 0 {
		t.Errorf("DefaultIntents %#x has unknown bits", group.DefaultIntents)
	}
}
