package pluginhost

import (
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/internal/cricsheettest"
	"github.com/ballcast/ballcast/pipeline"
)

// matchEvents is a real T20 (tied, decided by super overs) as ingest would
// send it: Seq 1, 2, 3...
func matchEvents(t *testing.T) []event.Event {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cricsheettest.CricsheetDir(t), "1263472.json"))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := replay.Parse("1263472", data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		evs[i].Seq = uint64(i + 1)
	}
	return evs
}

// send processes evs in batches of 16 as the runner does: a batch that
// fails because the plugin died is sent again. Before batch killAt it
// SIGKILLs the plugin, once the batch before was processed (so that
// batch's answer is, in effect, lost: it is sent again too). It returns
// every output, in order, of the batches' last answers, and the index of
// the first output of the re-sent batch (-1 if none).
func send(t *testing.T, s *Stage, evs []event.Event, killAt int) (out []event.Event, resent int) {
	t.Helper()
	resent = -1
	const size = 16
	for b, i := 0, 0; i < len(evs); b, i = b+1, i+size {
		batch := evs[i:min(i+size, len(evs))]
		if b == killAt && b > 0 {
			if err := syscall.Kill(s.Pid(), syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			// The previous batch's answer was lost: the runner re-sends it.
			prev := evs[i-size : i]
			out = out[:len(out)-len(prev)]
			resent = len(out)
			batch = evs[i-size : min(i+size, len(evs))]
		}
		var res []pipeline.Result
		for try := 0; ; try++ {
			r, err := s.Process(t.Context(), batch)
			if err == nil {
				res = r
				break
			}
			if try == 3 {
				t.Fatalf("batch %d: %v", b, err)
			}
		}
		for j, r := range res {
			if r.Err != nil {
				t.Fatalf("event %s: %v", batch[j].ID, r.Err)
			}
			out = append(out, r.Events...)
		}
	}
	return out, resent
}

// TestBuiltinStagesResumeAfterKill runs a real match through the real
// dedup and stats plugins, kill -9s each plugin mid-match and re-sends the
// batches in flight: the outputs equal those of a run never killed. dedup
// passes the re-sent events again (same ID, same Seq) and still drops a
// provider's re-send; stats does not count the re-sent balls twice and
// answers them with the current scorecard.
func TestBuiltinStagesResumeAfterKill(t *testing.T) {
	evs := matchEvents(t)
	// A provider re-send of the first ball, later in the feed: a true
	// duplicate that dedup drops before and after the restart.
	for i := range evs {
		if evs[i].Kind == event.KindBall {
			dup := evs[i]
			dup.Seq = uint64(len(evs) + 1)
			evs = append(evs, dup)
			break
		}
	}
	for _, plugin := range []string{"dedup", "stats"} {
		t.Run(plugin, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Stage: plugin, Plugin: plugin, Command: command(plugin)}
			want, _ := send(t, start(t, cfg), evs, -1)
			s := start(t, cfg)
			got, resent := send(t, s, evs, len(evs)/16/2)
			if len(got) != len(want) || resent < 0 {
				t.Fatalf("%d outputs after the kill (re-sent from %d), want %d", len(got), resent, len(want))
			}
			for i := range got {
				w := want[i]
				if plugin == "stats" && i >= resent && i < resent+16 {
					// Re-sent, not re-applied: the card as the kill left it.
					w.Scorecard = want[resent+15].Scorecard
				}
				if !reflect.DeepEqual(got[i], w) {
					t.Fatalf("output %d (%s) differs from the never-killed run:\ngot  %+v\nwant %+v", i, got[i].ID, got[i], w)
				}
			}
			if plugin == "dedup" && len(got) != len(evs)-1 {
				t.Fatalf("dedup passed %d of %d events, want all but the re-send", len(got), len(evs))
			}
			if st := s.Stats(); st.Restarts != 1 || st.Crashes != 1 {
				t.Fatalf("stats = %+v, want 1 crash and 1 restart", st)
			}
			t.Logf("%s: %d events, plugin killed before batch %d; outputs match the never-killed run", plugin, len(evs), len(evs)/16/2)
		})
	}
}
