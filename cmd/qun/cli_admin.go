package main

// The client commands that call the Admin API: call, user, robot, group and
// send. Each prints the call's result as JSON (nothing when it has none).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app"
	"github.com/qun-chat/qun/internal/group"
)

// DefaultGroupType is the type qun group create gives a group: restricted
// (members may only quit; the owner does everything), as Wildfire's apps
// create groups.
const DefaultGroupType = 2

func init() {
	cliCommands = []cliCommand{
		callCommand,
		{
			name: "user create", synopsis: "--name NAME [flags]",
			summary: "create a user, or replace the profile of an existing one",
			details: "Prints {\"userId\": ...}. Without --id qun generates the id.",
			examples: []string{
				"qun user create --id alice --name alice --display-name Alice",
			},
			setup: userCreate,
		},
		{
			name: "user get", synopsis: "USER",
			summary:  "print a user",
			examples: []string{"qun user get alice"},
			setup: func(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
				return r.adminCall(1, 1, "USER", func(ctx context.Context, c *client.Client, args []string) (any, error) {
					return c.GetUser(ctx, args[0])
				})
			},
		},
		{
			name: "robot create", synopsis: "--name NAME [flags]",
			summary: "create a robot (a bot), or update one; prints its secrets",
			details: "Prints {\"userId\", \"secret\", \"appId\", \"appSecret\"}: the robot's id and Robot API\n" +
				"secret, and the appId and appSecret that QQ bot SDKs (botgo, botpy) log in with.\n" +
				"Without --secret an existing robot keeps its secret and a new one gets a generated one.",
			examples: []string{
				"qun robot create --id echo --name echo --display-name Echo --owner alice",
				"qun robot create --name echo | jq -r .appSecret",
			},
			setup: robotCreate,
		},
		{
			name: "robot get", synopsis: "ROBOT",
			summary:  "print a robot with its secrets, appId, appSecret and ice-breaker",
			examples: []string{"qun robot get echo"},
			setup: func(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
				return r.adminCall(1, 1, "ROBOT", func(ctx context.Context, c *client.Client, args []string) (any, error) {
					return c.GetRobot(ctx, args[0])
				})
			},
		},
		{
			name: "robot ice-breaker", synopsis: "ROBOT TEXT... | --off ROBOT",
			summary: "set the text a robot posts into every group it joins from now on",
			examples: []string{
				`qun robot ice-breaker echo "Hi, I am Echo. Mention me and I answer."`,
				"qun robot ice-breaker --off echo",
			},
			setup: robotIceBreaker,
		},
		{
			name: "robot reset-secret", synopsis: "ROBOT --which robot|app|both",
			summary: "give a robot a new robot secret, appSecret or both; prints the new ones",
			details: "Prints {robotId, secret?, appSecret?}: only the secrets renewed. The old secret stops\n" +
				"working at once; a new appSecret also revokes every access token issued with the old one,\n" +
				"so the bot's SDK must log in again with the new appSecret.",
			examples: []string{
				"qun robot reset-secret echo --which app",
				"qun robot reset-secret echo --which robot | jq -r .secret",
			},
			setup: robotResetSecret,
		},
		{
			name: "robot intents", synopsis: "ROBOT INTENTS",
			summary: "set the intents a bot may ask for on the QQ gateway; prints {robotId, intents}",
			details: "INTENTS is a number, or intent names and numbers joined with commas (they are ORed):\n" +
				"GROUP_AND_C2C_EVENT is 1<<25 = 33554432. 0 is qun's default set (GUILDS,\n" +
				"GUILD_MEMBERS, GROUP_AND_C2C_EVENT, PUBLIC_GUILD_MESSAGES). A gateway identify asking\n" +
				"for more is closed with 4014; connections identified before keep theirs until they\n" +
				"reconnect. Names: " + intentNames() + ".",
			examples: []string{
				"qun robot intents echo GROUP_AND_C2C_EVENT",
				"qun robot intents echo GUILDS,GROUP_AND_C2C_EVENT",
				"qun robot intents echo 0",
			},
			setup: robotIntents,
		},
		{
			name: "robot webhook", synopsis: "ROBOT URL [--intents N] | --off ROBOT",
			summary: "send a bot's events to its QQ webhook (validated with op 13 first); prints {url, intents, validated}",
			details: "qun POSTs each of the bot's events that --intents allows to URL, signed with\n" +
				"Ed25519 as the QQ platform signs them, in order and retried until delivered. Before\n" +
				"URL is set qun sends it an op 13 validation request; a receiver that does not answer\n" +
				"it correctly is refused (exit 1, the reason on standard error). --off stops it.",
			examples: []string{
				"qun robot webhook echo http://127.0.0.1:9000/qqbot",
				"qun robot webhook echo https://bot.example.com/qqbot --intents 33554432",
				"qun robot webhook --off echo",
			},
			setup: robotWebhook,
		},
		{
			name: "robot deliveries", synopsis: "ROBOT [--limit N]",
			summary: "print a robot's webhook and callback progress and its newest delivery attempts",
			details: "Prints {webhook, callback, attempts, drops}: each stream's URL, the last event seq\n" +
				"delivered, how many are pending, the last error and when the next attempt is due;\n" +
				"then the newest attempts and the newest records of events given up on, newest first.",
			examples: []string{
				"qun robot deliveries echo",
				"qun robot deliveries echo --limit 5 | jq '.attempts[] | [.t, .status, .error]'",
			},
			setup: func(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
				limit := fs.Int("limit", 0, "attempts to show, 1-100; 0: qun's default, 20")
				return r.adminCall(1, 1, "ROBOT", func(ctx context.Context, c *client.Client, args []string) (any, error) {
					return c.Deliveries(ctx, args[0], *limit)
				})
			},
		},
		{
			name: "robot redeliver", synopsis: "ROBOT --from SEQ [--stream webhook|callback]",
			summary: "send a robot's webhook or callback again, from an event seq on",
			details: "SEQ is an event seq of the bot's log, as robot deliveries shows delivered_seq\n" +
				"(a webhook frame's s is one more). Without --stream every stream that is on is sent again.",
			examples: []string{
				"qun robot redeliver echo --from 1",
				"qun robot redeliver echo --from 42 --stream webhook",
			},
			setup: robotRedeliver,
		},
		{
			name: "robot sessions", synopsis: "ROBOT [--limit N]",
			summary: "print a robot's gateway sessions on every node: live, node, shard, last seq",
			details: "Prints [{session_id, shard, intents, live, node, connected_at, updated_at, last_seq}],\n" +
				"the last updated first, read from the store. A session is live while its connection\n" +
				"sends heartbeats; last_seq is the s of the last event it was sent, as of its last write.",
			examples: []string{
				"qun robot sessions echo",
				"qun robot sessions echo | jq '.[] | select(.live) | [.node, .shard, .last_seq]'",
			},
			setup: func(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
				limit := fs.Int("limit", 0, "sessions to show, 1-100; 0: qun's default, 20")
				return r.adminCall(1, 1, "ROBOT", func(ctx context.Context, c *client.Client, args []string) (any, error) {
					return c.Sessions(ctx, args[0], *limit)
				})
			},
		},
		{
			name: "group create", synopsis: "--name NAME (--owner USER | --operator USER) [flags] [MEMBER...]",
			summary: "create a group with members; prints {\"group_id\": ...}",
			details: "With --owner the server creates the group for that owner; with --operator the\n" +
				"operator creates it (with a user's rights) and owns it. Without --id qun generates the id.",
			examples: []string{
				"qun group create --name team --owner alice echo bob",
				"qun group create --id team --name team --type 0 --operator alice echo",
			},
			setup: groupCreate,
		},
		{
			name: "group get", synopsis: "GROUP",
			summary:  "print a group's profile and settings",
			examples: []string{"qun group get team"},
			setup: func(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
				return r.adminCall(1, 1, "GROUP", func(ctx context.Context, c *client.Client, args []string) (any, error) {
					return c.GetGroup(ctx, args[0])
				})
			},
		},
		{
			name: "group members", synopsis: "GROUP",
			summary:  "print a group's members (type 0 normal, 1 manager, 2 owner, 3 silent, 5 allowed)",
			examples: []string{"qun group members team", "qun group members team | jq -r '.[].member_id'"},
			setup: func(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
				op := operatorFlag(fs)
				return r.adminCall(1, 1, "GROUP", func(ctx context.Context, c *client.Client, args []string) (any, error) {
					return c.Members(ctx, *op, args[0])
				})
			},
		},
		{
			name: "group add", synopsis: "GROUP MEMBER...",
			summary:  "add members to a group (a robot added gets GROUP_ADD_ROBOT)",
			examples: []string{"qun group add team carol dave", "qun group add --operator alice team carol"},
			setup: func(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
				op := operatorFlag(fs)
				return r.adminCall(2, -1, "GROUP MEMBER...", func(ctx context.Context, c *client.Client, args []string) (any, error) {
					ms := make([]client.Member, len(args)-1)
					for i, id := range args[1:] {
						ms[i] = client.Member{MemberID: id}
					}
					return nil, c.AddMembers(ctx, *op, args[0], ms)
				})
			},
		},
		{
			name: "group kick", synopsis: "GROUP MEMBER...",
			summary:  "remove members from a group",
			examples: []string{"qun group kick team dave", "qun group kick --operator alice team carol"},
			setup: func(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
				op := operatorFlag(fs)
				return r.adminCall(2, -1, "GROUP MEMBER...", func(ctx context.Context, c *client.Client, args []string) (any, error) {
					return nil, c.KickMembers(ctx, *op, args[0], args[1:])
				})
			},
		},
		{
			name: "send", synopsis: "--from USER --group GROUP [--mention BOT]... TEXT...",
			summary: "send a text message to a group as a user; prints {\"messageUid\", \"timestamp\"}",
			details: "The words of TEXT are joined with spaces. A mentioned bot gets the message as\n" +
				"GROUP_AT_MESSAGE_CREATE, with a leading \"@<its display name>\" removed from the content.",
			examples: []string{
				`qun send --from alice --group team --mention echo "@Echo ping"`,
				"qun send --from alice --group team good morning",
			},
			setup: send,
		},
		timelineCommand,
		helpCommand,
		completionCommand,
	}
}

