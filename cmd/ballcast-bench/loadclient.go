package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// This file is the load generator of section h, run as a separate process
// (`ballcast-bench loadclient ...`) so that its sockets, goroutines and CPU
// are not counted as the server's, and so that server and clients each get
// their own file-descriptor limit.
//
// The conversation with the parent, one JSON line each way at a time:
//
//	child → parent  loadConnected: every client is connected and subscribed
//	parent → child  loadPublished: the publish time of each seq (after the replay)
//	child → parent  loadReport: latencies, frames, drops
//
// Receive times are wall-clock nanoseconds (time.Now().UnixNano()), the
// same clock the parent stamps publishes with: both processes run on one
// machine.

// loadClientOptions are the flags of `ballcast-bench loadclient`.
type loadClientOptions struct {
	proto   string        // "ws" or "sse"
	url     string        // ws://… or http://…
	match   string        // the match to subscribe to
	clients int           // connections to open
	events  int           // event frames each client expects, seq 1..events
	dial    int           // dials in flight at once
	wait    time.Duration // how long to wait for the last frames once published
}

// loadConnected is the child's first line.
type loadConnected struct {
	Connected int   `json:"connected"`
	ConnectNS int64 `json:"connect_ns"` // first dial to the last client subscribed
}

// loadPublished is the parent's only line: PublishNS[i] is the wall-clock
// time the event with seq i+1 was handed to the server.
type loadPublished struct {
	PublishNS []int64 `json:"publish_ns"`
}

// loadReport is the child's last line.
type loadReport struct {
	Frames  int64 `json:"frames"`  // event frames received with a seq in 1..events
	Missing int64 `json:"missing"` // event frames expected but never received
	Dropped int   `json:"dropped"` // connections that ended before the last event
	// Codes counts the close codes of the dropped connections (1006 when
	// the connection ended without a close frame; 0 for SSE).
	Codes map[int]int `json:"codes,omitempty"`
	P50NS int64       `json:"p50_ns"`
	P99NS int64       `json:"p99_ns"`
	MaxNS int64       `json:"max_ns"`
	// Late counts frames received more than once or out of order.
	Late int64 `json:"late"`
}

func parseLoadClient(args []string) (loadClientOptions, error) {
	var o loadClientOptions
	fs := flag.NewFlagSet("ballcast-bench loadclient", flag.ContinueOnError)
	fs.StringVar(&o.proto, "proto", "ws", "ws or sse")
	fs.StringVar(&o.url, "url", "", "server URL")
	fs.StringVar(&o.match, "match", "", "match ID to subscribe to")
	fs.IntVar(&o.clients, "clients", 1, "connections")
	fs.IntVar(&o.events, "events", 1, "event frames expected per client")
	fs.IntVar(&o.dial, "dial", 64, "dials in flight at once")
	fs.DurationVar(&o.wait, "wait", time.Minute, "wait for the last frames after the replay")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.url == "" || o.match == "" || o.clients < 1 || o.events < 1 || o.dial < 1 || (o.proto != "ws" && o.proto != "sse") {
		return o, errors.New("ballcast-bench: usage: ballcast-bench loadclient -proto ws|sse -url URL -match ID -clients N -events N")
	}
	return o, nil
}

