package broadcast_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/broadcast/broadcasttest"
	"github.com/ballcast/ballcast/core/event"
)

func TestSubscribeThenPublish(t *testing.T) {
	const n = 1000
	env := startHub(t, broadcast.Config{QueueSize: n + 16}, nil)
	c := broadcasttest.Dial(t, env.url)
	c.Subscribe("m1", broadcasttest.Fresh)
	snap := c.NextOp(ctxT(t), broadcast.OpSnapshot)
	if snap.Match != "m1" || snap.Seq != 0 || snap.State != broadcast.StateUnknown || snap.Epoch != env.hub.Epoch() {
		t.Fatalf("got snapshot match=%q seq=%d state=%q epoch=%q, want m1 0 unknown %q", snap.Match, snap.Seq, snap.State, snap.Epoch, env.hub.Epoch())
	}

	publishAll(t, env.hub, balls("m1", 1, n)...)
	frames := expectEvents(t, c, "m1", 1, n)
	for i, f := range frames {
		want := ball("m1", i+1)
		if f.ID != want.ID || f.IngestSeq != want.Seq || f.Kind != "ball" || !f.Time.Equal(want.Time) || f.Source != "test" {
			t.Fatalf("frame %d: got id=%q ingest_seq=%d kind=%q time=%v source=%q, want %q %d ball %v test",
				i, f.ID, f.IngestSeq, f.Kind, f.Time, f.Source, want.ID, want.Seq, want.Time)
		}
		if f.Data.Ball == nil || f.Data.Ball.Over != want.Ball.Over || f.Data.Ball.Ball != want.Ball.Ball || f.Data.Ball.Runs != want.Ball.Runs() {
			t.Fatalf("frame %d: got ball %+v, want over %d ball %d runs %d", i, f.Data.Ball, want.Ball.Over, want.Ball.Ball, want.Ball.Runs())
		}
		if f.Data.Commentary == nil || f.Data.Commentary.Text != want.Commentary.Text {
			t.Fatalf("frame %d: got commentary %+v, want %q", i, f.Data.Commentary, want.Commentary.Text)
		}
	}

	// A new subscriber now gets the state at seq n.
	c2 := broadcasttest.Dial(t, env.url)
	c2.Subscribe("m1", broadcasttest.Fresh)
	snap = c2.NextOp(ctxT(t), broadcast.OpSnapshot)
	if snap.Seq != n || snap.State != event.StateLive {
		t.Fatalf("got snapshot seq=%d state=%q, want %d live", snap.Seq, snap.State, n)
	}
	if got, want := len(snap.Commentary), broadcast.DefaultRecentCommentary; got != want {
		t.Fatalf("got %d commentary lines, want %d", got, want)
	}
	last := snap.Commentary[len(snap.Commentary)-1]
	if last.Seq != n || last.Text != fmt.Sprintf("ball %d", n) || last.Ball != "166.4" {
		t.Fatalf("got last line %+v, want seq %d text %q ball 166.4", last, n, fmt.Sprintf("ball %d", n))
	}
	if snap.Scorecard == nil || len(snap.Scorecard.Innings) != 1 || snap.Scorecard.Innings[0].Runs != 3*n || snap.Scorecard.Innings[0].Overs != "166.4" {
		t.Fatalf("got scorecard %+v, want one innings of %d runs in 166.4 overs", snap.Scorecard, 3*n)
	}
}

