package commentary

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
	"github.com/ballcast/ballcast/plugins/sdk/sdktest"
)

// deltaLog collects the deltas a ProcessStream call emits, from any
// goroutine.
type deltaLog struct {
	mu     sync.Mutex
	ds     []sdk.Delta
	first  chan struct{} // closed at the first delta
	closed bool
}

func newDeltaLog() *deltaLog { return &deltaLog{first: make(chan struct{})} }

func (l *deltaLog) emit(d sdk.Delta) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ds = append(l.ds, d)
	if !l.closed {
		close(l.first)
		l.closed = true
	}
}

func (l *deltaLog) texts() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, d := range l.ds {
		out = append(out, d.Text)
	}
	return out
}

// held streams the first piece, then waits until release is closed (or
// the request ends) before streaming the rest and the finish reason.
func held(release <-chan struct{}, pieces []string) func(http.ResponseWriter, *http.Request, *openai.ChatCompletionRequest) {
	return func(w http.ResponseWriter, r *http.Request, _ *openai.ChatCompletionRequest) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		chunk := func(content string, finish string) {
			fin := "null"
			if finish != "" {
				fin = jsonString(finish)
			}
			fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{\"content\":%s},\"finish_reason\":%s}]}\n\n",
				fakeModel, jsonString(content), fin)
			fl.Flush()
		}
		chunk(pieces[0], "")
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		for _, p := range pieces[1:] {
			chunk(p, "")
		}
		chunk("", "stop")
		fmt.Fprint(w, "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":300,\"completion_tokens\":12,\"total_tokens\":312}}\n\ndata: [DONE]\n\n")
	}
}

// ballEvent is a four from Buttler off Haris Rauf, scored by s's scorer.
func ballEvent(s *sim, id string) *pb.Event {
	b := aFour()
	b.Innings, b.Over, b.Ball, b.Legal, b.BattingTeam, b.BowlingTeam = 1, 0, 1, true, "England", "Pakistan"
	ev := &pb.Event{Id: id, Match: s.match, Kind: "ball", Ball: b}
	s.sc.apply(ev)
	return ev
}

// The pieces of a streamed reply reach emit while the reply is still being
// written: the server sends the rest only after the test has seen the
// first delta. The final line is the pieces joined.
func TestProcessStreamDeltas(t *testing.T) {
	pieces := []string{"FOUR! ", "Buttler greets ", "Haris Rauf with a boundary."}
	release := newDeltaLog()
	f := newFakeLLM(t, sequence(held(release.first, pieces)))
	st := llmStage(t, f, true, "5s")
	s := newSim(t, st, "m")
	ev := ballEvent(s, "m/1.0.1.0")
	outs, errs := st.ProcessStream(context.Background(), []*pb.Event{ev}, release.emit)
	if errs != nil {
		t.Fatal(errs)
	}
	c := outs[0][0].GetCommentary()
	if c.GetFallback() || c.GetText() != strings.Join(pieces, "") {
		t.Fatalf("final commentary = %v, want the streamed line", c)
	}
	if got := release.texts(); strings.Join(got, "|") != strings.Join(pieces, "|") {
		t.Errorf("deltas %q, want %q", got, pieces)
	}
	release.mu.Lock()
	defer release.mu.Unlock()
	for _, d := range release.ds {
		if d.EventID != "m/1.0.1.0" || d.Match != "m" {
			t.Errorf("delta %+v, want event m/1.0.1.0 of match m", d)
		}
	}
	if cs := st.Counters(); cs.Tokens < 312 {
		t.Errorf("tokens %d, want the streamed usage (312) counted", cs.Tokens)
	}
}

