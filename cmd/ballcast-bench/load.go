package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/core/event"
)

// This file measures section h: fan-out of one match's replay to many
// clients over loopback. The server runs in this process (a real
// broadcast.Hub behind net/http, or the gorilla/websocket reference); the
// clients run in another (`ballcast-bench loadclient`, loadclient.go).
//
// A phase: start the server, free what the runtime holds, read the
// baseline memory; start the client process and wait until every client
// has connected and subscribed (the connect time); free again and read the
// idle memory; publish the events at a fixed interval, stamping each
// publish with the wall clock, while sampling memory; hand the stamps to
// the client process and take its latencies. Memory figures are deltas
// from the baseline divided by the clients; CPU is this process's (all
// threads) from the first publish to the last report, divided by the
// frames the clients received.

// loadBench holds what every load phase needs.
type loadBench struct {
	opts   options
	log    io.Writer
	match  string
	events []event.Event // what the hub publishes: real payloads, scorecards included
	frames [][]byte      // the same events as the hub frames them, seq 1..n
	snap   []byte        // the snapshot the reference sends on subscribe
}

// loadRun is one phase's figures.
type loadRun struct {
	connect  time.Duration
	rep      loadReport
	memIdle  float64 // Go heap objects + goroutine stacks, bytes per connection
	rssIdle  float64 // resident set, bytes per connection
	memPeak  float64
	rssPeak  float64
	cpuFrame time.Duration // server CPU per delivered frame
	cpu      time.Duration // server CPU over the replay
}

// newLoadBench runs the bundled match through dedup → stats → commentary
// in process once, to publish events with real payloads (the scorecard
// grows through the match), picks -load-events of them spread over the
// match, and frames them through a throwaway hub for the references.
func newLoadBench(ctx context.Context, opts options, log io.Writer, match []event.Event) (*loadBench, error) {
	stages, err := inProcess(ctx, realStages)
	if err != nil {
		return nil, err
	}
	var out []event.Event
	for _, ev := range match {
		batch := []event.Event{ev}
		for _, s := range stages {
			var next []event.Event
			res, err := s.Process(ctx, batch)
			if err != nil {
				return nil, fmt.Errorf("ballcast-bench: load events: %w", err)
			}
			for _, r := range res {
				if r.Err != nil {
					return nil, fmt.Errorf("ballcast-bench: load events: %w", r.Err)
				}
				next = append(next, r.Events...)
			}
			batch = next
		}
		out = append(out, batch...)
	}
	closeAll(stages)
	if len(out) == 0 {
		return nil, errors.New("ballcast-bench: load events: the stages dropped every event")
	}
	k := min(opts.loadEvents, len(out))
	lb := &loadBench{opts: opts, log: log, match: out[0].Match}
	for i := range k {
		lb.events = append(lb.events, out[i*len(out)/k])
	}
	if lb.frames, err = hubFrames(ctx, lb.events); err != nil {
		return nil, err
	}
	lb.snap, err = json.Marshal(broadcast.Snapshot{Op: broadcast.OpSnapshot, Match: lb.match, State: broadcast.StateUnknown})
	return lb, err
}