// TestSubscribeMidStream subscribes clients while events are being
// published: each must see a snapshot at some seq S and then exactly
// S+1, S+2, ... with no gap or repeat.
func TestSubscribeMidStream(t *testing.T) {
	const n, k = 1000, 5
	env := startHub(t, broadcast.Config{QueueSize: n + 16}, nil)
	evs := balls("m1", 1, n)

	// The publisher signals after each chunk without waiting, so the
	// subscribes land at different points of a stream still in flight.
	chunk := make(chan struct{}, k)
	pubDone := make(chan error, 1)
	go func() {
		for i, ev := range evs {
			if err := env.hub.Publish(t.Context(), ev); err != nil {
				pubDone <- err
				return
			}
			if (i+1)%(n/k) == 0 {
				chunk <- struct{}{}
			}
		}
		pubDone <- nil
	}()

	clients := make([]*broadcasttest.Client, 0, k+1)
	c := broadcasttest.Dial(t, env.url)
	c.Subscribe("m1", broadcasttest.Fresh)
	clients = append(clients, c)
	for range k {
		select {
		case <-chunk:
		case <-time.After(30 * time.Second):
			t.Fatalf("publisher stalled")
		}
		c := broadcasttest.Dial(t, env.url)
		c.Subscribe("m1", broadcasttest.Fresh)
		clients = append(clients, c)
	}
	if err := <-pubDone; err != nil {
		t.Fatalf("Publish: got %v, want nil", err)
	}
	for i, c := range clients {
		snap := c.NextOp(ctxT(t), broadcast.OpSnapshot)
		t.Logf("client %d: snapshot at seq %d", i, snap.Seq)
		if snap.Seq > 0 {
			lines := snap.Commentary
			if len(lines) == 0 || lines[len(lines)-1].Seq != snap.Seq {
				t.Fatalf("client %d: snapshot at seq %d has commentary up to %v, want up to %d", i, snap.Seq, lines, snap.Seq)
			}
			if got := snap.Scorecard.Innings[0].Runs; got != 3*int(snap.Seq) {
				t.Fatalf("client %d: snapshot at seq %d has %d runs, want %d", i, snap.Seq, got, 3*snap.Seq)
			}
		}
		if snap.Seq < n {
			expectEvents(t, c, "m1", snap.Seq+1, n)
		}
	}
}

// TestResume covers every answer to a subscribe with since: resumed and
// exactly the missing events, or a reset for each reason and a snapshot.
// Live events follow either way.
func TestResume(t *testing.T) {
	const n, history = 300, 100
	const epoch = "feed-2026-11-23T20:00:00Z"
	tests := []struct {
		name       string
		match      string
		since      uint64
		epoch      string
		wantReason string // empty: resumed
		wantFrom   uint64 // first replayed seq; n+1 when nothing is replayed
	}{
		{name: "in the gap", match: "m1", since: 250, epoch: epoch, wantFrom: 251},
		{name: "oldest held", match: "m1", since: n - history, epoch: epoch, wantFrom: n - history + 1},
		{name: "up to date", match: "m1", since: n, epoch: epoch, wantFrom: n + 1},
		{name: "no epoch sent", match: "m1", since: 290, wantFrom: 291},
		{name: "older than history", match: "m1", since: n - history - 1, epoch: epoch, wantReason: broadcast.ReasonHistoryGone},
		{name: "from the start, gone", match: "m1", since: 0, epoch: epoch, wantReason: broadcast.ReasonHistoryGone},
		{name: "ahead of stream", match: "m1", since: n + 5, epoch: epoch, wantReason: broadcast.ReasonAhead},
		{name: "ahead, no epoch sent", match: "m1", since: n + 1, wantReason: broadcast.ReasonAhead},
		{name: "epoch changed", match: "m1", since: 250, epoch: "feed-2026-11-22T08:00:00Z", wantReason: broadcast.ReasonEpochChanged},
		{name: "epoch changed, up to date", match: "m1", since: n, epoch: "r0", wantReason: broadcast.ReasonEpochChanged},
		{name: "unknown match from zero", match: "later", since: 0, epoch: epoch, wantFrom: 1},
		{name: "unknown match ahead", match: "later", since: 7, epoch: epoch, wantReason: broadcast.ReasonAhead},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := startHub(t, broadcast.Config{History: history, QueueSize: 64}, &envOptions{epoch: epoch})
			publishAll(t, env.hub, balls("m1", 1, n)...)
			c := broadcasttest.Dial(t, env.url)
			c.Resume(tc.match, tc.since, tc.epoch)
			head := uint64(0)
			if tc.match == "m1" {
				head = n
			}
			if tc.wantReason != "" {
				snap := c.NextReset(ctxT(t), tc.match, tc.wantReason)
				if snap.Seq != head || snap.Epoch != epoch {
					t.Fatalf("got snapshot seq=%d epoch=%q, want %d %q", snap.Seq, snap.Epoch, head, epoch)
				}
			} else {
				f := c.NextOp(ctxT(t), broadcast.OpResumed)
				if f.Since != tc.since || f.Seq != head || f.Epoch != epoch {
					t.Fatalf("got resumed since=%d seq=%d epoch=%q, want %d %d %q", f.Since, f.Seq, f.Epoch, tc.since, head, epoch)
				}
				if tc.wantFrom <= head {
					for _, e := range expectEvents(t, c, tc.match, tc.wantFrom, head) {
						if e.Epoch != epoch {
							t.Fatalf("got event epoch %q, want %q", e.Epoch, epoch)
						}
					}
				}
			}
			// Live events follow either way, and nothing else came first.
			next := ball(tc.match, int(head)+1)
			publishAll(t, env.hub, next)
			expectEvents(t, c, tc.match, head+1, head+1)
			st := env.hub.Stats()
			resets := map[string]uint64{
				broadcast.ReasonHistoryGone: st.ResetsHistoryGone, broadcast.ReasonAhead: st.ResetsAhead,
				broadcast.ReasonEpochChanged: st.ResetsEpochChanged,
			}
			for reason, got := range resets {
				want := uint64(0)
				if reason == tc.wantReason {
					want = 1
				}
				if got != want {
					t.Fatalf("Stats: got %d resets for %s, want %d", got, reason, want)
				}
			}
		})
	}
}