// runLoadClient is `ballcast-bench loadclient`: it talks to the parent on
// stdin and stdout.
func runLoadClient(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	o, err := parseLoadClient(args)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lc := &loadClient{opts: o, recv: make([]int64, o.clients*o.events), ended: make([]int, o.clients)}
	lc.last = make([]chan struct{}, o.clients)
	for i := range lc.last {
		lc.last[i] = make(chan struct{})
		lc.ended[i] = -1
	}

	// Connect and subscribe every client, o.dial at a time.
	t0 := time.Now()
	sem := make(chan struct{}, o.dial)
	subscribed := make(chan error, o.clients)
	var wg sync.WaitGroup
	for i := range o.clients {
		sem <- struct{}{}
		wg.Go(func() {
			lc.client(ctx, i, sem, subscribed)
		})
	}
	for range o.clients {
		if err := <-subscribed; err != nil {
			cancel()
			return fmt.Errorf("ballcast-bench: loadclient: %w", err)
		}
	}
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(loadConnected{Connected: o.clients, ConnectNS: time.Since(t0).Nanoseconds()}); err != nil {
		return err
	}

	var pub loadPublished
	if err := json.NewDecoder(stdin).Decode(&pub); err != nil {
		return fmt.Errorf("ballcast-bench: loadclient: read publish times: %w", err)
	}
	if len(pub.PublishNS) != o.events {
		return fmt.Errorf("ballcast-bench: loadclient: %d publish times for %d events", len(pub.PublishNS), o.events)
	}
	deadline := time.NewTimer(o.wait)
	defer deadline.Stop()
	for _, ch := range lc.last {
		select {
		case <-ch:
		case <-deadline.C:
		}
	}
	rep := lc.report(pub.PublishNS)
	cancel()
	lc.closeAll()
	if err := enc.Encode(rep); err != nil {
		return err
	}
	wg.Wait()
	return nil
}

// loadClient holds every connection's receive times.
type loadClient struct {
	opts loadClientOptions
	// recv[i*events+seq-1] is when client i received seq; 0 if never.
	// Each client writes only its own row; the report reads them after
	// the client has finished or the wait has run out, hence atomics.
	recv  []int64
	ended []int           // close code of a client that ended early, -1 for none; guarded by mu
	last  []chan struct{} // closed when client i got the last event or ended
	late  atomic.Int64

	mu    sync.Mutex
	conns []io.Closer
}

// client connects client i, subscribes, signals subscribed, then reads
// event frames until the last one or the end of the connection.
func (lc *loadClient) client(ctx context.Context, i int, sem chan struct{}, subscribed chan<- error) {
	var once sync.Once
	sub := func(err error) {
		once.Do(func() {
			<-sem
			subscribed <- err
		})
	}
	code := -1
	defer func() {
		lc.mu.Lock()
		lc.ended[i] = code
		lc.mu.Unlock()
		close(lc.last[i])
	}()
	var err error
	if lc.opts.proto == "ws" {
		code, err = lc.readWS(ctx, i, sub)
	} else {
		code, err = lc.readSSE(ctx, i, sub)
	}
	if err == nil {
		err = errors.New("stream ended before the subscription was confirmed")
	}
	sub(fmt.Errorf("client %d: %w", i, err))
}

var wsDialer = &websocket.Dialer{
	NetDialContext:   (&net.Dialer{}).DialContext,
	HandshakeTimeout: time.Minute,
	ReadBufferSize:   4096,
	WriteBufferSize:  512, // one subscribe request
}

func (lc *loadClient) readWS(ctx context.Context, i int, subscribed func(error)) (int, error) {
	conn, resp, err := wsDialer.DialContext(ctx, lc.opts.url, nil)
	if err != nil {
		return -1, fmt.Errorf("dial: %w", err)
	}
	resp.Body.Close()
	lc.track(conn.NetConn())
	req, _ := json.Marshal(map[string]string{"action": "subscribe", "match": lc.opts.match})
	if err := conn.WriteMessage(websocket.TextMessage, req); err != nil {
		return -1, fmt.Errorf("subscribe: %w", err)
	}
	var buf []byte
	for {
		_, r, err := conn.NextReader()
		if err != nil {
			code := websocket.CloseAbnormalClosure
			if ce := (*websocket.CloseError)(nil); errors.As(err, &ce) {
				code = ce.Code
			}
			return code, fmt.Errorf("read: %w", err)
		}
		buf, err = readAll(r, buf[:0])
		if err != nil {
			return websocket.CloseAbnormalClosure, fmt.Errorf("read: %w", err)
		}
		now := time.Now().UnixNano()
		if bytes.HasPrefix(buf, []byte(`{"op":"snapshot"`)) {
			subscribed(nil)
			continue
		}
		if lc.record(i, buf, now) {
			return -1, nil
		}
	}
}

// readAll appends everything r has to buf.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

var sseClient = &http.Client{Transport: &http.Transport{
	DialContext:         (&net.Dialer{}).DialContext,
	MaxIdleConnsPerHost: -1,
	DisableCompression:  true,
	DisableKeepAlives:   true,
}}