// adminCall returns an action that checks the positional arguments, calls
// the Admin API with f and prints f's result unless it is nil.
func (r *cliRun) adminCall(min, max int, what string, f func(context.Context, *client.Client, []string) (any, error)) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		if err := r.args(args, min, max, what); err != nil {
			return err
		}
		c, err := r.admin()
		if err != nil {
			return err
		}
		ctx, cancel := r.callContext(ctx)
		defer cancel()
		res, err := f(ctx, c, args)
		if err != nil || res == nil {
			return err
		}
		return r.printJSON(res)
	}
}

// operatorFlag defines --operator: the user whose rights a group call uses.
func operatorFlag(fs *flag.FlagSet) *string {
	return fs.String("operator", "", "act as this user, with the user's rights in the group; empty: as the server, with full rights")
}

// callCommand is qun call: any Admin (or Robot) API call, its body as JSON.
var callCommand = cliCommand{
	name: "call", synopsis: "[flags] PATH [JSON|-]",
	summary: "send any Admin API call (with --robot, a Robot API call) and print its result",
	details: "PATH is a route such as /admin/group/get_info; the /admin/ prefix (/robot/ with\n" +
		"--robot) may be left out. JSON is the body, {} when absent; - reads it from standard\n" +
		"input. The result is printed as JSON. A call answered with a code other than 0 prints\n" +
		"the code and message on standard error and exits with status 1.\n" +
		"With --robot the call is signed with the robot's id and secret and goes to the public\n" +
		"address (--addr); prefer QUN_ROBOT_SECRET to --secret, which other users can see in ps.",
	examples: []string{
		`qun call user/get_info '{"userId":"alice"}'`,
		`echo '{"group_id":"team","limit":10}' | qun call /admin/group/messages -`,
		`QUN_ROBOT_SECRET=... qun call --robot echo profile`,
		`qun call --robot echo --secret "$SECRET" group/member/list '{"group_id":"team"}'`,
	},
	setup: func(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
		robot := fs.String("robot", "", "sign as this robot: a Robot API call to --addr")
		var secret, addr string
		r.envString(fs, &secret, "secret", "QUN_ROBOT_SECRET", "", "the robot's `secret`, with --robot")
		r.envString(fs, &addr, "addr", "QUN_ADDR", app.DefaultAddr, "public `address` of qun serve (the Robot API), with --robot")
		return func(ctx context.Context, args []string) error {
			if err := r.args(args, 1, 2, "PATH [JSON|-]"); err != nil {
				return err
			}
			body := []byte("{}")
			if len(args) == 2 {
				body = []byte(args[1])
			}
			if len(args) == 2 && args[1] == "-" {
				var err error
				if body, err = io.ReadAll(r.stdin); err != nil {
					return fmt.Errorf("read the body: %w", err)
				}
			}
			if !json.Valid(body) {
				return usagef("the body is not JSON: %q (quote it for the shell: '{\"userId\":\"alice\"}')", body)
			}
			door := "admin"
			var c *client.Client
			if *robot != "" {
				if secret == "" {
					return usagef("--robot needs the robot's secret: --secret or QUN_ROBOT_SECRET")
				}
				base, err := baseURL(addr)
				if err != nil {
					return usagef("addr: %v", err)
				}
				door, c = "robot", client.NewRobot(base, *robot, secret)
				r.addr, r.addrFlag, r.robotID = addr, "--addr, QUN_ADDR", *robot
			} else {
				var err error
				if c, err = r.admin(); err != nil {
					return err
				}
			}
			ctx, cancel := r.callContext(ctx)
			defer cancel()
			res, err := c.CallRaw(ctx, callPath(args[0], door), body)
			if err != nil || len(res) == 0 || string(res) == "null" {
				return err
			}
			var out bytes.Buffer
			if err := json.Indent(&out, res, "", "  "); err != nil {
				return fmt.Errorf("the result is not JSON: %w", err)
			}
			_, err = fmt.Fprintf(r.stdout, "%s\n", out.Bytes())
			return err
		}
	},
}