func TestDuplicateIDs(t *testing.T) {
	env := startHub(t, broadcast.Config{}, nil)
	c := broadcasttest.Dial(t, env.url)
	c.Subscribe("m1", broadcasttest.Fresh)
	c.NextOp(ctxT(t), broadcast.OpSnapshot)

	// 1..10, then a redelivery of 3..7 (same IDs, new ingest seqs), then 11..12.
	evs := balls("m1", 1, 10)
	for _, ev := range balls("m1", 3, 7) {
		ev.Seq += 100
		evs = append(evs, ev)
	}
	evs = append(evs, balls("m1", 11, 12)...)
	publishAll(t, env.hub, evs...)

	frames := expectEvents(t, c, "m1", 1, 12)
	for i, f := range frames {
		if want := ball("m1", i+1); f.ID != want.ID || f.IngestSeq != want.Seq {
			t.Fatalf("seq %d: got id=%q ingest_seq=%d, want %q %d", f.Seq, f.ID, f.IngestSeq, want.ID, want.Seq)
		}
	}
	// The same ID in another match is a different event.
	other := ball("m2", 1)
	other.ID = ball("m1", 1).ID
	c.Subscribe("m2", broadcasttest.Fresh)
	c.NextOp(ctxT(t), broadcast.OpSnapshot)
	publishAll(t, env.hub, other)
	expectEvents(t, c, "m2", 1, 1)
}