// readSSE follows the match's event stream (docs/protocol.md: `id:`,
// `event:`, one `data:` line). The client counts as subscribed at the
// stream's first snapshot.
func (lc *loadClient) readSSE(ctx context.Context, i int, subscribed func(error)) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, lc.opts.url, nil)
	if err != nil {
		return -1, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := sseClient.Do(req)
	if err != nil {
		return -1, fmt.Errorf("get: %w", err)
	}
	defer resp.Body.Close()
	lc.track(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return -1, fmt.Errorf("get: %s", resp.Status)
	}
	br := bufio.NewReaderSize(resp.Body, 4096)
	var data []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long data line: gather the rest of it.
			rest := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				rest = append(rest, line...)
			}
			line = rest
		}
		if err != nil {
			return 0, fmt.Errorf("read: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0: // end of an SSE event
			if len(data) > 0 {
				now := time.Now().UnixNano()
				if bytes.HasPrefix(data, []byte(`{"op":"snapshot"`)) {
					subscribed(nil)
				} else if lc.record(i, data, now) {
					return -1, nil
				}
				data = data[:0]
			}
		case bytes.HasPrefix(line, []byte("data:")):
			d := bytes.TrimPrefix(bytes.TrimPrefix(line, []byte("data:")), []byte(" "))
			if len(data) > 0 {
				data = append(data, '\n')
			}
			data = append(data, d...)
		}
	}
}

// record notes the receipt of one frame by client i; it reports whether
// that was the last event.
func (lc *loadClient) record(i int, frame []byte, now int64) bool {
	if !bytes.Contains(frame[:min(len(frame), 32)], []byte(`"op":"event"`)) {
		return false
	}
	seq := frameSeq(frame)
	if seq < 1 || seq > uint64(lc.opts.events) {
		return false
	}
	slot := &lc.recv[i*lc.opts.events+int(seq)-1]
	if atomic.LoadInt64(slot) != 0 {
		lc.late.Add(1)
		return false
	}
	atomic.StoreInt64(slot, now)
	return seq == uint64(lc.opts.events)
}

func (lc *loadClient) track(c io.Closer) {
	lc.mu.Lock()
	lc.conns = append(lc.conns, c)
	lc.mu.Unlock()
}

func (lc *loadClient) closeAll() {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	for _, c := range lc.conns {
		_ = c.Close()
	}
}

// report computes latencies from the publish times.
func (lc *loadClient) report(pub []int64) loadReport {
	n, k := lc.opts.clients, lc.opts.events
	lat := make([]int64, 0, n*k)
	rep := loadReport{Late: lc.late.Load()}
	for i := range n {
		for s := range k {
			t := atomic.LoadInt64(&lc.recv[i*k+s])
			if t == 0 {
				rep.Missing++
				continue
			}
			lat = append(lat, t-pub[s])
		}
	}
	rep.Frames = int64(len(lat))
	lc.mu.Lock()
	for _, code := range lc.ended {
		if code >= 0 {
			rep.Dropped++
			if rep.Codes == nil {
				rep.Codes = map[int]int{}
			}
			rep.Codes[code]++
		}
	}
	lc.mu.Unlock()
	if len(lat) > 0 {
		slices.Sort(lat)
		rank := func(p float64) int64 {
			i := int(float64(len(lat))*p+0.999999) - 1
			return lat[min(max(i, 0), len(lat)-1)]
		}
		rep.P50NS, rep.P99NS, rep.MaxNS = rank(0.50), rank(0.99), lat[len(lat)-1]
	}
	return rep
}

// frameSeq extracts "seq" from an event frame without decoding the rest.
func frameSeq(frame []byte) uint64 {
	i := bytes.Index(frame, []byte(`"seq":`))
	if i < 0 {
		return 0
	}
	rest := frame[i+len(`"seq":`):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	n, _ := strconv.ParseUint(string(rest[:j]), 10, 64)
	return n
}

// loadClientMain is the entry point from run; stdin and stdout are the
// process's own.
func loadClientMain(ctx context.Context, args []string) error {
	return runLoadClient(ctx, args, os.Stdin, os.Stdout)
}