// callPath completes a route given without its door's prefix. Only the
// door's own prefix counts as given: the Admin API has routes under
// /admin/robot/, so robot/reset_secret is /admin/robot/reset_secret.
func callPath(p, door string) string {
	p = strings.TrimPrefix(p, "/")
	if !strings.HasPrefix(p, door+"/") {
		p = door + "/" + p
	}
	return "/" + p
}

// userFlags defines the profile flags user create and robot create share.
func userFlags(fs *flag.FlagSet, u *client.User, what string) {
	fs.StringVar(&u.UserID, "id", "", "the "+what+"'s id; empty: generated")
	fs.StringVar(&u.Name, "name", "", "the "+what+"'s name (required)")
	fs.StringVar(&u.DisplayName, "display-name", "", "the name shown in groups")
	fs.StringVar(&u.Portrait, "portrait", "", "the avatar's URL")
	fs.StringVar(&u.Extra, "extra", "", "free text the operator keeps with the "+what)
}

func userCreate(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
	var u client.User
	userFlags(fs, &u, "user")
	return r.adminCall(0, 0, "no arguments", func(ctx context.Context, c *client.Client, _ []string) (any, error) {
		if u.Name == "" {
			return nil, usagef("--name is required")
		}
		id, err := c.CreateUser(ctx, u)
		if err != nil {
			return nil, err
		}
		return map[string]string{"userId": id}, nil
	})
}