func TestUnknownMatchStartsLater(t *testing.T) {
	env := startHub(t, broadcast.Config{}, nil)
	c := broadcasttest.Dial(t, env.url)
	c.Subscribe("future", broadcasttest.Fresh)
	snap := c.NextOp(ctxT(t), broadcast.OpSnapshot)
	if snap.Seq != 0 || snap.State != broadcast.StateUnknown || snap.Info != nil || len(snap.Commentary) != 0 {
		t.Fatalf("got snapshot %s, want seq 0, state unknown, nothing else", snap.Raw)
	}
	// Not listed until it has an event.
	if got := getMatches(t, env).Matches; len(got) != 0 {
		t.Fatalf("got %d matches listed, want 0", len(got))
	}
	start := event.Event{
		ID: "future/status/live", Match: "future", Seq: 1, Kind: event.KindStatus,
		Info:   &event.MatchInfo{Title: "A v B", Teams: []string{"A", "B"}, Format: "T20", BallsPerOver: 6},
		Status: &event.Status{State: event.StateLive},
	}
	publishAll(t, env.hub, start)
	f := expectEvents(t, c, "future", 1, 1)[0]
	if f.Kind != "status" || f.Data.Info == nil || f.Data.Info.Title != "A v B" || f.Data.Status == nil || f.Data.Status.State != "live" {
		t.Fatalf("got %s, want a status event with info", f.Raw)
	}
}

func TestUnsubscribe(t *testing.T) {
	env := startHub(t, broadcast.Config{}, nil)
	c := broadcasttest.Dial(t, env.url)
	for _, m := range []string{"m1", "m2"} {
		c.Subscribe(m, broadcasttest.Fresh)
		c.NextOp(ctxT(t), broadcast.OpSnapshot)
	}
	c.Unsubscribe("m1")
	if f := c.NextOp(ctxT(t), broadcast.OpUnsubscribed); f.Match != "m1" {
		t.Fatalf("got unsubscribed %q, want m1", f.Match)
	}
	publishAll(t, env.hub, ball("m1", 1), ball("m2", 1))
	// m1's event is not sent: the next frame is m2's.
	expectEvents(t, c, "m2", 1, 1)
}

// TestSlowConsumer checks that a client that stops reading is disconnected
// with 4008 while a fast client gets every event and Publish never waits.
func TestSlowConsumer(t *testing.T) {
	const queue = 16
	env := startHub(t, broadcast.Config{QueueSize: queue}, &envOptions{sendBuffer: 16 << 10})
	slow := broadcasttest.DialWith(t, env.url, &broadcasttest.DialOptions{ReadBuffer: 16 << 10})
	fast := broadcasttest.Dial(t, env.url)
	for _, c := range []*broadcasttest.Client{slow, fast} {
		c.Subscribe("m1", broadcasttest.Fresh)
		c.NextOp(ctxT(t), broadcast.OpSnapshot)
	}

	// 10x the queue, 8 KiB a frame: far more than the slow client's socket
	// buffers and queue hold. The fast client reads as it goes; bursts are
	// kept under its queue size, since a burst larger than the queue and
	// the socket buffers together would rightly drop any client.
	evs := balls("m1", 1, 10*queue)
	for i := range evs {
		evs[i].Commentary.Text = strings.Repeat("x", 8<<10)
	}
	received := make(chan uint64, len(evs))
	fastErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		for want := uint64(1); want <= uint64(len(evs)); want++ {
			f, err := fast.Read(ctx)
			if err == nil && f.Seq != want {
				err = fmt.Errorf("got seq %d, want %d", f.Seq, want)
			}
			if err != nil {
				fastErr <- err
				return
			}
			received <- f.Seq
		}
	}()

	const burst = queue / 2
	var slowest time.Duration
	for start := 0; start < len(evs); start += burst {
		for _, ev := range evs[start : start+burst] {
			t0 := time.Now()
			if err := env.hub.Publish(t.Context(), ev); err != nil {
				t.Fatalf("Publish: got %v, want nil", err)
			}
			slowest = max(slowest, time.Since(t0))
		}
		for want := uint64(start + 1); want <= uint64(start+burst); want++ {
			select {
			case got := <-received:
				if got != want {
					t.Fatalf("fast client: got seq %d, want %d", got, want)
				}
			case err := <-fastErr:
				t.Fatalf("fast client: %v", err)
			case <-time.After(10 * time.Second):
				t.Fatalf("fast client: seq %d not received within 10s", want)
			}
		}
	}
	if slowest > time.Second {
		t.Fatalf("slowest Publish: got %s, want well under 1s", slowest)
	}
	env.logs.wait(t, "slow consumer disconnected", 10*time.Second)

	// The slow client, reading at last, finds the frames it was sent, then
	// the close frame.
	if got := slow.CloseStatus(ctxT(t)); got != broadcast.CloseSlowConsumer {
		t.Fatalf("slow client close status: got %v, want %v", got, broadcast.CloseSlowConsumer)
	}
	// The fast client is still subscribed.
	publishAll(t, env.hub, ball("m1", 10*queue+1))
	expectEvents(t, fast, "m1", 10*queue+1, 10*queue+1)
}

