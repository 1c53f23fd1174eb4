package main

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// mainEnv makes the test binary run main instead of the tests, so that the
// in-process benchmark can re-execute it as its plugins (go-plugin's
// helper-process trick).
const mainEnv = "BALLCAST_BENCH_RUN_MAIN"

// TestMain runs main when mainEnv is set, and the tests otherwise.
func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestQuickRun runs the whole benchmark once, short, and checks that every
// figure was printed with a positive value (and ratio, where it has a
// reference), the fan-out load (200 WebSocket clients in a second process)
// included. It asserts nothing about speed.
func TestQuickRun(t *testing.T) {
	t.Setenv(mainEnv, "1") // inherited by the plugin processes
	var out, progress bytes.Buffer
	if err := run(t.Context(), []string{"-quick", "-runs", "1", "-json"}, &out, &progress); err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	var res result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("decode -json output: %v\n%s", err, out.String())
	}
	got := map[string]figure{}
	for _, f := range res.Figures {
		got[f.Name] = f
	}
	for _, sec := range sections {
		for _, s := range sec.specs {
			f, ok := got[s.name]
			if !ok {
				t.Errorf("figure %s missing", s.name)
				continue
			}
			if !(f.Value > 0) || len(f.Values) != 1 {
				t.Errorf("figure %s = %v (per run %v), want one positive value", s.name, f.Value, f.Values)
			}
			if s.ref != "" && !(f.Ratio > 0) {
				t.Errorf("figure %s ratio = %v, want > 0", s.name, f.Ratio)
			}
		}
	}
	// Section g, the durable log: its own rows, against the in-memory
	// figures of the same round, must be there and positive (the loop
	// above checks them too; this says which ones are the point).
	for name, ref := range map[string]string{
		"durable.live.p50":    "live.stream.p50",
		"durable.live.p99":    "live.stream.p99",
		"durable.live_rt.p50": "ref.bare_unary.p50",
		"durable.tput":        "tput.stream",
		"bus.round_trip.p50":  "ref.bare_unary.p50",
		"bus.round_trip.p99":  "ref.bare_unary.p99",
		"cpu.durable_live":    "cpu.live_stream",
	} {
		f, ok := got[name]
		if !ok {
			t.Errorf("durable-log figure %s missing", name)
			continue
		}
		if f.Ref != ref || !(f.Value > 0) || !(f.Ratio > 0) {
			t.Errorf("durable-log figure %s = %v (ratio %v to %q), want a positive value and ratio to %s", name, f.Value, f.Ratio, f.Ref, ref)
		}
	}
	if f := got["durable.live_puts"]; !(f.Value > 0) {
		t.Errorf("durable.live_puts = %v: the plugins stored no state in the bus's KV bucket", f.Value)
	}
	t.Logf("durable-log figures took %.1f s of %.1f s", res.Settings.DurableSeconds, res.ElapsedSeconds)
	if !(res.Settings.DurableSeconds > 0) {
		t.Errorf("settings.durable_seconds = %v, want > 0", res.Settings.DurableSeconds)
	}

	checkLoad(t, &res, got)

	if res.Settings.Runs != 1 || res.Settings.Events != 50 || res.Settings.ThroughputEvents <= 0 {
		t.Errorf("settings = %+v, want 1 run of 50 events and some throughput events", res.Settings)
	}
	if res.Settings.EventBytesIn <= 0 || res.Settings.EventBytesOut <= res.Settings.EventBytesIn {
		t.Errorf("event sizes in %v, out %v: want out > in > 0 (stats adds the scorecard)", res.Settings.EventBytesIn, res.Settings.EventBytesOut)
	}

	// The table prints the same figures: one row per figure, its label in
	// the first column, then the value and, with a reference, the ratio.
	var table bytes.Buffer
	writeTable(&table, &res)
	rows := tableRows(t, table.String())
	for _, sec := range slices.Concat(sections, loadSections(loadOpts(&res))) {
		for _, s := range sec.specs {
			fields, ok := rows[sec.title+"|"+s.label]
			if !ok {
				t.Errorf("table: no row %q in section %q\n%s", s.label, sec.title, table.String())
				continue
			}
			if mayBeZero(s.name) {
				continue // present is enough
			}
			cols := 1
			if s.ref != "" {
				cols = 3 // value, unit, ratio
			}
			for _, i := range []int{0, cols - 1} {
				if i >= len(fields) {
					t.Errorf("table row %q: %d columns, want more", s.label, len(fields))
					break
				}
				if v, err := strconv.ParseFloat(fields[i], 64); err != nil || !(v > 0) {
					t.Errorf("table row %q: column %d is %q, want a positive number", s.label, i, fields[i])
				}
			}
		}
	}
}

