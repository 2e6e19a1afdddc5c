package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/qun-chat/qun/client"
)

// DefaultFollowInterval is how long qun timeline --follow waits after
// reading everything before it asks again: one small signed read per second
// per follower, for a delay a person does not notice.
const DefaultFollowInterval = time.Second

// timelinePage is how many messages one read asks for: the Admin API's largest page.
const timelinePage = 500

var timelineCommand = cliCommand{
	name: "timeline", synopsis: "GROUP [flags]",
	summary: "print a group's timeline (messages and notifications); --follow waits for more",
	details: "Prints one line per entry: seq, local time, sender (- for the server) and the text,\n" +
		"or the notification in brackets. --json prints each entry as a JSON object instead.\n" +
		"--follow polls for new entries (every --interval) until interrupted (Ctrl-C) or --max\n" +
		"entries were printed. Exits with status 1 if a read fails.",
	examples: []string{
		"qun timeline team",
		"qun timeline team --after 40 --max 10",
		"qun timeline team --follow",
		"qun timeline team --follow --json | jq -r .payload.searchableContent",
	},
	setup: func(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
		q := client.TimelineQuery{Limit: timelinePage}
		fs.Int64Var(&q.After, "after", 0, "print the entries after this seq")
		fs.IntVar(&q.Line, "line", 0, "the group's line")
		maxEntries := fs.Int("max", 0, "stop after this many entries (0: no limit)")
		follow := fs.Bool("follow", false, "keep waiting for new entries")
		interval := fs.Duration("interval", DefaultFollowInterval, "with --follow, the wait between reads once everything is printed")
		asJSON := fs.Bool("json", false, "print each entry as one line of JSON")
		return func(ctx context.Context, args []string) error {
			if err := r.args(args, 1, 1, "GROUP"); err != nil {
				return err
			}
			if *interval <= 0 || *maxEntries < 0 || q.After < 0 {
				return usagef("--interval must be positive, --max and --after 0 or more")
			}
			c, err := r.admin()
			if err != nil {
				return err
			}
			q.GroupID = args[0]
			printed := 0
			for {
				tl, err := r.readTimeline(ctx, c, q)
				if ctx.Err() != nil {
					return nil // interrupted: a normal end of --follow
				}
				if err != nil {
					return err
				}
				for _, m := range tl.Messages {
					if err := r.printEntry(m, *asJSON); err != nil {
						return err
					}
					q.After = m.Seq
					if printed++; printed == *maxEntries {
						return nil
					}
				}
				if tl.Next != 0 {
					continue
				}
				if !*follow {
					return nil
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(*interval):
				}
			}
		}
	},
}

// readTimeline reads one page, bounded by --timeout.
func (r *cliRun) readTimeline(ctx context.Context, c *client.Client, q client.TimelineQuery) (client.Timeline, error) {
	ctx, cancel := r.callContext(ctx)
	defer cancel()
	return c.Messages(ctx, q)
}

// printEntry prints one timeline entry as a line of text or of JSON.
func (r *cliRun) printEntry(m client.Message, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(r.stdout, "%s\n", b)
		return err
	}
	sender := m.Sender
	if sender == "" {
		sender = "-"
	}
	at := time.UnixMilli(m.Timestamp).Format(time.DateTime)
	_, err := fmt.Fprintf(r.stdout, "%d %s %s: %s\n", m.Seq, at, sender, entryText(m.Payload))
	return err
}

// notificationVerbs say what each built-in group notification (Wildfire
// content types 104–123) reports.
var notificationVerbs = map[int]string{
	104: "created the group",
	105: "added",
	106: "removed",
	107: "left the group",
	108: "dismissed the group",
	109: "transferred the group to",
	110: "renamed the group to",
	111: "set an alias",
	112: "changed the portrait",
	113: "set mute",
	114: "set the join type",
	115: "set private chat",
	116: "set searchable",
	117: "set manager",
	118: "set muted",
	119: "set allowed",
	122: "set the group's extra",
	123: "set a member's extra",
}

// switchedVerbs say what the notifications whose value turns something on
// ("1") or off ("0") report, by value, as the console does: "[muted bob]"
// reads better than "[set muted bob "1"]". %s is the members; another
// value falls back to notificationVerbs.
var switchedVerbs = map[int]map[string]string{
	113: {"1": "muted the group", "0": "unmuted the group"},
	117: {"1": "made %s a manager", "0": "removed %s as a manager"},
	118: {"1": "muted %s", "0": "unmuted %s"},
	119: {"1": "let %s speak while the group is muted", "0": "no longer lets %s speak while the group is muted"},
}

// entryText is a payload as one line: a message's text, or a notification
// in brackets with the members and value it carries.
func entryText(p client.Payload) string {
	verb, ok := notificationVerbs[p.Type]
	if !ok {
		text := p.SearchableContent
		if text == "" {
			text = p.Content
		}
		if text == "" || p.Type != client.TextMessage {
			text = strings.TrimSpace("[type " + strconv.Itoa(p.Type) + "] " + text)
		}
		return strings.ReplaceAll(text, "\n", " ")
	}
	// The notification's data: m one member, ms members, n a value.
	var d struct {
		M  *string  `json:"m"`
		MS []string `json:"ms"`
		N  *string  `json:"n"`
	}
	_ = json.Unmarshal(p.Data, &d) // a custom notification may carry anything
	if d.N != nil {
		if f, ok := switchedVerbs[p.Type][*d.N]; ok {
			who := strings.Join(d.MS, ", ")
			if who == "" && d.M != nil {
				who = *d.M
			}
			return "[" + strings.ReplaceAll(f, "%s", who) + "]"
		}
	}
	parts := []string{verb}
	if d.M != nil && *d.M != "" {
		parts = append(parts, *d.M)
	}
	if len(d.MS) > 0 {
		parts = append(parts, strings.Join(d.MS, ", "))
	}
	if d.N != nil {
		parts = append(parts, strconv.Quote(*d.N))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
