package sdk

import (
	"context"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// MaxPendingDeltas is how many deltas of one ProcessStream call may wait
// to be sent to the host. emit never blocks: when the queue is full, a
// delta's text is appended to the last queued delta of the same event
// (nothing is lost, it just arrives in a bigger piece), or dropped when
// none is queued (counted in DroppedDeltas; the event's final output is
// unaffected).
const MaxPendingDeltas = 256

// ProcessStream implements pb.StageServer for a StreamStage: the deltas the
// stage emits while it works on the batch go to the host at once, in the
// order emitted, then the batch's result, which ends the call. A stage that
// does not stream answers Unimplemented.
func (s *Server) ProcessStream(b *pb.Batch, stream pb.Stage_ProcessStreamServer) error {
	ss, ok := s.stage.(StreamStage)
	if !ok {
		return errNoStream
	}
	return s.processStream(stream.Context(), ss, b, stream.Send)
}

// StreamDeltas implements pb.StageServer for a StreamStage: Stream, with
// each batch answered by its deltas (tagged with its id) and then its
// result, on the one long-lived stream. Batches are handled in arrival
// order, or at once for a concurrent stage.
func (s *Server) StreamDeltas(stream pb.Stage_StreamDeltasServer) error {
	ss, ok := s.stage.(StreamStage)
	if !ok {
		return errNoStream
	}
	ctx := stream.Context()
	var sendMu sync.Mutex
	send := func(m *pb.StreamMessage) error {
		sendMu.Lock()
		defer sendMu.Unlock()
		return stream.Send(m)
	}
	return s.serveBatches(stream.Recv, func(b *pb.Batch) error { return s.processStream(ctx, ss, b, send) })
}

var errNoStream = status.Error(codes.Unimplemented, "sdk: this stage does not stream (no ProcessStream)")

// processStream runs one batch through the stage, sending its deltas as
// they come and then its result. send must be safe to call from several
// goroutines when the stage is concurrent.
func (s *Server) processStream(ctx context.Context, ss StreamStage, b *pb.Batch, send func(*pb.StreamMessage) error) error {
	q := newDeltaQueue(b, MaxPendingDeltas, &s.droppedDeltas)
	sent := make(chan error, 1)
	go func() { sent <- q.send(send) }()
	res := s.run(b, func() ([][]*Event, []error) { return ss.ProcessStream(ctx, b.GetEvents(), q.emit) })
	q.close()
	if err := <-sent; err != nil {
		return err
	}
	return send(&pb.StreamMessage{Msg: &pb.StreamMessage_Result{Result: res}})
}

// DroppedDeltas counts deltas dropped since the server started: emitted
// for an event not in the batch, after ProcessStream returned, or while
// the queue was full and held nothing of the same event.
func (s *Server) DroppedDeltas() int64 { return s.droppedDeltas.Load() }

// deltaQueue carries one ProcessStream call's deltas from the stage's
// goroutines to the one goroutine that may Send on the stream.
type deltaQueue struct {
	matches map[string]string // input event ID -> its match
	batch   uint64
	max     int
	wake    chan struct{} // receives when items or closed change

	dropped *atomic.Int64

	mu     sync.Mutex
	items  []*pb.Delta
	closed bool // the stage returned (or the stream broke): emit drops
}

func newDeltaQueue(b *pb.Batch, max int, dropped *atomic.Int64) *deltaQueue {
	q := &deltaQueue{matches: make(map[string]string, len(b.GetEvents())), batch: b.GetId(), max: max, wake: make(chan struct{}, 1), dropped: dropped}
	for _, ev := range b.GetEvents() {
		q.matches[ev.GetId()] = ev.GetMatch()
	}
	return q
}

// emit queues d without blocking. It is the emit func a StreamStage gets.
func (q *deltaQueue) emit(d Delta) {
	if d.Text == "" {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	match, ok := q.matches[d.EventID]
	if q.closed || !ok {
		q.dropped.Add(1)
		return
	}
	if len(q.items) >= q.max {
		for i := len(q.items) - 1; i >= 0; i-- {
			if q.items[i].GetEventId() == d.EventID {
				q.items[i].Text += d.Text
				return
			}
		}
		q.dropped.Add(1)
		return
	}
	// The match is the input event's, whatever the stage wrote.
	q.items = append(q.items, &pb.Delta{EventId: d.EventID, Match: match, Text: d.Text, BatchId: q.batch})
	q.signal()
}

func (q *deltaQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// close stops emit. Deltas already queued are still sent.
func (q *deltaQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// send sends queued deltas until the queue is closed and empty. When a
// send fails (the host went away) it stops emit and returns the error.
func (q *deltaQueue) send(send func(*pb.StreamMessage) error) error {
	for {
		q.mu.Lock()
		items, closed := q.items, q.closed
		q.items = nil
		q.mu.Unlock()
		for _, d := range items {
			if err := send(&pb.StreamMessage{Msg: &pb.StreamMessage_Delta{Delta: d}}); err != nil {
				q.mu.Lock()
				q.closed = true
				q.mu.Unlock()
				return err
			}
		}
		if len(items) > 0 {
			continue
		}
		if closed {
			return nil
		}
		<-q.wake
	}
}