// hubFrames publishes evs into a throwaway hub and returns the event frames
// exactly as it sends them.
func hubFrames(ctx context.Context, evs []event.Event) ([][]byte, error) {
	hub, err := broadcast.NewHub(broadcast.Config{History: len(evs)}, zerolog.Nop())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- hub.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for _, ev := range evs {
		if err := hub.Publish(ctx, ev); err != nil {
			return nil, fmt.Errorf("ballcast-bench: frame load events: %w", err)
		}
	}
	var frames [][]byte
	for since := 0; since < len(evs); since += broadcast.MaxEventsLimit {
		rec := httptest.NewRecorder()
		url := fmt.Sprintf("/v1/matches/%s/events?since=%d&limit=%d", evs[0].Match, since, broadcast.MaxEventsLimit)
		hub.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, url, nil))
		var page struct {
			Events []json.RawMessage `json:"events"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || rec.Code != http.StatusOK {
			return nil, fmt.Errorf("ballcast-bench: frame load events: %d %v: %s", rec.Code, err, rec.Body.String())
		}
		for _, f := range page.Events {
			frames = append(frames, []byte(f))
		}
	}
	if len(frames) != len(evs) {
		return nil, fmt.Errorf("ballcast-bench: frame load events: %d frames for %d events", len(frames), len(evs))
	}
	return frames, nil
}

// hubHasSSE reports whether broadcast.Hub serves SSE at
// /v1/sse/matches/{id} (docs/protocol.md): it opens a stream for 200 ms
// and looks at the answer.
func hubHasSSE(ctx context.Context, match string) bool {
	hub, err := broadcast.NewHub(broadcast.Config{}, zerolog.Nop())
	if err != nil {
		return false
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- hub.Run(ctx) }()
	defer func() { cancel(); <-done }()
	rctx, rcancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer rcancel()
	rec := httptest.NewRecorder()
	hub.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(rctx, http.MethodGet, "/v1/sse/matches/"+match, nil))
	return rec.Code == http.StatusOK && strings.HasPrefix(rec.Header().Get("Content-Type"), "text/event-stream")
}

// meanFrame is the mean size of the published frames in bytes.
func (lb *loadBench) meanFrame() float64 {
	n := 0
	for _, f := range lb.frames {
		n += len(f)
	}
	return float64(n) / float64(len(lb.frames))
}

// loadServer is one server under load.
type loadServer interface {
	url(addr string) string
	handler() http.Handler
	publish(ctx context.Context, i int) error // the i-th event, 0-based
	close()
}

// hubServer is the system under test: broadcast.Hub with its defaults.
type hubServer struct {
	lb     *loadBench
	hub    *broadcast.Hub
	path   string
	cancel context.CancelFunc
	done   chan error
}

func newHubServer(lb *loadBench, path string) (*hubServer, error) {
	hub, err := broadcast.NewHub(broadcast.Config{}, zerolog.Nop())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &hubServer{lb: lb, hub: hub, path: path, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- hub.Run(ctx) }()
	return s, nil
}

func (s *hubServer) url(addr string) string { return addr + s.path }
func (s *hubServer) handler() http.Handler  { return s.hub.Handler() }
func (s *hubServer) publish(ctx context.Context, i int) error {
	return s.hub.Publish(ctx, s.lb.events[i])
}
func (s *hubServer) close() { s.cancel(); <-s.done }

// wsRef is the reference: a minimal gorilla/websocket fan-out server with
// one writer goroutine per connection and a queue of the hub's default
// size, sending the hub's pre-encoded frames. It answers the first client
// frame (the subscribe request) with a snapshot, as the hub does, and
// drops a client whose queue is full.
type wsRef struct {
	refClients
	lb       *loadBench
	upgrader websocket.Upgrader
}

// refClients is a reference server's set of clients: publish queues a
// frame to each and drops a client whose queue is full, as the hub does;
// closeAll also waits for the handlers (http.Server.Close does not wait
// for hijacked connections), so the next phase's baseline is clean.
type refClients struct {
	mu    sync.Mutex
	conns map[*refQueue]struct{}
	wg    sync.WaitGroup // the handlers and writers
}

// refQueue is one reference client: the frames its writer is to send.
type refQueue struct {
	ch      chan []byte
	once    sync.Once
	done    chan struct{}
	onClose func() // also run by close, if set
}

func (c *refQueue) close() {
	c.once.Do(func() {
		close(c.done)
		if c.onClose != nil {
			c.onClose()
		}
	})
}

// add registers a client whose queue starts with first.
func (s *refClients) add(first []byte, onClose func()) *refQueue {
	c := &refQueue{ch: make(chan []byte, broadcast.DefaultQueueSize), done: make(chan struct{}), onClose: onClose}
	c.ch <- first
	s.mu.Lock()
	if s.conns == nil {
		s.conns = map[*refQueue]struct{}{}
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	return c
}

func (s *refClients) remove(c *refQueue) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.close()
}

func (s *refClients) publishFrame(f []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		select {
		case c.ch <- f:
		default:
			delete(s.conns, c)
			c.close()
		}
	}
}

func (s *refClients) close() {
	s.mu.Lock()
	for c := range s.conns {
		c.close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func newWSRef(lb *loadBench) *wsRef { return &wsRef{lb: lb} }

func (s *wsRef) url(addr string) string { return addr + "/v1/ws" }
func (s *wsRef) handler() http.Handler  { return s }

func (s *wsRef) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.wg.Add(1)
	defer s.wg.Done()
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(broadcast.ReadLimit)
	if _, _, err := ws.ReadMessage(); err != nil { // the subscribe request
		_ = ws.Close()
		return
	}
	c := s.add(s.lb.snap, func() { _ = ws.Close() })
	s.wg.Go(func() {
		for {
			select {
			case f := <-c.ch:
				if err := ws.WriteMessage(websocket.TextMessage, f); err != nil {
					c.close()
					return
				}
			case <-c.done:
				return
			}
		}
	})
	for {
		if _, _, err := ws.NextReader(); err != nil {
			break
		}
	}
	s.remove(c)
}

func (s *wsRef) publish(_ context.Context, i int) error {
	s.publishFrame(s.lb.frames[i])
	return nil
}

// sseRef is the SSE reference: a minimal net/http server streaming the
// hub's pre-encoded frames as SSE messages (`id:`, `event:`, `data:`, as in
// docs/protocol.md), with one writer (the handler goroutine) and a queue of
// the hub's default size per client, flushed after every message. It opens
// each stream with a snapshot, as the hub does, and drops a client whose
// queue is full.
type sseRef struct {
	refClients
	lb     *loadBench
	snap   []byte
	events [][]byte // the SSE encoding of lb.frames
}

func newSSERef(lb *loadBench) *sseRef {
	s := &sseRef{lb: lb}
	s.snap = fmt.Appendf(nil, "retry: 1000\nid: bench:0\nevent: snapshot\ndata: %s\n\n", lb.snap)
	for i, f := range lb.frames {
		s.events = append(s.events, fmt.Appendf(nil, "id: bench:%d\nevent: event\ndata: %s\n\n", i+1, f))
	}
	return s
}

func (s *sseRef) url(addr string) string { return addr + "/v1/sse/matches/" + s.lb.match }
func (s *sseRef) handler() http.Handler  { return s }

func (s *sseRef) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.wg.Add(1)
	defer s.wg.Done()
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "no flusher", http.StatusInternalServerError)
		return
	}
	c := s.add(s.snap, nil)
	defer s.remove(c)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	for {
		select {
		case f := <-c.ch:
			if _, err := w.Write(f); err != nil {
				return
			}
			fl.Flush()
		case <-c.done:
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (s *sseRef) publish(_ context.Context, i int) error {
	s.publishFrame(s.events[i])
	return nil
}

// phase runs one server against n clients of proto ("ws" or "sse").
// With profile set, it writes profile+".heap.pprof" at idle and
// profile+".cpu.pprof" over the replay.
func (lb *loadBench) phase(ctx context.Context, srv loadServer, proto string, n int, profile string) (loadRun, error) {
	var run loadRun
	defer srv.close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return run, err
	}
	hs := &http.Server{Handler: srv.handler(), ErrorLog: nil}
	served := make(chan struct{})
	go func() { defer close(served); _ = hs.Serve(ln) }()
	defer func() { _ = hs.Close(); <-served }()
	scheme := "ws://"
	if proto == "sse" {
		scheme = "http://"
	}

	baseMem, baseRSS := freeAndRead()
	cmd := exec.CommandContext(ctx, lb.opts.self, "loadclient", "-proto", proto,
		"-url", srv.url(scheme+ln.Addr().String()), "-match", lb.match,
		"-clients", strconv.Itoa(n), "-events", strconv.Itoa(len(lb.events)),
		"-wait", (time.Minute + time.Duration(len(lb.events))*lb.opts.loadInterval).String())
	cmd.Stderr = lb.log
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return run, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return run, err
	}
	if err := cmd.Start(); err != nil {
		return run, fmt.Errorf("start load client: %w", err)
	}
	exited := false
	defer func() {
		if !exited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	lines := json.NewDecoder(bufio.NewReader(stdout))
	var conn loadConnected
	if err := lines.Decode(&conn); err != nil {
		return run, fmt.Errorf("load client: connect %d clients: %w", n, err)
	}
	run.connect = time.Duration(conn.ConnectNS)

	mem, rss := freeAndRead()
	run.memIdle, run.rssIdle = perConn(mem-baseMem, n), perConn(rss-baseRSS, n)
	if profile != "" {
		stopProfile, err := startProfiles(profile)
		if err != nil {
			return run, err
		}
		defer stopProfile()
	}

	stop := make(chan struct{})
	peak := make(chan [2]uint64, 1)
	go func() { peak <- samplePeak(stop) }()
	pub := make([]int64, len(lb.events))
	cpu0 := cpuTime(nil)
	tick := time.NewTicker(lb.opts.loadInterval)
	for i := range lb.events {
		if i > 0 {
			<-tick.C
		}
		pub[i] = time.Now().UnixNano()
		if err := srv.publish(ctx, i); err != nil {
			tick.Stop()
			close(stop)
			return run, fmt.Errorf("publish: %w", err)
		}
	}
	tick.Stop()
	if err := json.NewEncoder(stdin).Encode(loadPublished{PublishNS: pub}); err != nil {
		close(stop)
		return run, fmt.Errorf("load client: %w", err)
	}
	if err := lines.Decode(&run.rep); err != nil {
		close(stop)
		return run, fmt.Errorf("load client: report: %w", err)
	}
	run.cpu = cpuTime(nil) - cpu0
	close(stop)
	p := <-peak
	run.memPeak, run.rssPeak = perConn(int64(p[0])-baseMem, n), perConn(int64(p[1])-baseRSS, n)
	if run.rep.Frames > 0 {
		run.cpuFrame = run.cpu / time.Duration(run.rep.Frames)
	}
	_ = stdin.Close()
	exited = true
	if err := cmd.Wait(); err != nil {
		return run, fmt.Errorf("load client: %w", err)
	}
	return run, nil
}

// startProfiles writes a heap profile now and starts a CPU profile; the
// returned func stops it.
func startProfiles(prefix string) (func(), error) {
	h, err := os.Create(prefix + ".heap.pprof")
	if err != nil {
		return nil, err
	}
	err = pprof.WriteHeapProfile(h)
	if cerr := h.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	c, err := os.Create(prefix + ".cpu.pprof")
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(c); err != nil {
		c.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); c.Close() }, nil
}

func perConn(delta int64, n int) float64 { return float64(delta) / float64(n) }

// goMemory reads the Go heap's object bytes plus goroutine stacks, without
// stopping the world.
func goMemory() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	var n int64
	for _, x := range s {
		if x.Value.Kind() == metrics.KindUint64 {
			n += int64(x.Value.Uint64())
		}
	}
	return n
}

// rss is this process's resident set in bytes, from /proc/self/statm.
func rss() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// freeAndRead collects garbage, returns freed memory to the OS and reads
// what remains: the live Go memory and the resident set.
func freeAndRead() (int64, int64) {
	runtime.GC()
	debug.FreeOSMemory()
	return goMemory(), rss()
}

// samplePeak reads Go memory and RSS every 50 ms until stop is closed and
// returns the highest of each.
func samplePeak(stop <-chan struct{}) [2]uint64 {
	var p [2]uint64
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		p[0] = max(p[0], uint64(max(goMemory(), 0)))
		p[1] = max(p[1], uint64(max(rss(), 0)))
		select {
		case <-stop:
			return p
		case <-t.C:
		}
	}
}

// loadRound measures section h once into r. The order of hub and
// reference alternates between rounds, so neither always runs on the
// memory the other just released.
func (lb *loadBench) loadRound(ctx context.Context, n int, r round) error {
	type job struct {
		key   string
		proto string
		n     int
		mk    func() (loadServer, error)
	}
	jobs := []job{
		{"load.ws", "ws", lb.opts.clients, func() (loadServer, error) { return newHubServer(lb, "/v1/ws") }},
		{"load.ws_ref", "ws", lb.opts.clients, func() (loadServer, error) { return newWSRef(lb), nil }},
	}
	sse := []job{
		{"load.sse", "sse", lb.opts.sseClients, func() (loadServer, error) { return newHubServer(lb, "/v1/sse/matches/"+lb.match) }},
		{"load.sse_ref", "sse", lb.opts.sseClients, func() (loadServer, error) { return newSSERef(lb), nil }},
		{"load.sse_ws_ref", "ws", lb.opts.sseClients, func() (loadServer, error) { return newWSRef(lb), nil }},
	}
	if n%2 == 1 {
		jobs[0], jobs[1] = jobs[1], jobs[0]
		sse[0], sse[2] = sse[2], sse[0]
	}
	jobs = append(jobs, sse...)
	for _, j := range jobs {
		if j.n < 1 {
			continue
		}
		srv, err := j.mk()
		if err != nil {
			return err
		}
		profile := ""
		if lb.opts.loadProfile != "" && n == 0 && j.key == "load.ws" {
			profile = filepath.Join(lb.opts.loadProfile, "hub-ws")
		}
		t0 := time.Now()
		run, err := lb.phase(ctx, srv, j.proto, j.n, profile)
		if err != nil {
			return fmt.Errorf("ballcast-bench: %s, %d clients: %w", j.key, j.n, err)
		}
		putLoad(r, j.key, run)
		fmt.Fprintf(lb.log, "ballcast-bench: %s: %d clients, %d frames, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d dropped %v, idle %.1f KB/conn, %.1f s\n",
			j.key, j.n, run.rep.Frames, float64(run.rep.P50NS)/1e6, float64(run.rep.P99NS)/1e6, float64(run.rep.MaxNS)/1e6,
			run.rep.Dropped, run.rep.Codes, run.memIdle/1024, time.Since(t0).Seconds())
	}
	if lb.opts.sseClients > 0 {
		for _, f := range loadFigures {
			r["load.sse_vs_ws."+f.name] = r["load.sse."+f.name]
		}
	}
	r["load.pressure"] = cpuPressure()
	r["load.loadavg"] = loadAverage()
	return nil
}

func putLoad(r round, key string, run loadRun) {
	r[key+".connect"] = run.connect.Seconds()
	r[key+".p50"] = float64(run.rep.P50NS) / 1e6
	r[key+".p99"] = float64(run.rep.P99NS) / 1e6
	r[key+".max"] = float64(run.rep.MaxNS) / 1e6
	r[key+".mem_idle"] = run.memIdle / 1024
	r[key+".rss_idle"] = run.rssIdle / 1024
	r[key+".mem_peak"] = run.memPeak / 1024
	r[key+".rss_peak"] = run.rssPeak / 1024
	r[key+".cpu_frame"] = us(run.cpuFrame)
	r[key+".dropped"] = float64(run.rep.Dropped)
	r[key+".missing"] = float64(run.rep.Missing)
	r[key+".frames"] = float64(run.rep.Frames)
}
