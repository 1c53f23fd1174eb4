package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/ingest"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/pipeline"
)

// cmdReplay runs Cricsheet files through a pipeline's stages as fast as
// they go, with a progress bar, and prints each match's result and the
// stages' counters. Sources and broadcast in the pipeline file are ignored.
func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", stderr)
	file := fs.String("c", "", "pipeline `file` whose stages to use (default: the embedded default)")
	pluginDir := fs.String("plugin-dir", defaultPluginDir(), "directory of installed plugin binaries")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageError{"replay: want one or more Cricsheet match files"}
	}
	cfg, err := loadConfig(*file)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errQuiet
	}
	src, err := replay.New(replay.Config{Files: files, Speed: "max"})
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	if cfg.Log.Level == "" || cfg.Log.Level == "info" {
		log = log.Level(zerolog.WarnLevel) // the bar tells the story
	}
	st, err := startStages(ctx, cfg, *pluginDir, nil, log)
	if err != nil {
		return err
	}
	defer st.Close()

	bar := progressbar.NewOptions(src.Len(),
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("replaying"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("events"),
		progressbar.OptionSetVisibility(isTerminal(stderr)),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
	sink := &tally{bar: bar, last: map[string]event.Event{}}
	runner := pipeline.NewRunner(st.specs, sink, log)
	events := make(chan event.Event, 1024)
	start := time.Now()
	ingestErr := make(chan error, 1)
	go func() { ingestErr <- ingest.New(log, src).Run(ctx, events) }()
	if err := runner.Run(ctx, events); err != nil {
		return err
	}
	if err := <-ingestErr; err != nil {
		return err
	}
	bar.Finish() //nolint:errcheck // display only
	elapsed := time.Since(start)
	sink.print(stdout, runner, src.Len(), elapsed)
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// tally is the replay command's sink: it counts outputs and keeps each
// match's last event.
type tally struct {
	bar *progressbar.ProgressBar

	mu    sync.Mutex
	n     int
	lines int
	last  map[string]event.Event
}

func (t *tally) Publish(_ context.Context, ev event.Event) error {
	t.mu.Lock()
	t.n++
	if ev.Commentary != nil {
		t.lines++
	}
	t.last[ev.Match] = ev
	t.mu.Unlock()
	return t.bar.Add(1)
}

func (t *tally) print(w io.Writer, r *pipeline.Runner, in int, elapsed time.Duration) {
	matches := make([]string, 0, len(t.last))
	for m := range t.last {
		matches = append(matches, m)
	}
	sort.Strings(matches)
	for _, m := range matches {
		ev := t.last[m]
		fmt.Fprintf(w, "%s:", m)
		if sc := ev.Scorecard; sc != nil {
			for _, in := range sc.Innings {
				fmt.Fprintf(w, "  %s %d/%d (%s)", in.Team, in.Runs, in.Wickets, event.Overs(in.LegalBalls, 6))
			}
			if sc.Result != "" {
				fmt.Fprintf(w, "  — %s", sc.Result)
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%d events in, %d out, %d commentary lines, %s (%.0f events/s)\n",
		in, t.n, t.lines, elapsed.Round(time.Millisecond), float64(in)/elapsed.Seconds())
	for _, s := range r.Stats() {
		fmt.Fprintf(w, "  stage %-12s in %6d  out %6d  dropped %4d  failures %d\n", s.Name, s.In.Load(), s.Out.Load(), s.Dropped.Load(), s.Failures.Load())
	}
}