func TestBadRequests(t *testing.T) {
	tests := []struct {
		name     string
		typ      websocket.MessageType
		frame    string
		wantCode string
	}{
		{name: "malformed json", frame: `{"action":`, wantCode: broadcast.CodeBadJSON},
		{name: "not an object", frame: `[1,2]`, wantCode: broadcast.CodeBadJSON},
		{name: "unknown action", frame: `{"action":"dance","match":"m1"}`, wantCode: broadcast.CodeUnknownAction},
		{name: "missing match", frame: `{"action":"subscribe"}`, wantCode: broadcast.CodeBadRequest},
		{name: "match too long", frame: `{"action":"subscribe","match":"` + strings.Repeat("m", broadcast.MaxMatchID+1) + `"}`, wantCode: broadcast.CodeBadRequest},
		{name: "negative since", frame: `{"action":"subscribe","match":"m1","since":-1}`, wantCode: broadcast.CodeBadJSON},
		{name: "binary frame", typ: websocket.MessageBinary, frame: `{"action":"subscribe","match":"m1"}`, wantCode: broadcast.CodeBadRequest},
	}
	env := startHub(t, broadcast.Config{}, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := broadcasttest.Dial(t, env.url)
			typ := tc.typ
			if typ == 0 {
				typ = websocket.MessageText
			}
			c.SendRaw(typ, []byte(tc.frame))
			f := c.NextOp(ctxT(t), broadcast.OpError)
			if f.Code != tc.wantCode || f.Message == "" {
				t.Fatalf("got error code=%q message=%q, want code %q and a message", f.Code, f.Message, tc.wantCode)
			}
			// The connection survives.
			c.Subscribe("m1", broadcasttest.Fresh)
			c.NextOp(ctxT(t), broadcast.OpSnapshot)
			c.Close()
		})
	}
}

func TestOversizedFrame(t *testing.T) {
	env := startHub(t, broadcast.Config{}, nil)
	c := broadcasttest.Dial(t, env.url)
	big := `{"action":"subscribe","match":"` + strings.Repeat("m", broadcast.ReadLimit) + `"}`
	c.SendRaw(websocket.MessageText, []byte(big))
	if got := c.CloseStatus(ctxT(t)); got != websocket.StatusMessageTooBig {
		t.Fatalf("close status: got %v, want %v", got, websocket.StatusMessageTooBig)
	}
}

func TestTooManySubscriptions(t *testing.T) {
	env := startHub(t, broadcast.Config{}, nil)
	c := broadcasttest.Dial(t, env.url)
	for i := range broadcast.MaxSubscriptions {
		c.Subscribe(fmt.Sprintf("m%d", i), broadcasttest.Fresh)
		c.NextOp(ctxT(t), broadcast.OpSnapshot)
	}
	c.Subscribe("one-more", broadcasttest.Fresh)
	if f := c.NextOp(ctxT(t), broadcast.OpError); f.Code != broadcast.CodeTooManySubscriptions {
		t.Fatalf("got code %q, want %q", f.Code, broadcast.CodeTooManySubscriptions)
	}
	// Resubscribing to a followed match is still fine.
	c.Subscribe("m0", broadcasttest.Fresh)
	c.NextOp(ctxT(t), broadcast.OpSnapshot)
}

