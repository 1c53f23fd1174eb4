package commentary

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// Two matches' balls are written at once: the model holds match a's
// request until match b's has arrived, so a stage that served one match at
// a time would time a out and fall back.
func TestMatchesWaitForTheModelIndependently(t *testing.T) {
	arrived := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	var once sync.Map
	f := newFakeLLM(t, func(w http.ResponseWriter, r *http.Request, req *openai.ChatCompletionRequest) {
		user := req.Messages[1].Content
		if !strings.Contains(user, "event: ball") {
			completion("Here we go.", "stop")(w, r, req)
			return
		}
		match := "a"
		if strings.Contains(user, "Haris Rauf") {
			match = "b"
		}
		if _, loaded := once.LoadOrStore(match, true); !loaded {
			close(arrived[match])
		}
		if match == "a" {
			select {
			case <-arrived["b"]:
			case <-r.Context().Done():
				return
			}
		}
		completion("A dot ball.", "stop")(w, r, req)
	})
	st := llmStage(t, f, false, "5s")
	if !st.ConcurrentMatches() {
		t.Fatal("the commentary stage does not let the server run matches at once")
	}
	balls := map[string]*pb.Event{}
	for match, bowler := range map[string]string{"a": "MA Wood", "b": "Haris Rauf"} {
		s := newSim(t, st, match)
		b := dot("JC Buttler", bowler)
		b.Innings, b.Over, b.Ball, b.Legal, b.BattingTeam = 1, 0, 1, true, "England"
		ev := &pb.Event{Id: match + "/1.0.1.0", Match: match, Kind: "ball", Ball: b}
		s.sc.apply(ev)
		balls[match] = ev
	}
	var wg sync.WaitGroup
	for _, ev := range balls {
		wg.Go(func() {
			outs, errs := st.ProcessBatch(context.Background(), []*pb.Event{ev})
			if errs != nil && errs[0] != nil {
				t.Errorf("%s: %v", ev.GetMatch(), errs[0])
				return
			}
			if c := outs[0][0].GetCommentary(); c.GetFallback() {
				t.Errorf("match %s: %v, want the model's line (the matches waited for each other)", ev.GetMatch(), c)
			}
		})
	}
	wg.Wait()
	for m, ch := range arrived {
		select {
		case <-ch:
		default:
			t.Errorf("no request of match %s reached the model", m)
		}
	}
}
