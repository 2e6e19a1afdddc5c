package client_test

import (
	"context"
	"errors"
	"testing"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/wildfire"
)

func TestResetSecretAndIntents(t *testing.T) {
	ctx := context.Background()
	admin := client.NewAdmin(adminURL, adminSecret)
	creds, err := admin.CreateRobot(ctx, client.Robot{User: client.User{UserID: "cred-bot", Name: "cred-bot"}})
	if err != nil {
		t.Fatal(err)
	}
	robot := client.NewRobot(publicURL, "cred-bot", creds.Secret)
	if _, err := robot.Call(ctx, "/robot/profile", nil, nil); err != nil {
		t.Fatalf("profile with the first secret: %v", err)
	}

	both, err := admin.ResetSecret(ctx, "cred-bot", client.SecretBoth)
	if err != nil || both.RobotID != "cred-bot" || both.Secret == "" || both.Secret == creds.Secret ||
		both.AppSecret == "" || both.AppSecret == creds.AppSecret {
		t.Fatalf("ResetSecret(both) = %+v, %v", both, err)
	}
	var we *client.Error
	if _, err := robot.Call(ctx, "/robot/profile", nil, nil); !errors.As(err, &we) || we.Code != wildfire.CodeAuthFailure {
		t.Errorf("profile with the old secret: %v, want code %d", err, wildfire.CodeAuthFailure)
	}
	if _, err := client.NewRobot(publicURL, "cred-bot", both.Secret).Call(ctx, "/robot/profile", nil, nil); err != nil {
		t.Errorf("profile with the new secret: %v", err)
	}
	app, err := admin.ResetSecret(ctx, "cred-bot", client.SecretApp)
	if err != nil || app.Secret != "" || app.AppSecret == both.AppSecret {
		t.Errorf("ResetSecret(app) = %+v, %v", app, err)
	}
	if _, err := admin.ResetSecret(ctx, "cred-bot", "everything"); !errors.As(err, &we) || we.Code != wildfire.CodeInvalidParameter {
		t.Errorf("ResetSecret(everything): %v, want code %d", err, wildfire.CodeInvalidParameter)
	}

	if got, err := admin.SetIntents(ctx, "cred-bot", 1<<25); err != nil || got != 1<<25 {
		t.Errorf("SetIntents = %d, %v", got, err)
	}
	if r, err := admin.GetRobot(ctx, "cred-bot"); err != nil || r.Intents != 1<<25 || r.AppSecret != app.AppSecret {
		t.Errorf("GetRobot = intents %d, appSecret %q, %v", r.Intents, r.AppSecret, err)
	}
	if _, err := admin.SetIntents(ctx, "cred-bot", 1<<16); !errors.As(err, &we) || we.Code != wildfire.CodeInvalidParameter {
		t.Errorf("SetIntents(1<<16): %v, want code %d", err, wildfire.CodeInvalidParameter)
	}
}