func TestPingTimeout(t *testing.T) {
	env := startHub(t, broadcast.Config{PingInterval: 20 * time.Millisecond}, nil)
	c := broadcasttest.Dial(t, env.url)
	// Not reading, the client cannot answer pings.
	env.logs.wait(t, "ping failed", 10*time.Second)
	if got := c.CloseStatus(ctxT(t)); got != broadcast.ClosePingTimeout {
		t.Fatalf("close status: got %v, want %v", got, broadcast.ClosePingTimeout)
	}
}

// TestPingKeepsReaderAlive runs a reading and a non-reading client side by
// side: when the silent one is dropped for a missed pong, the reading one
// (connected first, so pinged at least as often) must still be served.
func TestPingKeepsReaderAlive(t *testing.T) {
	env := startHub(t, broadcast.Config{PingInterval: 50 * time.Millisecond}, nil)
	reader := broadcasttest.Dial(t, env.url)
	reader.Subscribe("m1", broadcasttest.Fresh)
	reader.NextOp(ctxT(t), broadcast.OpSnapshot)
	type result struct {
		f   broadcasttest.Frame
		err error
	}
	got := make(chan result, 1)
	go func() {
		f, err := reader.Read(t.Context()) // reading answers pings
		got <- result{f, err}
	}()

	silent := broadcasttest.Dial(t, env.url)
	env.logs.wait(t, "ping failed", 10*time.Second)
	publishAll(t, env.hub, ball("m1", 1))
	r := <-got
	if r.err != nil || r.f.Seq != 1 {
		t.Fatalf("reader: got seq %d err %v, want 1 nil", r.f.Seq, r.err)
	}
	if code := silent.CloseStatus(ctxT(t)); code != broadcast.ClosePingTimeout {
		t.Fatalf("silent client close status: got %v, want %v", code, broadcast.ClosePingTimeout)
	}
}

func TestShutdown(t *testing.T) {
	env := startHub(t, broadcast.Config{}, nil)
	c := broadcasttest.Dial(t, env.url)
	c.Subscribe("m1", broadcasttest.Fresh)
	c.NextOp(ctxT(t), broadcast.OpSnapshot)

	closed := make(chan websocket.StatusCode, 1)
	go func() {
		_, err := c.Read(context.Background())
		closed <- websocket.CloseStatus(err)
	}()
	env.stop()
	select {
	case got := <-closed:
		if got != websocket.StatusGoingAway {
			t.Fatalf("close status: got %v, want %v", got, websocket.StatusGoingAway)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("client not closed within 10s of shutdown")
	}
	if err := env.hub.Publish(t.Context(), ball("m1", 1)); !errors.Is(err, broadcast.ErrClosed) {
		t.Fatalf("Publish after shutdown: got %v, want %v", err, broadcast.ErrClosed)
	}
	if err := env.hub.Run(t.Context()); !errors.Is(err, broadcast.ErrRunning) {
		t.Fatalf("second Run: got %v, want %v", err, broadcast.ErrRunning)
	}
}

func TestPublishErrors(t *testing.T) {
	env := startHub(t, broadcast.Config{}, nil)
	if err := env.hub.Publish(t.Context(), event.Event{ID: "x"}); !errors.Is(err, broadcast.ErrNoMatch) {
		t.Fatalf("no match: got %v, want %v", err, broadcast.ErrNoMatch)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := env.hub.Publish(ctx, ball("m1", 1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: got %v, want %v", err, context.Canceled)
	}
}

// TestPublishBeforeRun checks Publish waits for Run rather than failing.
func TestPublishBeforeRun(t *testing.T) {
	checkLeaks(t)
	h, err := broadcast.NewHub(broadcast.Config{}, zerologNop)
	if err != nil {
		t.Fatalf("NewHub: got %v, want nil", err)
	}
	if err := h.Publish(t.Context(), ball("m1", 1)); err != nil {
		t.Fatalf("Publish: got %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { _ = h.Run(ctx) })
	cancel()
	wg.Wait()
}
