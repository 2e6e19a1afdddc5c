package main

// The client commands: qun as a client of a running qun serve. Each signs
// its Admin API calls (or, for qun call --robot, Robot API calls) with the
// client package, so the operator never signs by hand.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app"
)

// DefaultCallTimeout bounds one call of a client command, so that a qun that
// accepts the connection but never answers cannot hang a script.
const DefaultCallTimeout = 30 * time.Second

// cliCommand is one client command, e.g. "group create".
type cliCommand struct {
	name     string // the words after qun
	synopsis string // what follows the name in the usage line
	summary  string // one line, for qun help
	details  string // what it does, for its -h
	examples []string
	offline  bool // takes no connection flags (help, completion)
	// setup defines the command's own flags on fs and returns what runs it
	// on the positional arguments.
	setup func(fs *flag.FlagSet, r *cliRun) func(ctx context.Context, args []string) error
}

// cliCommands is every client command, in the order qun help lists them; it
// is set in init because help and completion read it.
var cliCommands []cliCommand

// cliNouns are the first words of commands that take a second one.
var cliNouns = []string{"user", "robot", "group"}

// findCommand returns the command args start with and how many words its
// name took, or nil.
func findCommand(args []string) (*cliCommand, int) {
	for i := range cliCommands {
		c := &cliCommands[i]
		words := strings.Fields(c.name)
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			return c, len(words)
		}
	}
	return nil, 0
}

// isClientCommand reports whether word starts a client command.
func isClientCommand(word string) bool {
	if slices.Contains(cliNouns, word) {
		return true
	}
	c, _ := findCommand([]string{word})
	return c != nil
}

// cliRun is one run of a client command: its streams, its environment and
// the connection flags every online command takes.
type cliRun struct {
	cmd            *cliCommand
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer

	adminAddr   string
	adminSecret string
	data        string
	timeout     time.Duration

	// Where the command's call went and what signed it, for the hint a
	// refused signature or an unreachable qun gets: the address and the flag
	// that sets it, the source of the admin secret, or the robot's id.
	addr, addrFlag string
	secretFrom     string
	robotID        string
}

