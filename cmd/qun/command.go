// Command qun runs the qun bot platform: one binary, the Robot API and the
// Bot Open Platform on a public listener, the Admin API on a private one,
// embedded SQLite by default. qun serve runs the wiring of package app; the
// other commands are the backup and the Admin API client.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/qun-chat/qun/internal/app"
)

// Version is set at build time with -ldflags "-X main.Version=..."; otherwise
// the module version go build stamps (a tag, a pseudo-version from the
// commit, or "(devel)") is used.
var Version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `qun — a self-hosted bot platform for group chats

Usage:
  qun serve [flags]   run the server (qun serve -h lists the flags)
  qun version         print the version, the commit and the Go it was built with
  qun backup FILE     copy the SQLite database to FILE, safe while qun serve runs (qun backup -h)

Client commands, which sign Admin API calls to a running qun serve (secret: --admin-secret,
QUN_ADMIN_SECRET or the data directory's generated one; address: --admin-addr):
  qun call PATH [JSON|-]              any Admin API call (--robot: a Robot API call), prints the result
  qun user create|get                 users
  qun robot create|get|ice-breaker|reset-secret|intents|webhook|deliveries|redeliver|sessions
                                      robots (bots): create prints appId, appSecret and the secret;
                                      reset-secret renews them, intents sets the gateway's allowed ones;
                                      webhook sends a bot's events to its URL, deliveries shows them,
                                      sessions lists its gateway sessions
  qun group create|get|members|add|kick
  qun send --from USER --group GROUP [--mention BOT] TEXT
  qun timeline GROUP [--follow]       a group's messages and notifications
  qun help [COMMAND]                  a command's flags and examples (or: qun COMMAND -h)
  qun completion bash                 shell completion
`

// Run runs the command line and returns the exit code.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "version", "-version", "--version":
		fmt.Fprint(stdout, app.ReadVersion(Version))
		return 0
	case "serve":
		return app.Serve(ctx, args[1:], getenv, app.ReadVersion(Version), stdout, stderr)
	case "backup":
		return runBackup(ctx, args[1:], getenv, stdout, stderr)
	case "bench":
		fmt.Fprintln(stderr, "qun bench: the benchmarks left the server binary; in a clone of qun run: go run ./cmd/qunbench "+strings.Join(args[1:], " "))
		return 2
	case "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		if isClientCommand(args[0]) {
			return runClient(ctx, args, getenv, os.Stdin, stdout, stderr)
		}
		fmt.Fprintf(stderr, "qun: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
