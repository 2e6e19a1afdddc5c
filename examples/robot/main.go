// Command robot is a Wildfire IM robot that runs a group through qun's
// Robot API, signing its calls with package client: it creates a group (and
// owns it), adds members, greets them and lists who is in it.
//
//	go run ./examples/robot -robot greeter -group robot-team alice bob
//
// The robot's id and secret come from `qun robot create`; -url (QUN_URL)
// is qun's public address. Running it again reuses the group and adds only
// the members it is missing. docs/quickstart.md walks through it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/qun-chat/qun/client"
)

// DefaultURL is qun's public listener as `qun serve` starts it.
const DefaultURL = "http://127.0.0.1:8080"

// DefaultTimeout bounds the whole run.
const DefaultTimeout = 30 * time.Second

// DefaultGroupID is the group the robot runs unless -group names another.
const DefaultGroupID = "robot-team"

// Wildfire codes and values this robot uses.
const (
	codeGroupExists = 11 // group/create: the id is taken
	groupRestricted = 2  // group type: members may only leave; the owner does the rest
	memberOwner     = 2  // member type of the group's owner
)

// config is who the robot is, where qun is and what to do.
type config struct {
	URL     string
	RobotID string
	Secret  string
	GroupID string
	Name    string
	Members []string
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("robot: ")
	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		log.Print(err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// parseConfig reads the flags; the address and the credentials fall back
// to environment variables. The arguments are the members to add.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	cfg := config{URL: DefaultURL, RobotID: getenv("QUN_ROBOT_ID"), Secret: getenv("QUN_ROBOT_SECRET")}
	if v := getenv("QUN_URL"); v != "" {
		cfg.URL = v
	}
	fs := flag.NewFlagSet("robot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: robot [flags] MEMBER...\n\nCreates the group (if it is new), adds the MEMBERs it is missing, greets them.\n\nFlags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.URL, "url", cfg.URL, "qun's public `URL`, where the Robot API is (env QUN_URL)")
	fs.StringVar(&cfg.RobotID, "robot", cfg.RobotID, "the robot's `id` (env QUN_ROBOT_ID)")
	fs.StringVar(&cfg.Secret, "secret", cfg.Secret, "the robot's secret, from qun robot create (env QUN_ROBOT_SECRET; prefer it, ps shows flags)")
	fs.StringVar(&cfg.GroupID, "group", DefaultGroupID, "the group's `id`")
	fs.StringVar(&cfg.Name, "name", "", "the group's name when it is created (default: the id)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.Members = fs.Args()
	if cfg.RobotID == "" || cfg.Secret == "" {
		return cfg, errors.New("give the robot's id and secret: -robot and -secret, or QUN_ROBOT_ID and QUN_ROBOT_SECRET (qun robot create prints them)")
	}
	if cfg.Name == "" {
		cfg.Name = cfg.GroupID
	}
	return cfg, nil
}

// run does the robot's work and prints what it did to out.
func run(ctx context.Context, cfg config, out io.Writer) error {
	robot := client.NewRobot(strings.TrimSuffix(cfg.URL, "/"), cfg.RobotID, cfg.Secret)

	// Who am I? Also checks the id and secret before anything changes.
	var me client.User
	if _, err := robot.Call(ctx, "/robot/profile", nil, &me); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	fmt.Fprintf(out, "signed in as %s (%s)\n", me.UserID, displayName(me))

	// A group the robot owns. A group made by an earlier run is reused.
	gid, err := robot.CreateGroup(ctx, "", client.GroupInfo{TargetID: cfg.GroupID, Name: cfg.Name, Type: groupRestricted}, nil)
	var werr *client.Error
	switch {
	case errors.As(err, &werr) && werr.Code == codeGroupExists:
		gid = cfg.GroupID
		fmt.Fprintf(out, "group %s exists; using it\n", gid)
	case err != nil:
		return fmt.Errorf("create group %s: %w", cfg.GroupID, err)
	default:
		fmt.Fprintf(out, "created group %s\n", gid)
	}

	members, err := robot.Members(ctx, "", gid)
	if err != nil {
		return fmt.Errorf("members of %s: %w", gid, err)
	}
	if !slices.ContainsFunc(members, func(m client.Member) bool { return m.MemberID == me.UserID }) {
		return fmt.Errorf("group %s is someone else's and the robot is not in it: choose another -group", gid)
	}
	var missing []client.Member
	for _, id := range cfg.Members {
		in := slices.ContainsFunc(members, func(m client.Member) bool { return m.MemberID == id })
		if !in && !slices.ContainsFunc(missing, func(m client.Member) bool { return m.MemberID == id }) {
			missing = append(missing, client.Member{MemberID: id})
		}
	}
	if len(missing) > 0 {
		if err := robot.AddMembers(ctx, "", gid, missing); err != nil {
			return fmt.Errorf("add members to %s: %w", gid, err)
		}
		for _, m := range missing {
			fmt.Fprintf(out, "added %s\n", m.MemberID)
		}
	}

	greeting := fmt.Sprintf("Hello! I am %s, and I run this group.", displayName(me))
	if len(cfg.Members) > 0 {
		// Mentioning the members notifies them, as a Wildfire client shows it.
		greeting = fmt.Sprintf("Hello %s! I am %s, and I run this group.", strings.Join(cfg.Members, ", "), displayName(me))
	}
	sent, err := robot.SendMessage(ctx, "", gid, client.Text(greeting).Mention(cfg.Members...))
	if err != nil {
		return fmt.Errorf("send to %s: %w", gid, err)
	}
	fmt.Fprintf(out, "sent message %d: %s\n", sent.MessageUID, greeting)

	if members, err = robot.Members(ctx, "", gid); err != nil {
		return fmt.Errorf("members of %s: %w", gid, err)
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.MemberID
		if m.Type == memberOwner {
			ids[i] += " (owner)"
		}
	}
	fmt.Fprintf(out, "members of %s: %s\n", gid, strings.Join(ids, ", "))
	return nil
}

// displayName is the name a group shows for u.
func displayName(u client.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Name
}
