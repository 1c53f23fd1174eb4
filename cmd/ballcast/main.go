// Command ballcast turns live sports data into live commentary: it ingests
// provider feeds, runs every event through a pipeline of out-of-process
// plugins and broadcasts the results to frontends.
//
//	ballcast run [-c pipeline.yaml]       run a pipeline (default: the bundled replay); SIGHUP reloads it
//	ballcast validate FILE                check a pipeline file, every problem at once
//	ballcast replay [-c FILE] MATCH.json… replay Cricsheet files as fast as possible
//	ballcast scorecard MATCH.json [--json] final scorecard via the stats plugin
//	ballcast commentary-eval [flags] MATCH.json… measure the commentary of matches
//	ballcast simulate PROVIDER [FILE…]    a wire-exact simulator (roanuz, sportrix, scorelytics, sportsgameodds) with fault injection
//	ballcast plugin install PATH          install a plugin binary, recording its checksum in plugins.lock
//	ballcast plugin list | remove NAME    show or remove installed plugins
//	ballcast plugin serve NAME            serve a built-in plugin (used by ballcast itself)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errQuiet) {
			fmt.Fprintln(os.Stderr, "ballcast:", err)
		}
		os.Exit(exitCode(err))
	}
}

// errQuiet marks an error already reported to the user.
var errQuiet = errors.New("reported")

// usageError is a command-line mistake: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

const usage = `usage: ballcast <command> [flags]

commands:
  run [-c FILE] [--data-dir DIR]  run a pipeline (default: replay the bundled match, page on :8080);
                            reloads FILE when it changes or on SIGHUP
  validate FILE             check a pipeline file and report every problem as file:line:col
  replay [-c FILE] FILE...  replay Cricsheet files through a pipeline as fast as possible
  scorecard FILE [--json]   print a match's final scorecard, computed by the stats plugin
  commentary-eval [--persona P] [--language L] [--llm-base-url URL] [--llm-model M] [--json] FILE...
                            replay matches through stats and commentary and report lines, fallbacks,
                            grounding failures, repeats, phrasings and latency per match
  simulate roanuz [flags] [FILE...]  serve a wire-exact Roanuz v5 simulator replaying matches
  simulate scorelytics [flags] [FILE...]  serve a wire-exact Scorelytics simulator (REST + WebSocket)
  simulate sportrix [flags] [FILE...]  serve a wire-exact Sportrix stream simulator (WebSocket)
  simulate sportsgameodds [flags] [FILE...]  serve a wire-exact SportsGameOdds stream simulator (REST + Pusher)
  plugin install PATH       install a plugin binary (checksum and schema into plugins.lock)
  plugin list               list built-in and installed plugins
  plugin remove NAME        remove an installed plugin
  plugin serve NAME         serve a built-in plugin over the plugin protocol
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command"}
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(ctx, args, stdout, stderr)
	case "validate":
		return cmdValidate(args, stdout, stderr)
	case "replay":
		return cmdReplay(ctx, args, stdout, stderr)
	case "scorecard":
		return cmdScorecard(ctx, args, stdout, stderr)
	case "commentary-eval":
		return cmdCommentaryEval(ctx, args, stdout, stderr)
	case "plugin":
		return cmdPlugin(args, stdout, stderr)
	case "simulate":
		return cmdSimulate(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args allowing flags after positional arguments
// (ballcast scorecard FILE --json).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