// Deltas are provisional: when the finished line fails the grounding check
// or the stream breaks, the final line is the template's.
func TestProcessStreamReplaced(t *testing.T) {
	tests := []struct {
		name   string
		reply  func(http.ResponseWriter, *http.Request, *openai.ChatCompletionRequest)
		deltas []string
		reason string
	}{
		{"ungrounded name", stream([]string{"Buttler drives ", "Haris Rauf past Shadab Khan."}, "stop", true),
			[]string{"Buttler drives ", "Haris Rauf past Shadab Khan."}, "ungrounded name"},
		{"ungrounded number", stream([]string{"Buttler's ", "9th four."}, "stop", true), []string{"Buttler's ", "9th four."}, "ungrounded number"},
		{"cut mid-stream", cut("text/event-stream", "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"FOUR!\"}}]}\n\ndata: {\"id\""),
			[]string{"FOUR!"}, "bad response"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeLLM(t, sequence(tc.reply))
			st := llmStage(t, f, true, "5s", noRetries)
			s := newSim(t, st, "m")
			log := newDeltaLog()
			outs, _ := st.ProcessStream(context.Background(), []*pb.Event{ballEvent(s, "m/1.0.1.0")}, log.emit)
			c := outs[0][0].GetCommentary()
			if !c.GetFallback() || c.GetReason() != tc.reason {
				t.Fatalf("final commentary = %v, want the template line for %q", c, tc.reason)
			}
			mustContain(t, c.GetText(), "Buttler", "Haris Rauf")
			if got := log.texts(); strings.Join(got, "|") != strings.Join(tc.deltas, "|") {
				t.Errorf("deltas %q, want %q", got, tc.deltas)
			}
		})
	}
}

// A 429 answered before any text is retried; the retry's pieces are
// emitted once.
func TestProcessStreamRetry(t *testing.T) {
	pieces := []string{"Buttler ", "takes four ", "off Haris Rauf."}
	f := newFakeLLM(t, sequence(status(429, `{"error":{"message":"slow down"}}`), stream(pieces, "stop", true)))
	st := llmStage(t, f, true, "5s")
	s := newSim(t, st, "m")
	log := newDeltaLog()
	outs, _ := st.ProcessStream(context.Background(), []*pb.Event{ballEvent(s, "m/1.0.1.0")}, log.emit)
	if c := outs[0][0].GetCommentary(); c.GetFallback() || c.GetText() != strings.Join(pieces, "") {
		t.Fatalf("final commentary = %v, want the retried stream's line", c)
	}
	if got := log.texts(); strings.Join(got, "|") != strings.Join(pieces, "|") {
		t.Errorf("deltas %q, want each piece once: %q", got, pieces)
	}
}

// Without llm.stream, or through ProcessBatch, nothing is emitted; the
// template engine emits nothing either.
func TestProcessStreamQuiet(t *testing.T) {
	f := newFakeLLM(t, sequence(completion("Buttler takes four off Haris Rauf.", "stop")))
	for _, st := range []*Stage{llmStage(t, f, false, "5s"), newTestStage(t)} {
		s := newSim(t, st, "m")
		log := newDeltaLog()
		outs, errs := st.ProcessStream(context.Background(), []*pb.Event{ballEvent(s, "m/1.0.1.0")}, log.emit)
		if errs != nil || outs[0][0].GetCommentary().GetText() == "" {
			t.Fatalf("ProcessStream = %v, %v", outs, errs)
		}
		if got := log.texts(); len(got) != 0 {
			t.Errorf("deltas %q, want none", got)
		}
	}
}

// Over the plugin protocol (the SDK's gRPC server, in memory): the deltas
// reach the host while the model is still writing, before the batch's
// result, which carries the finished line.
func TestProcessStreamOverGRPC(t *testing.T) {
	pieces := []string{"FOUR! ", "Buttler greets ", "Haris Rauf with a boundary."}
	first := make(chan struct{})
	f := newFakeLLM(t, sequence(held(first, pieces)))
	client := sdktest.Start(t, New(), map[string]any{"llm": map[string]any{"base_url": f.srv.URL + "/v1", "stream": true, "timeout": "5s"}})
	s := newSim(t, newTestStage(t), "m") // only its scorer is used
	ev := ballEvent(s, "m/1.0.1.0")
	var got []string
	var once sync.Once
	res, err := client.ProcessStreamFunc(context.Background(), []*pb.Event{ev}, func(d *pb.Delta) {
		if d.GetEventId() != "m/1.0.1.0" || d.GetMatch() != "m" {
			t.Errorf("delta %v, want event m/1.0.1.0 of match m", d)
		}
		got = append(got, d.GetText())
		once.Do(func() { close(first) }) // only now does the server finish the reply
	})
	if err != nil {
		t.Fatal(err)
	}
	c := res.GetResults()[0].GetEvents()[0].GetCommentary()
	if c.GetFallback() || c.GetText() != strings.Join(pieces, "") {
		t.Fatalf("final commentary = %v, want the streamed line", c)
	}
	if strings.Join(got, "|") != strings.Join(pieces, "|") {
		t.Errorf("deltas %q, want %q", got, pieces)
	}
}
