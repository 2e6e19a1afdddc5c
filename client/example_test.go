package client_test

import (
	"context"
	"fmt"
	"log"

	"github.com/qun-chat/qun/client"
)

// Example sets up a bot from scratch: a user, a robot, a group with both, a
// message mentioning the robot, the robot's answer, and the group's timeline.
// adminURL is qun serve's --admin-addr (http://127.0.0.1:18080 by default)
// and adminSecret the secret it generated (kept in qun-data/admin-secret);
// publicURL is its --addr (http://127.0.0.1:8080).
func Example() {
	ctx := context.Background()
	admin := client.NewAdmin(adminURL, adminSecret)

	if _, err := admin.CreateUser(ctx, client.User{UserID: "alice", Name: "alice", DisplayName: "Alice"}); err != nil {
		log.Fatal(err)
	}
	bot, err := admin.CreateRobot(ctx, client.Robot{User: client.User{UserID: "echo", Name: "echo", DisplayName: "Echo"}, Owner: "alice"})
	if err != nil {
		log.Fatal(err)
	}
	// bot.AppID and bot.AppSecret log a QQ bot SDK (botgo, botpy) in; the
	// robot's secret signs Robot API calls.
	gid, err := admin.CreateGroup(ctx, "", client.GroupInfo{Name: "team", Owner: "alice", Type: 2}, []client.Member{{MemberID: "echo"}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := admin.SendMessage(ctx, "alice", gid, client.Text("@Echo ping").Mention("echo")); err != nil {
		log.Fatal(err)
	}
	robot := client.NewRobot(publicURL, bot.UserID, bot.Secret)
	if _, err := robot.SendMessage(ctx, "", gid, client.Text("pong")); err != nil {
		log.Fatal(err)
	}

	page, err := admin.Messages(ctx, client.TimelineQuery{GroupID: gid})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range page.Messages {
		if m.Payload.Type == client.TextMessage {
			fmt.Printf("%s: %s\n", m.Sender, m.Payload.SearchableContent)
		}
	}
	// Output:
	// alice: @Echo ping
	// echo: pong
}

func ExampleSign() {
	// The sign header of a call signed with secret 123456, nonce 76616 and
	// timestamp 1558350862502 (Wildfire's documented example).
	fmt.Println(client.Sign("76616", "123456", "1558350862502"))
	// Output: b98f9b0717f59febccf1440067a7f50d9b31bdde
}
