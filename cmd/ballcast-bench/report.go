package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
)

// result is everything one invocation measured; -json prints it as is.
type result struct {
	Machine        machine       `json:"machine"`
	Settings       settings      `json:"settings"`
	Figures        []figure      `json:"figures"`
	Load           *loadSettings `json:"load,omitempty"` // section h; nil when skipped
	ElapsedSeconds float64       `json:"elapsed_seconds"`
}

// loadSettings describe section h, the fan-out load.
type loadSettings struct {
	Clients    int     `json:"clients"`     // WebSocket clients
	SSEClients int     `json:"sse_clients"` // SSE clients
	Rounds     int     `json:"rounds"`
	Events     int     `json:"events"`      // events replayed per phase
	IntervalMS float64 `json:"interval_ms"` // between two published events
	FrameBytes float64 `json:"frame_bytes"` // mean event frame on the wire
	Seconds    float64 `json:"seconds"`     // wall time of section h, all rounds
}

type machine struct {
	CPUs   int    `json:"cpus"`
	CPU    string `json:"cpu"`
	Go     string `json:"go"`
	OSArch string `json:"os_arch"`
	// Load is the 1-minute load average from /proc/loadavg at the start
	// and the end of the run: how shared the machine was.
	Load [2]float64 `json:"load"`
	// CPUPressure is Linux PSI "some avg60" at the start and the end: the
	// percentage of time a runnable task was waiting for a CPU.
	CPUPressure [2]float64 `json:"cpu_pressure_percent"`
}

type settings struct {
	Runs             int     `json:"runs"`
	Events           int     `json:"events"`            // timed events per latency figure
	Matches          int     `json:"matches"`           // concurrent matches in the throughput figures
	ThroughputEvents int     `json:"throughput_events"` // events per throughput figure
	Batch            int     `json:"batch"`
	Data             string  `json:"data,omitempty"`
	EventBytesIn     float64 `json:"event_bytes_in"`  // mean wire size of an event of the bundled match
	EventBytesOut    float64 `json:"event_bytes_out"` // the same after stats and commentary (live stream figure)
	DurableSeconds   float64 `json:"durable_seconds"` // wall time of the durable-log figures (section g), all rounds
}

// figure is one reported number: the median over the runs of its value and
// of its ratio to its reference measured in the same run.
type figure struct {
	Name    string    `json:"name"`
	Section string    `json:"section"`
	Label   string    `json:"label"`
	Unit    string    `json:"unit"`
	Value   float64   `json:"value"`
	Ref     string    `json:"ref,omitempty"`   // the reference figure's name; "" for comparisons
	Ratio   float64   `json:"ratio,omitempty"` // median of value / reference per run
	Values  []float64 `json:"values"`          // per run
}

type figureSpec struct {
	name, label, unit, ref string
}

type section struct {
	title string
	specs []figureSpec
}

