package sdk_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
	"github.com/ballcast/ballcast/plugins/sdk/sdktest"
)

// words streams each event's line word by word, then returns the event
// with the whole line as its commentary. Events named "panic" panic; late
// keeps emit to call it after ProcessStream returned.
type words struct {
	line    string
	workers int // emit from this many goroutines at once, each its own words
	late    chan func(sdk.Delta)
}

func (*words) Configure(context.Context, sdk.Config) error { return nil }

func (w *words) Process(_ context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	ev.Commentary = &pb.Commentary{Text: w.line}
	return []*sdk.Event{ev}, nil
}

func (w *words) ProcessStream(ctx context.Context, batch []*sdk.Event, emit func(sdk.Delta)) ([][]*sdk.Event, []error) {
	outs := make([][]*sdk.Event, len(batch))
	for i, ev := range batch {
		if ev.GetId() == "panic" {
			panic("boom")
		}
		emit(sdk.Delta{EventID: "not-in-batch", Text: "never shown"})
		if w.workers > 0 {
			var wg sync.WaitGroup
			for g := range w.workers {
				wg.Go(func() {
					for k := range 20 {
						emit(sdk.Delta{EventID: ev.GetId(), Text: fmt.Sprintf("g%d.%d ", g, k)})
					}
				})
			}
			wg.Wait()
		} else {
			for _, word := range strings.SplitAfter(w.line, " ") {
				emit(sdk.Delta{EventID: ev.GetId(), Match: "ignored", Text: word})
			}
		}
		outs[i], _ = w.Process(ctx, ev)
	}
	if w.late != nil {
		w.late <- emit
	}
	return outs, nil
}