func robotCreate(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
	var b client.Robot
	userFlags(fs, &b.User, "robot")
	fs.StringVar(&b.Owner, "owner", "", "the user who owns the robot")
	fs.StringVar(&b.Secret, "secret", "", "the robot's Robot API secret; empty: kept, or generated")
	fs.StringVar(&b.Callback, "callback", "", "the robot's Wildfire callback URL")
	return r.adminCall(0, 0, "no arguments", func(ctx context.Context, c *client.Client, _ []string) (any, error) {
		if b.Name == "" {
			return nil, usagef("--name is required")
		}
		return c.CreateRobot(ctx, b)
	})
}

func robotIceBreaker(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
	off := fs.Bool("off", false, "turn the ice-breaker off")
	return r.adminCall(1, -1, "ROBOT TEXT...", func(ctx context.Context, c *client.Client, args []string) (any, error) {
		if *off {
			if len(args) > 1 {
				return nil, usagef("--off takes no TEXT")
			}
			return nil, c.SetIceBreaker(ctx, args[0], client.IceBreaker{})
		}
		if len(args) < 2 {
			return nil, usagef("want ROBOT TEXT..., or --off ROBOT")
		}
		p := client.Text(strings.Join(args[1:], " "))
		return nil, c.SetIceBreaker(ctx, args[0], client.IceBreaker{Enabled: true, Payload: &p})
	})
}

func robotResetSecret(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
	which := fs.String("which", "", "the secret to renew: robot (the Robot API secret), app (the QQ appSecret) or both")
	return r.adminCall(1, 1, "ROBOT", func(ctx context.Context, c *client.Client, args []string) (any, error) {
		switch *which {
		case client.SecretRobot, client.SecretApp, client.SecretBoth:
		default:
			return nil, usagef("--which is robot, app or both")
		}
		// NewSecrets prints only the secrets renewed, as the Admin API
		// answers: a "secret": "" would read as the robot secret cleared.
		return c.ResetSecret(ctx, args[0], *which)
	})
}