// usageError is a command line mistake: exit status 2 and a pointer to -h.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// runClient runs a client command and returns the exit status: 0, 1 when a
// call failed (a code other than 0, or no answer), 2 for a usage mistake.
func runClient(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd, n := findCommand(args)
	if cmd == nil {
		if slices.Contains(cliNouns, args[0]) {
			if len(args) > 1 && isHelpFlag(args[1]) {
				printNounHelp(stdout, args[0])
				return 0
			}
			if len(args) > 1 {
				fmt.Fprintf(stderr, "qun %s: unknown command %q\n\n", args[0], args[1])
			}
			printNounHelp(stderr, args[0])
			return 2
		}
		fmt.Fprintf(stderr, "qun: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	r := &cliRun{cmd: cmd, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	fs := r.flagSet()
	action := cmd.setup(fs, r)
	pos, err := parseInterspersed(fs, args[n:])
	if errors.Is(err, flag.ErrHelp) {
		r.printHelp(stdout, fs)
		return 0
	}
	if err != nil {
		return r.exit(usageError{err.Error()})
	}
	return r.exit(action(ctx, pos))
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

// flagSet returns the command's flag set with the connection flags defined.
// Errors are reported by exit, help is printed by printHelp.
func (r *cliRun) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("qun "+r.cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if r.cmd.offline {
		return fs
	}
	r.envString(fs, &r.adminAddr, "admin-addr", "QUN_ADMIN_ADDR", app.DefaultAdminAddr, "Admin API `address` of qun serve: host:port or a URL")
	fs.StringVar(&r.adminSecret, "admin-secret", "", "Admin API secret (env QUN_ADMIN_SECRET or QUN_ADMIN_SECRET_FILE; default: the generated one in the data directory)")
	r.envString(fs, &r.data, "data", "QUN_DATA", app.DefaultData, "qun serve's data `directory`, where the generated admin secret is kept (SQLite)")
	fs.DurationVar(&r.timeout, "timeout", DefaultCallTimeout, "how long one call may take")
	return fs
}

// envString defines a string flag whose default comes from the variable env,
// else def. The help shows def, never the variable's value (it may be secret).
func (r *cliRun) envString(fs *flag.FlagSet, p *string, name, env, def, usage string) {
	*p = def
	if v := r.getenv(env); v != "" {
		*p = v
	}
	fs.Func(name, fmt.Sprintf("%s (env %s, default %q)", usage, env, def), func(v string) error { *p = v; return nil })
}

// parseInterspersed parses flags anywhere among the positional arguments,
// so that "qun timeline G1 --follow" works; after "--" everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// exit reports err on stderr and returns the exit status.
func (r *cliRun) exit(err error) int {
	var ue usageError
	var we *client.Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(r.stderr, "qun %s: %s\nRun 'qun %s -h' for help.\n", r.cmd.name, ue.msg, r.cmd.name)
		return 2
	case errors.As(err, &we):
		fmt.Fprintf(r.stderr, "qun %s: code %d: %s\n", r.cmd.name, we.Code, we.Msg)
		if we.Code == authFailure {
			r.hint(r.authHint())
		}
		return 1
	default:
		fmt.Fprintf(r.stderr, "qun %s: %v\n", r.cmd.name, err)
		if errors.Is(err, syscall.ECONNREFUSED) && r.addr != "" {
			r.hint(fmt.Sprintf("nothing listens at %s: is qun serve running, and is that its address (%s)?", r.addr, r.addrFlag))
		}
		return 1
	}
}

// authFailure is Wildfire's code 244: a signature that does not match (or
// a replay, which a client command never sends).
const authFailure = 244

// hint prints a second line saying what to do about the error, if any.
func (r *cliRun) hint(h string) {
	if h != "" {
		fmt.Fprintf(r.stderr, "qun %s: %s\n", r.cmd.name, h)
	}
}

// authHint says which secret signed a call that was refused with 244.
func (r *cliRun) authHint() string {
	switch {
	case r.robotID != "":
		return fmt.Sprintf("the robot secret (--secret, QUN_ROBOT_SECRET) is not %s's; 'qun robot get %s' prints it", r.robotID, r.robotID)
	case r.secretFrom != "":
		return fmt.Sprintf("the admin secret from %s is not the one of the qun serve at %s; give the one it printed on its first start (on PostgreSQL it is kept in the database, not in --data)", r.secretFrom, r.addr)
	}
	return ""
}

// printHelp prints the command's usage, flags and examples.
func (r *cliRun) printHelp(w io.Writer, fs *flag.FlagSet) {
	c := r.cmd
	fmt.Fprintf(w, "Usage: qun %s %s\n\n%s\n", c.name, c.synopsis, c.summary)
	if c.details != "" {
		fmt.Fprintf(w, "\n%s\n", c.details)
	}
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintln(w, "\nFlags (-flag and --flag are the same; flags may follow the arguments):")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if len(c.examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, e := range c.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

// printNounHelp lists the commands of a noun such as "group".
func printNounHelp(w io.Writer, noun string) {
	fmt.Fprintf(w, "Usage: qun %s COMMAND [flags]\n\nCommands:\n", noun)
	for _, c := range cliCommands {
		if strings.HasPrefix(c.name, noun+" ") {
			fmt.Fprintf(w, "  qun %-18s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintf(w, "\nRun 'qun %s COMMAND -h' for a command's flags and examples.\n", noun)
}

// args checks the number of positional arguments: at least min, at most max
// (-1: no limit).
func (r *cliRun) args(args []string, min, max int, what string) error {
	if len(args) < min || (max >= 0 && len(args) > max) {
		return usagef("want %s, got %d argument(s)", what, len(args))
	}
	return nil
}

// admin returns an Admin API client of the configured qun.
func (r *cliRun) admin() (*client.Client, error) {
	secret, err := r.resolveAdminSecret()
	if err != nil {
		return nil, err
	}
	base, err := baseURL(r.adminAddr)
	if err != nil {
		return nil, usagef("admin-addr: %v", err)
	}
	r.addr, r.addrFlag = r.adminAddr, "--admin-addr, QUN_ADMIN_ADDR"
	return client.NewAdmin(base, secret), nil
}

// resolveAdminSecret returns the admin secret: --admin-secret, else
// QUN_ADMIN_SECRET, else the file QUN_ADMIN_SECRET_FILE names, else the one
// qun serve generated in the data directory. On PostgreSQL the generated
// secret lives in the database, so one of the first three is needed.
func (r *cliRun) resolveAdminSecret() (string, error) {
	if r.adminSecret != "" {
		r.secretFrom = "--admin-secret"
		return r.adminSecret, nil
	}
	if v := r.getenv("QUN_ADMIN_SECRET"); v != "" {
		r.secretFrom = "QUN_ADMIN_SECRET"
		return v, nil
	}
	if file := r.getenv("QUN_ADMIN_SECRET_FILE"); file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usagef("QUN_ADMIN_SECRET_FILE: %v", err)
		}
		if s := strings.TrimSpace(string(b)); s != "" {
			r.secretFrom = "QUN_ADMIN_SECRET_FILE (" + file + ")"
			return s, nil
		}
		return "", usagef("QUN_ADMIN_SECRET_FILE: %s is empty", file)
	}
	path := filepath.Join(r.data, app.AdminSecretFile)
	b, err := os.ReadFile(path)
	if s := strings.TrimSpace(string(b)); err == nil && s != "" {
		r.secretFrom = path
		return s, nil
	}
	if r.getenv("QUN_DB") != "" {
		return "", usagef("no admin secret: on PostgreSQL qun keeps its generated secret in the database; give --admin-secret or QUN_ADMIN_SECRET")
	}
	if errors.Is(err, os.ErrNotExist) && exists(filepath.Join(r.data, app.NodeFile)) {
		// A data directory qun serve ran in, without the generated secret:
		// the node is on PostgreSQL, or was given its secret.
		return "", usagef("no admin secret in %s: a node on PostgreSQL keeps the generated one in the database (and one started with --admin-secret keeps none); give --admin-secret or QUN_ADMIN_SECRET", r.data)
	}
	if err == nil {
		err = errors.New("empty file")
	}
	return "", usagef("no admin secret: give --admin-secret or QUN_ADMIN_SECRET, or --data with qun serve's data directory (%v)", err)
}

// baseURL turns a listen address (host:port, as qun serve takes it) or a URL
// into the root URL of calls. An empty host is this machine.
func baseURL(addr string) (string, error) {
	if strings.Contains(addr, "://") {
		return strings.TrimSuffix(addr, "/"), nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%q is neither host:port nor a URL", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// callContext bounds one call by --timeout.
func (r *cliRun) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.timeout)
}

// printJSON prints v as indented JSON.
func (r *cliRun) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(r.stdout, "%s\n", b)
	return err
}