func TestProcessStreamSendsDeltasBeforeTheResult(t *testing.T) {
	t.Parallel()
	const line = "Driven hard through cover for four."
	c := sdktest.Start(t, &words{line: line}, nil)
	d, err := c.Describe(t.Context(), &pb.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.GetCapabilities(); len(got) != 1 || got[0] != sdk.CapabilityStream {
		t.Fatalf("capabilities = %v, want [%s]", got, sdk.CapabilityStream)
	}
	deltas, res := c.ProcessStream([]*sdk.Event{{Id: "a", Match: "m1"}, {Id: "b", Match: "m2"}})
	got := map[string]string{}
	for _, d := range deltas {
		want := map[string]string{"a": "m1", "b": "m2"}[d.GetEventId()]
		if d.GetMatch() != want {
			t.Fatalf("delta %+v: match %q, want the input event's %q", d, d.GetMatch(), want)
		}
		got[d.GetEventId()] += d.GetText()
	}
	if len(got) != 2 || got["a"] != line || got["b"] != line {
		t.Fatalf("deltas add up to %q, want %q for a and b only", got, line)
	}
	if len(deltas) != 2*len(strings.Fields(line)) {
		t.Fatalf("%d deltas, want one per word (%d)", len(deltas), 2*len(strings.Fields(line)))
	}
	if res.GetError() != "" || len(res.GetResults()) != 2 || res.GetResults()[1].GetEvents()[0].GetCommentary().GetText() != line {
		t.Fatalf("result = %v, want both events with the whole line", res)
	}
	if n := c.Server.DroppedDeltas(); n != 2 {
		t.Fatalf("dropped %d deltas, want the 2 for an event not in the batch", n)
	}
}

func TestProcessStreamEmitFromManyGoroutines(t *testing.T) {
	t.Parallel()
	c := sdktest.Start(t, &words{workers: 8}, nil)
	deltas, res := c.ProcessStream([]*sdk.Event{{Id: "a", Match: "m"}})
	if res.GetError() != "" {
		t.Fatal(res.GetError())
	}
	next := map[string]int{} // per goroutine, the next piece expected
	for _, d := range deltas {
		var g, k int
		if _, err := fmt.Sscanf(d.GetText(), "g%d.%d ", &g, &k); err != nil {
			t.Fatalf("delta %q: %v", d.GetText(), err)
		}
		key := fmt.Sprint(g)
		if k != next[key] {
			t.Fatalf("goroutine %d: piece %d arrived when %d was next", g, k, next[key])
		}
		next[key]++
	}
	if len(deltas) != 8*20 {
		t.Fatalf("%d deltas, want all %d", len(deltas), 8*20)
	}
}

func TestProcessStreamEmitAfterReturnIsDropped(t *testing.T) {
	t.Parallel()
	late := make(chan func(sdk.Delta), 1)
	c := sdktest.Start(t, &words{line: "one", late: late}, nil)
	deltas, _ := c.ProcessStream([]*sdk.Event{{Id: "a", Match: "m"}})
	emit := <-late
	emit(sdk.Delta{EventID: "a", Text: "too late"})
	if len(deltas) != 1 || deltas[0].GetText() != "one" {
		t.Fatalf("deltas = %v, want just \"one\"", deltas)
	}
	// The late one went nowhere: it is counted, and the next call
	// does not carry it.
	if n := c.Server.DroppedDeltas(); n != 2 {
		t.Fatalf("dropped %d, want 2 (not in batch, after return)", n)
	}
	deltas, _ = c.ProcessStream([]*sdk.Event{{Id: "a", Match: "m"}})
	<-late
	if len(deltas) != 1 || deltas[0].GetText() != "one" {
		t.Fatalf("second call deltas = %v, want just \"one\"", deltas)
	}
}

func TestProcessStreamPanicFailsTheBatch(t *testing.T) {
	t.Parallel()
	c := sdktest.Start(t, &words{line: "x"}, nil)
	_, res := c.ProcessStream([]*sdk.Event{{Id: "panic", Match: "m"}})
	if !strings.Contains(res.GetError(), "stage panicked: boom") {
		t.Fatalf("result error %q, want the panic", res.GetError())
	}
	if _, res := c.ProcessStream([]*sdk.Event{{Id: "a", Match: "m"}}); res.GetError() != "" {
		t.Fatalf("after the panic: %s", res.GetError())
	}
}

// plain is a stage that does not stream.
type plain struct{}

func (plain) Configure(context.Context, sdk.Config) error { return nil }
func (plain) Process(_ context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	return []*sdk.Event{ev}, nil
}

func TestProcessStreamOnAPlainStage(t *testing.T) {
	t.Parallel()
	c := sdktest.Start(t, plain{}, nil)
	d, err := c.Describe(t.Context(), &pb.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.GetCapabilities()) != 0 {
		t.Fatalf("capabilities = %v, want none", d.GetCapabilities())
	}
	_, err = c.ProcessStreamFunc(t.Context(), []*sdk.Event{{Id: "a"}}, func(*pb.Delta) {})
	if status.Code(err) != codes.Unimplemented && !strings.Contains(err.Error(), "Unimplemented") {
		t.Fatalf("err = %v, want Unimplemented", err)
	}
}

// TestStreamDeltas: on the long-lived stream each batch is answered, in
// order, by its deltas (with its id) and then its result.
func TestStreamDeltas(t *testing.T) {
	t.Parallel()
	c := sdktest.Start(t, &words{line: "in the gap"}, nil)
	stream, err := c.StageClient.StreamDeltas(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []uint64{1, 2} {
		if err := stream.Send(&pb.Batch{Id: id, Events: []*sdk.Event{{Id: fmt.Sprint("e", id), Match: "m"}}}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for len(got) < 8 {
		m, err := stream.Recv()
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		if d := m.GetDelta(); d != nil {
			got = append(got, fmt.Sprintf("%d:%s:%s", d.GetBatchId(), d.GetEventId(), d.GetText()))
		} else {
			got = append(got, fmt.Sprintf("%d:result:%s", m.GetResult().GetId(), m.GetResult().GetResults()[0].GetEvents()[0].GetCommentary().GetText()))
		}
	}
	want := []string{"1:e1:in ", "1:e1:the ", "1:e1:gap", "1:result:in the gap", "2:e2:in ", "2:e2:the ", "2:e2:gap", "2:result:in the gap"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err == nil {
		t.Fatal("the stream goes on after the host closed it")
	}
}
