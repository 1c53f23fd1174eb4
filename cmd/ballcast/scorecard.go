package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/scorereport"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/pipeline/pluginhost"
)

// cmdScorecard runs one Cricsheet match through the real stats plugin
// process and prints the final scorecard.
func cmdScorecard(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("scorecard", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usageError{"scorecard: want one Cricsheet match file"}
	}
	m, err := replay.Load(files[0])
	if err != nil {
		return err
	}
	card, err := finalScorecard(ctx, m.Events, zerolog.New(stderr).Level(zerolog.WarnLevel))
	if err != nil {
		return err
	}
	rep := scorereport.FromScorecard(card)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReport(stdout, rep)
	return nil
}

// finalScorecard sends events through a stats plugin process and returns
// the scorecard attached to the last output.
func finalScorecard(ctx context.Context, evs []event.Event, log zerolog.Logger) (*event.Scorecard, error) {
	cmd, err := pluginCommand("stats", "")
	if err != nil {
		return nil, err
	}
	st, err := pluginhost.Start(ctx, pluginhost.Config{Stage: "stats", Plugin: "stats", Command: cmd}, log)
	if err != nil {
		return nil, err
	}
	defer st.Close(context.Background())
	var card *event.Scorecard
	const batch = 256
	for i := 0; i < len(evs); i += batch {
		res, err := st.Process(ctx, evs[i:min(i+batch, len(evs))])
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			if r.Err != nil {
				return nil, r.Err
			}
			for _, ev := range r.Events {
				if ev.Scorecard != nil {
					card = ev.Scorecard
				}
			}
		}
	}
	if card == nil {
		return nil, fmt.Errorf("scorecard: the stats plugin attached no scorecard")
	}
	return card, nil
}

func printReport(w io.Writer, rep scorereport.Report) {
	for _, in := range rep.Innings {
		label := in.Team
		if in.SuperOver {
			label += " (super over)"
		}
		fmt.Fprintf(w, "%s  %d/%d (%s ov)\n", label, in.Runs, in.Wickets, in.Overs)
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  batter\tR\tB\t4s\t6s\t")
		for _, b := range in.Batters {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%s\n", b.Name, b.Runs, b.Balls, b.Fours, b.Sixes, b.Out)
		}
		e := in.Extras
		fmt.Fprintf(tw, "  extras\t%d\t(w %d, nb %d, b %d, lb %d, pen %d)\t\t\t\n", e.Wides+e.NoBalls+e.Byes+e.LegByes+e.Penalty, e.Wides, e.NoBalls, e.Byes, e.LegByes, e.Penalty)
		fmt.Fprintln(tw, "  bowler\tO\tM\tR\tW\t")
		for _, b := range in.Bowlers {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\t\n", b.Name, b.Overs, b.Maidens, b.Runs, b.Wickets)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
}
