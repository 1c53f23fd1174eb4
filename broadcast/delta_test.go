package broadcast_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/broadcast/broadcasttest"
)

// syncHub waits until the hub has handled everything sent before it: the
// hub answers requests in the order they were sent.
func syncHub(t *testing.T, env *testEnv) {
	t.Helper()
	if status, _, _ := get(t, env, "/v1/matches"); status != http.StatusOK {
		t.Fatalf("GET /v1/matches: %d", status)
	}
}

func expectDelta(t *testing.T, f broadcasttest.Frame, match, id, text string) {
	t.Helper()
	if f.Op != broadcast.OpDelta || f.Match != match || f.ID != id || f.Text != text || f.Seq != 0 {
		t.Fatalf("got %s, want a delta of %s/%s %q without seq", f.Raw, match, id, text)
	}
	if want := fmt.Sprintf(`{"op":"delta","match":%q,"id":%q,"text":%q}`, match, id, text); string(f.Raw) != want {
		t.Fatalf("got %s, want exactly %s", f.Raw, want)
	}
}

// TestDeltas: deltas reach a match's subscribers at once and in order,
// only that match's; a delta after its event is dropped; deltas are not
// numbered, not in history and not replayed on resume.
func TestDeltas(t *testing.T) {
	env := startHub(t, broadcast.Config{}, &envOptions{epoch: "e1"})
	ev := ball("m1", 1)
	c := broadcasttest.Dial(t, env.url)
	c.Subscribe("m1", broadcasttest.Fresh)
	c.NextOp(ctxT(t), broadcast.OpSnapshot)
	single := broadcasttest.Dial(t, strings.Replace(env.url, "/v1/ws", "/v1/ws/match/m1", 1))
	single.NextOp(ctxT(t), broadcast.OpSnapshot)
	sse := broadcasttest.DialSSE(t, env.srv.Client(), sseURL(env, "m1", ""), nil)
	sse.NextOp(ctxT(t), broadcast.OpSnapshot)
	syncHub(t, env) // the SSE subscribe is handled

	words := []string{"Driven ", "through ", "cover \"for\" four."}
	env.hub.PublishDelta("m2", "m2/x", "another match")
	for _, w := range words {
		env.hub.PublishDelta("m1", ev.ID, w)
	}
	for _, w := range words {
		expectDelta(t, c.Next(ctxT(t)), "m1", ev.ID, w)
		expectDelta(t, single.Next(ctxT(t)), "m1", ev.ID, w)
		m := sse.Next(ctxT(t))
		if m.Event != broadcast.OpDelta || m.ID != "" {
			t.Fatalf("SSE message event %q id %q, want event delta without an id", m.Event, m.ID)
		}
		expectDelta(t, m.Frame, "m1", ev.ID, w)
	}
	publishAll(t, env.hub, ev)
	env.hub.PublishDelta("m1", ev.ID, "stale") // after its event: dropped
	publishAll(t, env.hub, ball("m1", 2))
	c.NextEvents(ctxT(t), "m1", 1, 2)
	single.NextEvents(ctxT(t), "m1", 1, 2)
	sse.NextEvents(ctxT(t), "m1", 1, 2)
	if st := env.hub.Stats(); st.DeltasStale != 1 {
		t.Fatalf("stats %+v, want 1 stale delta", st)
	}

	// Resume from before the deltas: only events are replayed.
	r := broadcasttest.Dial(t, env.url)
	r.Resume("m1", 0, "e1")
	r.NextOp(ctxT(t), broadcast.OpResumed)
	r.NextEvents(ctxT(t), "m1", 1, 2)
	resumed := broadcasttest.DialSSE(t, env.srv.Client(), sseURL(env, "m1", ""), http.Header{"Last-Event-Id": {"e1:0"}})
	resumed.NextOp(ctxT(t), broadcast.OpResumed)
	resumed.NextEvents(ctxT(t), "m1", 1, 2)
	publishAll(t, env.hub, ball("m1", 3)) // nothing else was queued before it
	r.NextEvents(ctxT(t), "m1", 3, 3)
	resumed.NextEvents(ctxT(t), "m1", 3, 3)

	// History and snapshot hold events only.
	_, _, body := get(t, env, "/v1/matches/m1/events")
	if strings.Contains(string(body), `"delta"`) {
		t.Fatalf("history holds a delta: %s", body)
	}
}

// TestDeltaDropped: a delta for a match nobody follows, or a
// malformed one, goes nowhere and keeps the hub working.
func TestDeltaDropped(t *testing.T) {
	env := startHub(t, broadcast.Config{}, nil)
	c := broadcasttest.Dial(t, env.url)
	c.Subscribe("m1", broadcasttest.Fresh)
	c.NextOp(ctxT(t), broadcast.OpSnapshot)
	for _, d := range [][3]string{{"", "id", "t"}, {"m1", "", "t"}, {"m1", "id", ""}, {"m1", "id", strings.Repeat("x", broadcast.MaxDeltaText+1)}} {
		env.hub.PublishDelta(d[0], d[1], d[2])
	}
	publishAll(t, env.hub, ball("m1", 1))
	c.NextEvents(ctxT(t), "m1", 1, 1)
	if st := env.hub.Stats(); st.DeltasDropped != 4 {
		t.Fatalf("stats %+v, want 4 dropped deltas", st)
	}
}

// TestSlowClientLosesDeltasNotItsConnection: a client that stops reading
// while deltas stream has them dropped once its queue is half full; it is
// not disconnected, and gets the event (the final line) when it reads on.
func TestSlowClientLosesDeltasNotItsConnection(t *testing.T) {
	const queue = 16
	env := startHub(t, broadcast.Config{QueueSize: queue}, &envOptions{sendBuffer: 16 << 10})
	slow := broadcasttest.DialWith(t, env.url, &broadcasttest.DialOptions{ReadBuffer: 16 << 10})
	slow.Subscribe("m1", broadcasttest.Fresh)
	slow.NextOp(ctxT(t), broadcast.OpSnapshot)
	ev := ball("m1", 1)
	const n = 400 // 8 KiB each: far more than the socket buffers and the queue
	for i := range n {
		env.hub.PublishDelta("m1", ev.ID, fmt.Sprintf("%04d", i)+strings.Repeat(" ", 8<<10))
	}
	publishAll(t, env.hub, ev)
	syncHub(t, env)
	st := env.hub.Stats()
	if st.DeltasDropped == 0 || st.SlowDropped != 0 {
		t.Fatalf("stats %+v, want deltas dropped and no client disconnected", st)
	}
	// Reading on: some of the deltas, in order (those dropped leave gaps),
	// then the event.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	got, last := 0, -1
	for {
		f, err := slow.Read(ctx)
		if err != nil {
			t.Fatalf("after %d deltas: %v", got, err)
		}
		if f.Op == broadcast.OpEvent {
			if f.Seq != 1 {
				t.Fatalf("event seq %d, want 1", f.Seq)
			}
			break
		}
		var i int
		if _, err := fmt.Sscanf(f.Text, "%04d", &i); err != nil || f.Op != broadcast.OpDelta || i <= last {
			t.Fatalf("got %s… (%v), want a delta after %d", f.Raw[:min(len(f.Raw), 60)], err, last)
		}
		got, last = got+1, i
	}
	if got == 0 || got >= n {
		t.Fatalf("%d deltas arrived, want some but not all %d", got, n)
	}
}