func robotIntents(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
	return r.adminCall(2, 2, "ROBOT INTENTS", func(ctx context.Context, c *client.Client, args []string) (any, error) {
		intents, err := parseIntents(args[1])
		if err != nil {
			return nil, err
		}
		stored, err := c.SetIntents(ctx, args[0], intents)
		if err != nil {
			return nil, err
		}
		return struct {
			RobotID string `json:"robotId"`
			Intents int64  `json:"intents"`
		}{args[0], stored}, nil
	})
}

// parseIntents reads intent names (group.Intents) and numbers joined with
// commas and ORs them. Whether the bits name intents is the server's to say.
func parseIntents(s string) (int64, error) {
	var out int64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if n, err := strconv.ParseInt(part, 0, 64); err == nil {
			out |= n
			continue
		}
		i := slices.IndexFunc(group.Intents, func(in group.Intent) bool { return strings.EqualFold(in.Name, part) })
		if i < 0 {
			return 0, usagef("%q is neither a number nor an intent name (qun help robot intents lists them)", part)
		}
		out |= 1 << group.Intents[i].Bit
	}
	return out, nil
}

// intentNames lists the intents parseIntents knows.
func intentNames() string {
	names := make([]string, len(group.Intents))
	for i, in := range group.Intents {
		names[i] = in.Name
	}
	return strings.Join(names, ", ")
}

func groupCreate(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
	var g client.GroupInfo
	fs.StringVar(&g.TargetID, "id", "", "the group's id; empty: generated")
	fs.StringVar(&g.Name, "name", "", "the group's name (required)")
	fs.StringVar(&g.Owner, "owner", "", "the group's owner, when the server creates it")
	fs.IntVar(&g.Type, "type", DefaultGroupType, "0 normal, 1 free, 2 restricted, 3 organisation (--owner only)")
	op := operatorFlag(fs)
	return r.adminCall(0, -1, "MEMBER...", func(ctx context.Context, c *client.Client, args []string) (any, error) {
		if g.Name == "" {
			return nil, usagef("--name is required")
		}
		if (g.Owner == "") == (*op == "") {
			return nil, usagef("give either --owner (the server creates the group for that owner) or --operator (that user creates it)")
		}
		ms := make([]client.Member, len(args))
		for i, id := range args {
			ms[i] = client.Member{MemberID: id}
		}
		id, err := c.CreateGroup(ctx, *op, g, ms)
		if err != nil {
			return nil, err
		}
		return map[string]string{"group_id": id}, nil
	})
}

func send(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
	from := fs.String("from", "", "the sender, a user in the group (required)")
	gid := fs.String("group", "", "the group (required)")
	var mentions []string
	fs.Func("mention", "mention this user or bot (repeatable)", func(v string) error {
		mentions = append(mentions, v)
		return nil
	})
	return r.adminCall(1, -1, "TEXT...", func(ctx context.Context, c *client.Client, args []string) (any, error) {
		if *from == "" || *gid == "" {
			return nil, usagef("--from and --group are required")
		}
		return c.SendMessage(ctx, *from, *gid, client.Text(strings.Join(args, " ")).Mention(mentions...))
	})
}

func robotWebhook(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
	off := fs.Bool("off", false, "turn the webhook off")
	intents := fs.Int64("intents", 0, "the events to send, QQ intent bits; 0: every group event (1<<25)")
	return r.adminCall(1, 2, "ROBOT URL", func(ctx context.Context, c *client.Client, args []string) (any, error) {
		switch {
		case *off && len(args) > 1:
			return nil, usagef("--off takes no URL")
		case !*off && len(args) < 2:
			return nil, usagef("want ROBOT URL, or --off ROBOT")
		case *intents < 0:
			return nil, usagef("--intents %d is negative", *intents)
		}
		url := ""
		if !*off {
			url = args[1]
		}
		return c.SetWebhook(ctx, args[0], url, *intents)
	})
}

func robotRedeliver(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
	// A Func, not an Int64 with -1 for "not given": -h would show that -1 as
	// the default of a required flag.
	from := int64(-1)
	fs.Func("from", "the first event `seq` to send again (required)", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errors.New("parse error")
		}
		from = n
		return nil
	})
	stream := fs.String("stream", "", "webhook or callback; empty: every stream that is on")
	return r.adminCall(1, 1, "ROBOT", func(ctx context.Context, c *client.Client, args []string) (any, error) {
		switch {
		case from < 0:
			return nil, usagef("--from SEQ is required (0 or more)")
		case *stream != "" && *stream != client.StreamWebhook && *stream != client.StreamCallback:
			return nil, usagef("--stream %q: want webhook or callback", *stream)
		}
		return nil, c.Redeliver(ctx, args[0], *stream, from)
	})
}