// sections lists every figure in print order. A comparison has no ref; its
// value is itself a ratio of two figures of the same run.
var sections = []section{
	{"a. reference: one ball event to the echo plugin and back", []figureSpec{
		{"ref.bare_unary.p50", "bare go-plugin unary call  p50", "µs", "ref.bare_unary.p50"},
		{"ref.bare_unary.p99", "bare go-plugin unary call  p99", "µs", "ref.bare_unary.p99"},
		{"ref.host_stream.p50", "pluginhost, stream        p50", "µs", "ref.bare_unary.p50"},
		{"ref.host_stream.p99", "pluginhost, stream        p99", "µs", "ref.bare_unary.p99"},
		{"ref.host_unary.p50", "pluginhost, unary         p50", "µs", "ref.bare_unary.p50"},
		{"ref.host_unary.p99", "pluginhost, unary         p99", "µs", "ref.bare_unary.p99"},
	}},
	{"b. live latency: one event in flight through the runner (ratio = echo round trips)", []figureSpec{
		{"live.stream.p50", "dedup→stats→commentary, stream  p50", "µs", "ref.bare_unary.p50"},
		{"live.stream.p99", "dedup→stats→commentary, stream  p99", "µs", "ref.bare_unary.p99"},
		{"live.unary.p50", "dedup→stats→commentary, unary   p50", "µs", "ref.bare_unary.p50"},
		{"live.unary.p99", "dedup→stats→commentary, unary   p99", "µs", "ref.bare_unary.p99"},
		{"live.echo3_stream.p50", "echo→echo→echo, stream          p50", "µs", "ref.bare_unary.p50"},
		{"live.echo3_stream.p99", "echo→echo→echo, stream          p99", "µs", "ref.bare_unary.p99"},
		{"live.echo3_unary.p50", "echo→echo→echo, unary           p50", "µs", "ref.bare_unary.p50"},
		{"live.echo3_unary.p99", "echo→echo→echo, unary           p99", "µs", "ref.bare_unary.p99"},
		{"live.inproc.p50", "the three stages in process     p50", "µs", "ref.bare_unary.p50"},
		{"live.inproc.p99", "the three stages in process     p99", "µs", "ref.bare_unary.p99"},
	}},
	{"c. throughput: matches replayed concurrently, batch 64", []figureSpec{
		{"tput.echo3_stream", "echo→echo→echo, stream", "events/s", "tput.echo3_stream"},
		{"tput.echo3_unary", "echo→echo→echo, unary", "events/s", "tput.echo3_stream"},
		{"tput.stream", "dedup→stats→commentary, stream", "events/s", "tput.echo3_stream"},
		{"tput.unary", "dedup→stats→commentary, unary", "events/s", "tput.echo3_stream"},
		{"tput.inproc", "the three stages in process", "events/s", "tput.echo3_stream"},
	}},
	{"d. plugin start: exec + handshake + Describe + Configure, p50", []figureSpec{
		{"start.exec", "exec this binary, exit (no plugin)", "ms", "start.exec"},
		{"start.echo", "echo", "ms", "start.exec"},
		{"start.dedup", "dedup", "ms", "start.exec"},
		{"start.stats", "stats", "ms", "start.exec"},
		{"start.commentary", "commentary", "ms", "start.exec"},
		{"start.bare_mtls", "echo, bare go-plugin, AutoMTLS on", "ms", "start.exec"},
		{"start.bare_plain", "echo, bare go-plugin, AutoMTLS off", "ms", "start.exec"},
	}},
	{"e. CPU time per event, host + plugin processes (hardly affected by a busy machine)", []figureSpec{
		{"cpu.live_echo3_stream", "live: echo→echo→echo, stream", "µs", "cpu.live_echo3_stream"},
		{"cpu.live_echo3_unary", "live: echo→echo→echo, unary", "µs", "cpu.live_echo3_stream"},
		{"cpu.live_stream", "live: dedup→stats→commentary, stream", "µs", "cpu.live_echo3_stream"},
		{"cpu.live_unary", "live: dedup→stats→commentary, unary", "µs", "cpu.live_echo3_stream"},
		{"cpu.live_inproc", "live: the three stages in process", "µs", "cpu.live_echo3_stream"},
		{"cpu.tput_echo3_stream", "batch 64: echo→echo→echo, stream", "µs", "cpu.tput_echo3_stream"},
		{"cpu.tput_echo3_unary", "batch 64: echo→echo→echo, unary", "µs", "cpu.tput_echo3_stream"},
		{"cpu.tput_stream", "batch 64: dedup→stats→commentary, stream", "µs", "cpu.tput_echo3_stream"},
		{"cpu.tput_unary", "batch 64: dedup→stats→commentary, unary", "µs", "cpu.tput_echo3_stream"},
		{"cpu.tput_inproc", "batch 64: the three stages in process", "µs", "cpu.tput_echo3_stream"},
	}},
	{"f. stream vs unary, same run (>1: stream is better)", []figureSpec{
		{"cmp.echo_p50", "one echo call p50: unary ÷ stream", "×", ""},
		{"cmp.live_p50", "live p50: unary ÷ stream", "×", ""},
		{"cmp.live_p99", "live p99: unary ÷ stream", "×", ""},
		{"cmp.tput", "throughput: stream ÷ unary", "×", ""},
	}},
	{"g. durable log: Append → ingest log → dedup→stats→commentary (stream) → PublishFeed → ConsumeFeed", []figureSpec{
		{"durable.live.p50", "live ball, durable log          p50", "µs", "live.stream.p50"},
		{"durable.live.p99", "live ball, durable log          p99", "µs", "live.stream.p99"},
		{"durable.live_rt.p50", "the same in echo round trips    p50", "µs", "ref.bare_unary.p50"},
		{"durable.live_rt.p99", "the same in echo round trips    p99", "µs", "ref.bare_unary.p99"},
		{"durable.live_append.p50", "live: its Append                p50", "µs", "durable.live.p50"},
		{"durable.live_publish.p50", "live: one PublishFeed           p50", "µs", "durable.live.p50"},
		{"durable.live_put.p50", "live: one state Put (KV bucket) p50", "µs", "durable.live.p50"},
		{"durable.live_puts", "live: state Puts per ball", "/ball", ""},
		{"durable.tput", "replay, durable log", "events/s", "tput.stream"},
		{"durable.tput_append_busy", "replay: Appends in flight (one appender)", "×", ""},
		{"durable.tput_publish_busy", "replay: PublishFeeds in flight", "×", ""},
		{"durable.tput_put_busy", "replay: state Puts in flight", "×", ""},
		{"bus.round_trip.p50", "bus alone: round trip           p50", "µs", "ref.bare_unary.p50"},
		{"bus.round_trip.p99", "bus alone: round trip           p99", "µs", "ref.bare_unary.p99"},
		{"bus.append.p50", "bus alone: 1. Append            p50", "µs", "bus.round_trip.p50"},
		{"bus.deliver.p50", "bus alone: 2. then ConsumeIngest p50", "µs", "bus.round_trip.p50"},
		{"bus.publish.p50", "bus alone: 3. PublishFeed + Ack p50", "µs", "bus.round_trip.p50"},
		{"bus.feed.p50", "bus alone: 4. then ConsumeFeed  p50", "µs", "bus.round_trip.p50"},
		{"bus.put.p50", "bus alone: state Put of 3 KB    p50", "µs", "bus.round_trip.p50"},
		{"pub.sync", "publish to the feed, one at a time", "events/s", "pub.sync"},
		{"pub.async", "publish to the feed, 256 in flight", "events/s", "pub.sync"},
		{"cpu.durable_live", "CPU per live ball, durable log", "µs", "cpu.live_stream"},
		{"cpu.durable_tput", "CPU per replayed event, durable log", "µs", "cpu.tput_stream"},
		{"cpu.bus", "CPU per bus-alone round trip", "µs", "cpu.live_stream"},
		{"cpu.pub_sync", "CPU per publish, one at a time", "µs", "cpu.pub_sync"},
		{"cpu.pub_async", "CPU per publish, 256 in flight", "µs", "cpu.pub_sync"},
	}},
}

