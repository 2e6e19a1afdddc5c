package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/qun-chat/qun/internal/app"
)

var helpCommand = cliCommand{
	name: "help", synopsis: "[COMMAND...]",
	summary:  "print the commands, or a command's flags and examples",
	offline:  true,
	examples: []string{"qun help", "qun help group create", "qun help serve"},
	setup: func(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
		return func(ctx context.Context, args []string) error {
			switch {
			case len(args) == 0:
				fmt.Fprint(r.stdout, usage)
			case args[0] == "serve":
				_, _ = app.ParseConfig([]string{"-h"}, r.getenv, r.stdout)
			case args[0] == "backup":
				runBackup(ctx, []string{"-h"}, r.getenv, r.stdout, r.stdout)
			case len(args) == 1 && slices.Contains(cliNouns, args[0]):
				printNounHelp(r.stdout, args[0])
			default:
				c, n := findCommand(args)
				if c == nil || n != len(args) {
					return usagef("no command %q; 'qun help' lists them", strings.Join(args, " "))
				}
				cr := &cliRun{cmd: c, getenv: r.getenv}
				fs := cr.flagSet()
				c.setup(fs, cr)
				cr.printHelp(r.stdout, fs)
			}
			return nil
		}
	},
}

var completionCommand = cliCommand{
	name: "completion", synopsis: "bash",
	summary: "print a bash completion script for qun's commands and flags",
	offline: true,
	examples: []string{
		"qun completion bash > /etc/bash_completion.d/qun",
		"source <(qun completion bash)   # in ~/.bashrc",
	},
	setup: func(fs *flag.FlagSet, r *cliRun) func(context.Context, []string) error {
		return func(ctx context.Context, args []string) error {
			if len(args) != 1 || args[0] != "bash" {
				return usagef("want bash (zsh users: autoload bashcompinit && bashcompinit first)")
			}
			return writeBashCompletion(r.stdout)
		}
	},
}

// writeBashCompletion writes a completion function for bash that knows every
// command and each command's flags (taken from the commands themselves, so
// it never goes stale).
func writeBashCompletion(w io.Writer) error {
	top := []string{"serve", "version"}
	subs := map[string][]string{}
	flagsOf := map[string][]string{}
	for _, name := range app.FlagNames() {
		flagsOf["serve"] = append(flagsOf["serve"], "--"+name)
	}
	for i := range cliCommands {
		cmd := &cliCommands[i]
		words := strings.Fields(cmd.name)
		if !slices.Contains(top, words[0]) {
			top = append(top, words[0])
		}
		if len(words) == 2 {
			subs[words[0]] = append(subs[words[0]], words[1])
		}
		r := &cliRun{cmd: cmd, getenv: func(string) string { return "" }}
		fs := r.flagSet()
		cmd.setup(fs, r)
		fs.VisitAll(func(f *flag.Flag) { flagsOf[cmd.name] = append(flagsOf[cmd.name], "--"+f.Name) })
	}
	var b strings.Builder
	b.WriteString(`# bash completion for qun: source <(qun completion bash)
_qun() {
	local cur=${COMP_WORDS[COMP_CWORD]} opts=
	local cmd="${COMP_WORDS[1]}"
	if [[ $COMP_CWORD -ge 3 || ( $COMP_CWORD -eq 2 && $cur == -* ) ]]; then
		cmd="${COMP_WORDS[1]} ${COMP_WORDS[2]}"
	fi
	if [[ $COMP_CWORD -eq 1 ]]; then
		opts="` + strings.Join(top, " ") + `"
	elif [[ $COMP_CWORD -eq 2 && $cur != -* ]]; then
		case "$cmd" in
`)
	for _, noun := range sortedKeys(subs) {
		fmt.Fprintf(&b, "\t\t%s) opts=%q ;;\n", noun, strings.Join(subs[noun], " "))
	}
	b.WriteString(`		esac
	fi
	if [[ $cur == -* ]]; then
		case "$cmd" in
`)
	for _, name := range sortedKeys(flagsOf) {
		// A one-word command is followed by anything: match "call X" too.
		pattern := fmt.Sprintf("%q", name)
		if !strings.Contains(name, " ") {
			pattern = fmt.Sprintf("%q|%q*", name, name+" ")
		}
		fmt.Fprintf(&b, "\t\t%s) opts=%q ;;\n", pattern, strings.Join(flagsOf[name], " "))
	}
	b.WriteString(`		esac
	fi
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _qun qun
`)
	_, err := io.WriteString(w, b.String())
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