// loadOpts are the options section h ran with, as its settings report them.
func loadOpts(res *result) options {
	if res.Load == nil {
		return options{}
	}
	return options{clients: res.Load.Clients, sseClients: res.Load.SSEClients}
}

// mayBeZero reports whether a load figure may be zero or negative: drop
// and miss counts, and memory deltas the runtime or the kernel can hide
// with a couple of hundred clients (RSS, the peak sampled during the
// replay), and the machine's load.
func mayBeZero(name string) bool {
	for _, suffix := range []string{".dropped", ".missing", ".rss_idle", ".rss_peak", ".mem_peak"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return strings.HasPrefix(name, "load.loadavg") || strings.HasPrefix(name, "load.pressure")
}

// checkLoad checks the fan-out load figures (sections h and i) of a quick
// run: 200 WebSocket clients on the hub and on the gorilla reference, and
// 20 SSE clients on the hub and the net/http reference (and 20 WebSocket
// clients on gorilla) when the hub serves SSE, every client receiving
// every event.
func checkLoad(t *testing.T, res *result, got map[string]figure) {
	t.Helper()
	l := res.Load
	if l == nil {
		t.Fatal("no fan-out load settings: section h did not run")
	}
	if l.Clients != 200 || l.Rounds != 1 || l.Events != 20 || !(l.FrameBytes > 1000) {
		t.Errorf("load settings = %+v, want 200 clients, 1 round, 20 events of more than 1000 B (scorecards)", *l)
	}
	if l.SSEClients == 0 {
		t.Log("the hub serves no SSE: section i skipped")
	}
	secs := loadSections(loadOpts(res))
	for _, sec := range secs {
		for _, s := range sec.specs {
			f, ok := got[s.name]
			if !ok {
				t.Errorf("load figure %s missing", s.name)
				continue
			}
			if len(f.Values) != 1 {
				t.Errorf("load figure %s: %d values, want 1", s.name, len(f.Values))
			}
			if mayBeZero(s.name) {
				continue
			}
			if !(f.Value > 0) || (s.ref != "" && !(f.Ratio > 0)) {
				t.Errorf("load figure %s = %v (ratio %v), want positive", s.name, f.Value, f.Ratio)
			}
		}
	}
	for proto, n := range map[string]int{"ws": l.Clients, "sse": l.SSEClients} {
		if n == 0 {
			continue
		}
		keys := []string{"load." + proto, "load." + proto + "_ref"}
		if proto == "sse" {
			keys = append(keys, "load.sse_ws_ref")
		}
		for _, k := range keys {
			if f := got[k+".frames"]; f.Value != float64(n*l.Events) {
				t.Errorf("%s.frames = %v, want %d clients × %d events", k, f.Value, n, l.Events)
			}
		}
	}
}

// tableRows maps "section|label" to the fields after the label column.
func tableRows(t *testing.T, table string) map[string][]string {
	t.Helper()
	width, _ := strconv.Atoi(labelWidth)
	rows := map[string][]string{}
	section := ""
	for line := range strings.SplitSeq(table, "\n") {
		if !strings.HasPrefix(line, "  ") {
			if line != "" {
				section = line
			}
			continue
		}
		r := []rune(line) // the label column is padded in runes
		if len(r) < 2+width {
			continue
		}
		label := strings.TrimSpace(string(r[2 : 2+width]))
		key := section + "|" + label
		if _, dup := rows[key]; dup {
			t.Errorf("table: two rows %q in section %q", label, section)
		}
		rows[key] = strings.Fields(string(r[2+width:]))
	}
	return rows
}