// loadSections lists the figures of section h that opts asks for.
func loadSections(opts options) []section {
	var secs []section
	if opts.clients > 0 {
		secs = append(secs, section{"h. fan-out load: WebSocket clients on one match, clients in another process (ratio to gorilla/websocket)",
			loadSpecs("load.ws", "hub", "load.ws_ref", "gorilla")})
	}
	if opts.sseClients > 0 {
		specs := loadSpecs("load.sse", "hub", "load.sse_ref", "net/http")
		// The same SSE figures against gorilla/websocket serving the same
		// number of WebSocket clients in the same round.
		for _, f := range loadFigures {
			specs = append(specs,
				figureSpec{"load.sse_ws_ref." + f.name, "gorilla WS: " + f.label, f.unit, "load.sse_ws_ref." + f.name},
				figureSpec{"load.sse_vs_ws." + f.name, "hub SSE: " + f.label, f.unit, "load.sse_ws_ref." + f.name})
		}
		specs = append(specs, countSpecs("load.sse_ws_ref", "gorilla WS")...)
		secs = append(secs, section{"i. fan-out load: SSE clients on one match, clients in another process (ratio to a net/http SSE server, then to gorilla/websocket)", specs})
	}
	secs = append(secs, section{"machine during the load rounds", []figureSpec{
		{"load.loadavg", "1-minute load average after the round", "", ""},
		{"load.pressure", "CPU pressure after the round (PSI avg60)", "%", ""},
	}})
	return secs
}

// loadFigures are the figures of each load phase that have a reference.
var loadFigures = []struct{ name, label, unit string }{
	{"connect", "connect + subscribe, all clients", "s"},
	{"p50", "publish → receive  p50", "ms"},
	{"p99", "publish → receive  p99", "ms"},
	{"max", "publish → receive  max", "ms"},
	{"mem_idle", "Go heap + stacks / idle conn", "KB"},
	{"rss_idle", "RSS / idle conn", "KB"},
	{"mem_peak", "Go heap + stacks / conn, replay peak", "KB"},
	{"rss_peak", "RSS / conn, replay peak", "KB"},
	{"cpu_frame", "server CPU / delivered frame", "µs"},
}

// loadSpecs are the rows of one load section: each figure for the
// reference and then for ours, ours with its ratio to the reference, then
// the counts.
func loadSpecs(key, ours, rkey, ref string) []figureSpec {
	var specs []figureSpec
	for _, f := range loadFigures {
		specs = append(specs,
			figureSpec{rkey + "." + f.name, ref + ": " + f.label, f.unit, rkey + "." + f.name},
			figureSpec{key + "." + f.name, ours + ": " + f.label, f.unit, rkey + "." + f.name})
	}
	return slices.Concat(specs, countSpecs(rkey, ref), countSpecs(key, ours))
}

func countSpecs(key, who string) []figureSpec {
	return []figureSpec{
		{key + ".frames", who + ": event frames delivered", "frames", ""},
		{key + ".missing", who + ": event frames missed", "frames", ""},
		{key + ".dropped", who + ": clients dropped before the end", "clients", ""},
	}
}

// copies are figures shown twice, against two references: {name, source}.
var copies = [][2]string{
	{"durable.live_rt.p50", "durable.live.p50"},
	{"durable.live_rt.p99", "durable.live.p99"},
}

// comparisons derives the cmp.* figures of a round: {name, numerator, denominator}.
var comparisons = [][3]string{
	{"cmp.echo_p50", "ref.host_unary.p50", "ref.host_stream.p50"},
	{"cmp.live_p50", "live.unary.p50", "live.stream.p50"},
	{"cmp.live_p99", "live.unary.p99", "live.stream.p99"},
	{"cmp.tput", "tput.stream", "tput.unary"},
}

// summarise turns the rounds' raw figures into the figures of secs.
func summarise(rounds []round, secs []section) []figure {
	for _, r := range rounds {
		for _, c := range copies {
			if v, ok := r[c[1]]; ok {
				r[c[0]] = v
			}
		}
		for _, c := range comparisons {
			if _, ok := r[c[1]]; ok {
				r[c[0]] = safeDiv(r[c[1]], r[c[2]])
			}
		}
	}
	var figs []figure
	for _, sec := range secs {
		for _, s := range sec.specs {
			f := figure{Name: s.name, Section: sec.title, Label: s.label, Unit: s.unit, Ref: s.ref}
			var ratios []float64
			for _, r := range rounds {
				f.Values = append(f.Values, r[s.name])
				if s.ref != "" {
					ratios = append(ratios, safeDiv(r[s.name], r[s.ref]))
				}
			}
			f.Value = median(f.Values)
			if s.ref != "" {
				f.Ratio = median(ratios)
			}
			figs = append(figs, f)
		}
	}
	return figs
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func describeMachine() machine {
	return machine{CPUs: runtime.NumCPU(), CPU: cpuModel(), Go: runtime.Version(), OSArch: runtime.GOOS + "/" + runtime.GOARCH}
}

func writeJSON(w io.Writer, res *result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// labelWidth is the width of the table's label column.
const labelWidth = "48"

// writeTable prints the figures as a compact aligned table.
func writeTable(w io.Writer, res *result) {
	m, s := res.Machine, res.Settings
	fmt.Fprintf(w, "ballcast-bench: %s %s, %d CPUs, %s; load %.1f → %.1f, CPU pressure %.0f%% → %.0f%%\n",
		m.Go, m.OSArch, m.CPUs, m.CPU, m.Load[0], m.Load[1], m.CPUPressure[0], m.CPUPressure[1])
	if s.Runs > 0 {
		fmt.Fprintf(w, "median of %d runs; latency: %d events one at a time; throughput: %d matches, %d events, batch %d\n",
			s.Runs, s.Events, s.Matches, s.ThroughputEvents, s.Batch)
		fmt.Fprintf(w, "mean event of the live-latency match on the wire: %.0f B in, %.0f B after stats and commentary\n", s.EventBytesIn, s.EventBytesOut)
	}
	if l := res.Load; l != nil {
		fmt.Fprintf(w, "fan-out load: median of %d rounds; %d WebSocket and %d SSE clients; %d events of the bundled match, one every %.0f ms; mean frame %.0f B\n",
			l.Rounds, l.Clients, l.SSEClients, l.Events, l.IntervalMS, l.FrameBytes)
	}
	const row = "  %-" + labelWidth + "s %10s %-8s %8s  %s\n"
	sec := ""
	for _, f := range res.Figures {
		if f.Section != sec {
			sec = f.Section
			fmt.Fprintf(w, "\n%s\n", sec)
			fmt.Fprintf(w, row, "", "median", "unit", "ratio", "reference")
		}
		ratio, ref := "", ""
		switch {
		case f.Ref == f.Name:
			ratio, ref = "1.00", "(the reference)"
		case f.Ref != "":
			ratio, ref = formatValue(f.Ratio), f.Ref
		}
		fmt.Fprintf(w, row, f.Label, formatValue(f.Value), f.Unit, ratio, ref)
	}
	load := 0.0
	if res.Load != nil {
		load = res.Load.Seconds
	}
	fmt.Fprintf(w, "\ntook %.1f s, of which %.1f s for the durable log (g) and %.1f s for the fan-out load (h, i)\n", res.ElapsedSeconds, s.DurableSeconds, load)
}

func formatValue(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 0.1 || v == 0:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.2g", v)
	}
}
