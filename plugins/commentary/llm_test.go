package commentary

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// fakeLLM is an OpenAI-compatible server: POST /v1/chat/completions,
// answered by reply, which may write JSON, an SSE stream or an error.
type fakeLLM struct {
	srv     *httptest.Server
	release chan struct{} // closed when the test ends: frees blocked handlers
	reply   func(w http.ResponseWriter, r *http.Request, req *openai.ChatCompletionRequest)

	mu   sync.Mutex
	reqs []openai.ChatCompletionRequest
	auth []string
}

func newFakeLLM(t *testing.T, reply func(w http.ResponseWriter, r *http.Request, req *openai.ChatCompletionRequest)) *fakeLLM {
	t.Helper()
	f := &fakeLLM{release: make(chan struct{}), reply: reply}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
			return
		}
		var req openai.ChatCompletionRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, req)
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		f.reply(w, r, &req)
	}))
	t.Cleanup(func() {
		close(f.release)
		f.srv.Close()
	})
	return f
}

func (f *fakeLLM) requests() []openai.ChatCompletionRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]openai.ChatCompletionRequest(nil), f.reqs...)
}

const fakeModel = "fake-model-2026"

// completion answers with one non-streamed choice.
func completion(text, finish string) func(http.ResponseWriter, *http.Request, *openai.ChatCompletionRequest) {
	return func(w http.ResponseWriter, _ *http.Request, _ *openai.ChatCompletionRequest) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c1","object":"chat.completion","model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":%s},"finish_reason":%q}]}`,
			fakeModel, jsonString(text), finish)
	}
}

// stream answers with SSE chunks, one per piece of text, then a chunk with
// finish (unless empty), then [DONE] (if done).
func stream(pieces []string, finish string, done bool) func(http.ResponseWriter, *http.Request, *openai.ChatCompletionRequest) {
	return func(w http.ResponseWriter, _ *http.Request, _ *openai.ChatCompletionRequest) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for _, p := range pieces {
			fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{\"content\":%s},\"finish_reason\":null}]}\n\n", fakeModel, jsonString(p))
			fl.Flush()
		}
		if finish != "" {
			fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":%q}]}\n\n", fakeModel, finish)
		}
		if done {
			fmt.Fprint(w, "data: [DONE]\n\n")
		}
	}
}

func jsonString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func status(code int, body string) func(http.ResponseWriter, *http.Request, *openai.ChatCompletionRequest) {
	return func(w http.ResponseWriter, _ *http.Request, _ *openai.ChatCompletionRequest) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

func raw(contentType, body string) func(http.ResponseWriter, *http.Request, *openai.ChatCompletionRequest) {
	return func(w http.ResponseWriter, _ *http.Request, _ *openai.ChatCompletionRequest) {
		w.Header().Set("Content-Type", contentType)
		io.WriteString(w, body)
	}
}

// cut promises a longer body than it writes, so the client reads an
// unexpected EOF mid-body.
func cut(contentType, body string) func(http.ResponseWriter, *http.Request, *openai.ChatCompletionRequest) {
	return func(w http.ResponseWriter, _ *http.Request, _ *openai.ChatCompletionRequest) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", fmt.Sprint(len(body)+1000))
		io.WriteString(w, body)
	}
}

// llmStage returns a stage configured against f; extra keys are added to
// its llm config.
func llmStage(t *testing.T, f *fakeLLM, streamed bool, timeout string, extra ...map[string]any) *Stage {
	t.Helper()
	st := New()
	lc := map[string]any{
		"base_url": f.srv.URL + "/v1", "model": "configured-model", "timeout": timeout, "stream": streamed,
		"api_key_env": "BALLCAST_TEST_COMMENTARY_KEY",
	}
	for _, e := range extra {
		for k, v := range e {
			lc[k] = v
		}
	}
	cfg := map[string]any{"llm": lc, "persona": "analyst", "persona_prompt": "a calm radio voice", "language": "en-GB"}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Configure(context.Background(), sdk.NewConfig("commentary", b)); err != nil {
		t.Fatal(err)
	}
	return st
}

var noRetries = map[string]any{"retries": 0}

// aFour is Buttler hitting Haris Rauf for four, the first ball of a match.
func aFour() *pb.Ball { return runs("JC Buttler", "Haris Rauf", 4) }

func TestLLMReply(t *testing.T) {
	const line = "FOUR! Buttler greets Haris Rauf with a boundary, England 4/0."
	for _, streamed := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", streamed), func(t *testing.T) {
			t.Setenv("BALLCAST_TEST_COMMENTARY_KEY", "sk-test-secret-123")
			reply := completion(line, "stop")
			if streamed {
				reply = stream([]string{"FOUR! Buttler greets ", "Haris Rauf with a boundary, ", "England 4/0."}, "stop", true)
			}
			f := newFakeLLM(t, reply)
			st := llmStage(t, f, streamed, "2s")
			s := newSim(t, st, "m")
			c := s.bowlC(aFour())
			if c.GetText() != line || c.GetFallback() || c.GetReason() != "" {
				t.Fatalf("commentary = %v, want the model's line without fallback", c)
			}
			if c.GetModel() != fakeModel || c.GetPersona() != "analyst" || c.GetLanguage() != "en-GB" || c.GetLatencyNanos() <= 0 {
				t.Errorf("commentary = %v, want model %s, persona analyst, language en-GB, latency", c, fakeModel)
			}
			reqs := f.requests()
			// innings start and the ball
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			req := reqs[1]
			//lint:ignore SA1019 the stage sends max_tokens on purpose
			maxTokens := req.MaxTokens
			if req.Model != "configured-model" || maxTokens != 80 || req.Stream != streamed || req.Temperature != 0.8 {
				t.Errorf("request model %q max_tokens %d stream %v temperature %v", req.Model, maxTokens, req.Stream, req.Temperature)
			}
			if len(req.Messages) != 2 || req.Messages[0].Role != "system" || req.Messages[1].Role != "user" {
				t.Fatalf("messages = %+v, want system and user", req.Messages)
			}
			mustContain(t, req.Messages[0].Content, "a calm radio voice", "one line", "English", "en-GB")
			mustContain(t, req.Messages[1].Content, "bowler: Haris Rauf", "batter on strike: Buttler", "FOUR", "4 runs",
				"England 4/0", "runs from this ball: 4")
			if a := f.auth[1]; a != "Bearer sk-test-secret-123" {
				t.Errorf("Authorization = %q, want the key from the environment", a)
			}
			for _, s := range []string{req.Messages[0].Content, req.Messages[1].Content, c.String()} {
				if strings.Contains(s, "sk-test-secret") {
					t.Errorf("API key leaked into %q", s)
				}
			}
		})
	}
}

func TestLLMFallback(t *testing.T) {
	long := strings.Repeat("x", maxReplyBytes+10)
	tests := []struct {
		name   string
		stream bool
		reply  func(http.ResponseWriter, *http.Request, *openai.ChatCompletionRequest)
		reason string
	}{
		{"500", false, status(500, `{"error":{"message":"boom","type":"server_error"}}`), "http 500"},
		{"500 stream", true, status(500, `{"error":{"message":"boom","type":"server_error"}}`), "http 500"},
		{"429", false, status(429, `{"error":{"message":"slow down","type":"rate_limit"}}`), "http 429"},
		{"429 stream", true, status(429, `{"error":{"message":"slow down","type":"rate_limit"}}`), "http 429"},
		{"502 html", false, status(502, `<html>bad gateway</html>`), "http 502"},
		{"garbage json", false, raw("application/json", `{"choices": [ this is not json`), "bad response"},
		{"garbage json stream", true, raw("text/event-stream", "data: {not json}\n\n"), "bad response"},
		{"error in stream", true, raw("text/event-stream", "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n"), "api error"},
		{"empty choices", false, raw("application/json", `{"id":"c1","model":"m","choices":[]}`), "no choices"},
		{"empty choices stream", true, raw("text/event-stream", "data: {\"id\":\"c1\",\"choices\":[]}\n\ndata: [DONE]\n\n"), "stream incomplete"},
		{"stream without finish_reason", true, stream([]string{"FOUR! Buttler off Haris Rauf."}, "", true), "stream incomplete"},
		{"stream ends without [DONE] or finish_reason", true, stream([]string{"FOUR! Buttler off Haris Rauf."}, "", false), "stream incomplete"},
		{"stream cut mid-body", true, cut("text/event-stream", "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"FOUR!\"}}]}\n\ndata: {\"id\""), "bad response"},
		{"body cut mid-body", false, cut("application/json", `{"id":"c1","choices":[{"index":0,"message":{"content":"FO`), "bad response"},
		{"empty reply", false, completion("   ", "stop"), "empty reply"},
		{"garbage reply", false, completion("!!! ??? ...", "stop"), "garbage reply"},
		{"control characters", false, completion("Buttler \x00\x01 four", "stop"), "garbage reply"},
		{"too long", false, completion(strings.Repeat("Buttler hits Haris Rauf for four. ", 10), "stop"), "too long"},
		{"truncated", false, completion("Buttler hits Haris Rauf for", "length"), "truncated"},
		{"content filter", true, stream([]string{"Buttler"}, "content_filter", true), "content filter"},
		{"ungrounded number", false, completion("Buttler hits Haris Rauf for four, his 17th boundary.", "stop"), "ungrounded number"},
		{"ungrounded number word", false, completion("Buttler hits Haris Rauf for four, his seventh of the day.", "stop"), "ungrounded number"},
		{"invented first name", false, completion("Jos Buttler hits Haris Rauf for four.", "stop"), "ungrounded name"},
		{"invented fielder", true, stream([]string{"Buttler drives Haris Rauf past ", "Shadab Khan for four."}, "stop", true), "ungrounded name"},
		{"huge body", false, raw("application/json", `{"id":"c1","choices":[{"index":0,"message":{"content":"`+long+`"},"finish_reason":"stop"}]}`), "reply too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeLLM(t, tc.reply)
			st := llmStage(t, f, tc.stream, "5s", noRetries)
			s := newSim(t, st, "m")
			c := s.bowlC(aFour())
			if !c.GetFallback() || c.GetReason() != tc.reason {
				t.Fatalf("commentary = %v, want fallback with reason %q", c, tc.reason)
			}
			mustContain(t, c.GetText(), "Buttler", "Haris Rauf")
			if c.GetModel() != "" || c.GetLanguage() != "en" || c.GetPersona() != "analyst" {
				t.Errorf("fallback commentary = %v, want no model, language en, persona analyst", c)
			}
		})
	}
}

func TestLLMTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, streamed := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", streamed), func(t *testing.T) {
			var f *fakeLLM
			f = newFakeLLM(t, func(w http.ResponseWriter, r *http.Request, _ *openai.ChatCompletionRequest) {
				if streamed { // headers and one piece, then nothing more
					w.Header().Set("Content-Type", "text/event-stream")
					fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"FOUR\"}}]}\n\n")
					w.(http.Flusher).Flush()
				}
				select {
				case <-r.Context().Done():
				case <-f.release:
				}
			})
			st := llmStage(t, f, streamed, timeout.String())
			s := newSim(t, st, "m") // its innings-start line times out too
			start := time.Now()
			c := s.bowlC(aFour())
			elapsed := time.Since(start)
			if !c.GetFallback() || c.GetReason() != "timeout" {
				t.Fatalf("commentary = %v, want fallback for timeout", c)
			}
			mustContain(t, c.GetText(), "Buttler", "Haris Rauf")
			if elapsed < timeout || elapsed > timeout+2*time.Second {
				t.Errorf("fallback after %v, want between %v and %v", elapsed, timeout, timeout+2*time.Second)
			}
			if c.GetLatencyNanos() < int64(timeout) {
				t.Errorf("latency %v, want at least the timeout", time.Duration(c.GetLatencyNanos()))
			}
		})
	}
}

// The model repeating itself within an innings is caught: the template
// stands in.
func TestLLMRepeat(t *testing.T) {
	f := newFakeLLM(t, func(w http.ResponseWriter, r *http.Request, req *openai.ChatCompletionRequest) {
		line := "England will bat first."
		if strings.Contains(req.Messages[1].Content, "event: ball") {
			line = "Buttler and Haris Rauf, what a contest."
		}
		completion(line, "stop")(w, r, req)
	})
	s := newSim(t, llmStage(t, f, false, "2s"), "m")
	first := s.bowlC(dot("JC Buttler", "Haris Rauf"))
	second := s.bowlC(dot("JC Buttler", "Haris Rauf"))
	if first.GetFallback() || !second.GetFallback() || second.GetReason() != "repeat" {
		t.Fatalf("first %v, second %v: want the second to fall back for a repeat", first, second)
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		name    string
		cfg     string
		env     string // value of BALLCAST_TEST_COMMENTARY_KEY
		wantLLM bool
		errs    []string
	}{
		{name: "empty", cfg: `{"llm":{"api_key_env":"BALLCAST_TEST_COMMENTARY_KEY"}}`},
		{name: "key in env", cfg: `{"llm":{"api_key_env":"BALLCAST_TEST_COMMENTARY_KEY"}}`, env: "k", wantLLM: true},
		{name: "base url", cfg: `{"llm":{"base_url":"http://localhost:1/v1","api_key_env":"BALLCAST_TEST_COMMENTARY_KEY"}}`, wantLLM: true},
		{name: "disabled", cfg: `{"llm":{"enabled":false,"base_url":"http://localhost:1/v1"}}`, env: "k"},
		{name: "null", cfg: `null`, wantLLM: false},
		{name: "unknown key", cfg: `{"llm":{"base_ur":"x"}}`, errs: []string{"base_ur"}},
		{name: "bad duration", cfg: `{"llm":{"timeout":"soon"}}`, errs: []string{"duration"}},
		{name: "every problem", cfg: `{"persona":"shouty","llm":{"base_url":"ftp://x","timeout":"-1s","max_tokens":-3,"temperature":5,"retries":9,"max_concurrency":-1,"match_token_budget":-5}}`,
			errs: []string{"base_url", "timeout", "max_tokens", "temperature", "persona \"shouty\"", "retries", "max_concurrency", "match_token_budget"}},
		{name: "personas", cfg: `{"persona":"minimalist","language":"hi","llm":{"enabled":false}}`},
		{name: "azure without base url", cfg: `{"llm":{"api_type":"azure"}}`, errs: []string{"base_url"}},
		{name: "unknown api type", cfg: `{"llm":{"api_type":"anthropic","base_url":"http://x/v1"}}`, errs: []string{"api_type"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("BALLCAST_TEST_COMMENTARY_KEY", tc.env)
			t.Setenv("OPENAI_API_KEY", "")
			st := New()
			err := st.Configure(context.Background(), sdk.NewConfig("commentary", []byte(tc.cfg)))
			if len(tc.errs) == 0 && err != nil {
				t.Fatalf("Configure: %v", err)
			}
			for _, e := range tc.errs {
				if err == nil || !strings.Contains(err.Error(), e) || !strings.HasPrefix(err.Error(), "commentary: ") {
					t.Errorf("Configure error %v, want one mentioning %q", err, e)
				}
			}
			if len(tc.errs) == 0 && (st.llm != nil) != tc.wantLLM {
				t.Errorf("LLM enabled = %v, want %v", st.llm != nil, tc.wantLLM)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	d := New().Describe()
	if d.Name != "commentary" || d.Version == "" {
		t.Fatalf("Describe = %+v", d)
	}
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal([]byte(d.ConfigSchema), &schema); err != nil {
		t.Fatalf("config schema: %v", err)
	}
	for _, k := range []string{"llm", "language", "persona", "persona_prompt", "check_templates"} {
		if _, ok := schema.Properties[k]; !ok {
			t.Errorf("config schema lacks %q", k)
		}
	}
	var llmSchema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(schema.Properties["llm"], &llmSchema); err != nil {
		t.Fatal(err)
	}
	cfgJSON, _ := json.Marshal(LLMConfig{Enabled: new(bool), BaseURL: "x", Model: "x", APIType: "x", APIVersion: "x", APIKeyEnv: "x", Timeout: 1, Stream: true, MaxTokens: 1,
		Temperature: new(float64), Retries: new(int), MaxConcurrency: 1, MatchTokenBudget: 1})
	var keys map[string]any
	json.Unmarshal(cfgJSON, &keys)
	for k := range keys {
		if _, ok := llmSchema.Properties[k]; !ok {
			t.Errorf("config schema lacks llm.%s", k)
		}
	}
}

// A failing service is left alone for a while, counted in events, then
// tried again; one success resets the breaker.
func TestLLMBreaker(t *testing.T) {
	var mu sync.Mutex
	down := true
	f := newFakeLLM(t, func(w http.ResponseWriter, r *http.Request, req *openai.ChatCompletionRequest) {
		mu.Lock()
		d := down
		mu.Unlock()
		if d {
			status(503, `{"error":{"message":"down"}}`)(w, r, req)
			return
		}
		completion("Buttler stays watchful against Haris Rauf.", "stop")(w, r, req)
	})
	s := newSim(t, llmStage(t, f, false, "2s", noRetries), "m") // innings start: failure 1
	var reasons []string
	for range 2 + breakerMinSkip + 1 + 2*breakerMinSkip {
		reasons = append(reasons, s.bowlC(dot("JC Buttler", "Haris Rauf")).GetReason())
	}
	want := []string{"http 503", "http 503"} // failures 2 and 3: trips
	for range breakerMinSkip {
		want = append(want, reasonSkipped)
	}
	want = append(want, "http 503") // the probe fails: trips again, for twice as long
	for range 2 * breakerMinSkip {
		want = append(want, reasonSkipped)
	}
	if strings.Join(reasons, ",") != strings.Join(want, ",") {
		t.Fatalf("reasons\n got %q\nwant %q", reasons, want)
	}
	if n := len(f.requests()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	if c := s.bowlC(dot("JC Buttler", "Haris Rauf")); c.GetFallback() {
		t.Fatalf("after recovery: %v, want the model's line", c)
	}
}

// The LLM requests of a batch run concurrently: the fake server answers
// none until all four have arrived, so one-at-a-time requests would time
// out.
func TestLLMBatchConcurrent(t *testing.T) {
	const n = 4
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	f := newFakeLLM(t, func(w http.ResponseWriter, r *http.Request, req *openai.ChatCompletionRequest) {
		user := req.Messages[1].Content
		if !strings.Contains(user, "event: ball") {
			completion("Here we go.", "stop")(w, r, req)
			return
		}
		mu.Lock()
		if arrived++; arrived == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-r.Context().Done():
			return
		}
		i := strings.Index(user, "event: ball ")
		over := strings.Fields(user[i+len("event: ball "):])[0]
		completion("Ball "+over+": Buttler against Haris Rauf.", "stop")(w, r, req)
	})
	st := llmStage(t, f, false, "3s")
	s := newSim(t, st, "m")
	var batch []*pb.Event
	for i := range n {
		b := dot("JC Buttler", "Haris Rauf")
		b.Innings, b.Over, b.Ball, b.Legal, b.BattingTeam = 1, 0, int32(i+1), true, "England"
		ev := &pb.Event{Id: fmt.Sprintf("m/1.0.%d.0", i+1), Match: "m", Kind: "ball", Ball: b}
		s.sc.apply(ev)
		batch = append(batch, ev)
	}
	outs, errs := st.ProcessBatch(context.Background(), batch)
	if errs != nil {
		t.Fatalf("errors: %v", errs)
	}
	for i, out := range outs {
		c := out[0].GetCommentary()
		want := fmt.Sprintf("Ball 0.%d: Buttler against Haris Rauf.", i+1)
		if c.GetFallback() || c.GetText() != want {
			t.Errorf("event %d: %v, want %q from the model", i, c, want)
		}
	}
}

// The caller's deadline (the pipeline's per-batch timeout) wins over a
// longer llm.timeout, with a margin to return the template line in time.
func TestLLMCallerDeadline(t *testing.T) {
	var f *fakeLLM
	f = newFakeLLM(t, func(w http.ResponseWriter, r *http.Request, _ *openai.ChatCompletionRequest) {
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
	})
	st := llmStage(t, f, false, "1m")
	b := aFour()
	b.Innings, b.Ball, b.Legal = 1, 1, true
	ev := &pb.Event{Id: "m/1.0.1.0", Match: "m", Kind: "ball", Ball: b}
	const deadline = 400 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	out, err := st.Process(ctx, ev)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if c := out[0].GetCommentary(); !c.GetFallback() || c.GetReason() != "timeout" {
		t.Fatalf("commentary = %v, want a timeout fallback", c)
	}
	if elapsed > deadline+2*time.Second { // the caller's deadline, not the minute of llm.timeout
		t.Errorf("returned after %v, want about the caller's deadline %v", elapsed, deadline)
	}
}

// sequence answers the ball requests with replies in turn (the last one
// for ever after), and other requests (innings start) with a plain line.
func sequence(replies ...func(http.ResponseWriter, *http.Request, *openai.ChatCompletionRequest)) func(http.ResponseWriter, *http.Request, *openai.ChatCompletionRequest) {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, r *http.Request, req *openai.ChatCompletionRequest) {
		if !strings.Contains(req.Messages[1].Content, "event: ball") {
			completion("Here we go.", "stop")(w, r, req)
			return
		}
		mu.Lock()
		i := min(n, len(replies)-1)
		n++
		mu.Unlock()
		replies[i](w, r, req)
	}
}

func withHeader(k, v string, h func(http.ResponseWriter, *http.Request, *openai.ChatCompletionRequest)) func(http.ResponseWriter, *http.Request, *openai.ChatCompletionRequest) {
	return func(w http.ResponseWriter, r *http.Request, req *openai.ChatCompletionRequest) {
		w.Header().Set(k, v)
		h(w, r, req)
	}
}

// ballRequests counts the requests for balls.
func ballRequests(f *fakeLLM) int {
	n := 0
	for _, r := range f.requests() {
		if strings.Contains(r.Messages[1].Content, "event: ball") {
			n++
		}
	}
	return n
}

// 429 and 5xx are retried with backoff, honouring a small Retry-After,
// within the deadline; other failures and a long Retry-After are not.
func TestLLMRetry(t *testing.T) {
	const good = "Buttler takes four off Haris Rauf."
	busy := status(429, `{"error":{"message":"slow down","type":"rate_limit"}}`)
	down := status(503, `{"error":{"message":"down"}}`)
	tests := []struct {
		name     string
		streamed bool
		reply    func(http.ResponseWriter, *http.Request, *openai.ChatCompletionRequest)
		timeout  string
		text     string // the line, or "" for a fallback
		reason   string
		requests int
		within   time.Duration
	}{
		{"429 then ok", false, sequence(busy, completion(good, "stop")), "5s", good, "", 2, 2 * time.Second},
		{"503 twice then ok, streamed", true, sequence(down, down, stream([]string{good}, "stop", true)), "5s", good, "", 3, 2 * time.Second},
		{"small Retry-After honoured", false, sequence(withHeader("Retry-After", "0.05", busy), completion(good, "stop")), "5s", good, "", 2, 2 * time.Second},
		{"retry-after-ms honoured", false, sequence(withHeader("Retry-After-Ms", "20", busy), completion(good, "stop")), "5s", good, "", 2, 2 * time.Second},
		{"long Retry-After not waited for", false, sequence(withHeader("Retry-After", "30", busy), completion(good, "stop")), "5s", "", "http 429", 1, 2 * time.Second},
		{"retries exhausted", false, sequence(down), "5s", "", "http 503", 3, 3 * time.Second},
		{"400 not retried", false, sequence(status(400, `{"error":{"message":"bad"}}`), completion(good, "stop")), "5s", "", "http 400", 1, 2 * time.Second},
		{"garbage not retried", false, sequence(raw("application/json", "{not json"), completion(good, "stop")), "5s", "", "bad response", 1, 2 * time.Second},
		// 100 ms, then 200 ms of backoff would pass the 250 ms deadline: no third attempt.
		{"no retry past the deadline", false, sequence(down), "250ms", "", "http 503", 2, 250*time.Millisecond + 2*time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeLLM(t, tc.reply)
			s := newSim(t, llmStage(t, f, tc.streamed, tc.timeout, map[string]any{"retries": 2}), "m")
			start := time.Now()
			c := s.bowlC(aFour())
			elapsed := time.Since(start)
			if tc.text != "" && (c.GetText() != tc.text || c.GetFallback()) {
				t.Errorf("commentary = %v, want the model's line %q", c, tc.text)
			}
			if tc.text == "" && (!c.GetFallback() || c.GetReason() != tc.reason) {
				t.Errorf("commentary = %v, want a fallback for %q", c, tc.reason)
			}
			if n := ballRequests(f); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			if elapsed > tc.within {
				t.Errorf("took %v, want at most %v", elapsed, tc.within)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC)
	tests := []struct {
		h    http.Header
		want time.Duration
		ok   bool
	}{
		{http.Header{"Retry-After": {"2"}}, 2 * time.Second, true},
		{http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond, true},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, 250 * time.Millisecond, true},
		{http.Header{"Retry-After": {now.Add(3 * time.Second).Format(http.TimeFormat)}}, 3 * time.Second, true},
		{http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0, true},
		{http.Header{"Retry-After": {"soon"}}, 0, false},
		{http.Header{"Retry-After": {"-3"}}, 0, false},
		{http.Header{}, 0, false},
	}
	for _, tc := range tests {
		got, ok := parseRetryAfter(tc.h, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%v) = %v, %v; want %v, %v", tc.h, got, ok, tc.want, tc.ok)
		}
	}
}

// usage answers with a line and a usage report of total tokens (none when
// total is 0).
func usage(text string, total int) func(http.ResponseWriter, *http.Request, *openai.ChatCompletionRequest) {
	return func(w http.ResponseWriter, _ *http.Request, _ *openai.ChatCompletionRequest) {
		w.Header().Set("Content-Type", "application/json")
		u := ""
		if total > 0 {
			u = fmt.Sprintf(`,"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}`, total-20, 20, total)
		}
		fmt.Fprintf(w, `{"id":"c1","model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":%s},"finish_reason":"stop"}]%s}`,
			fakeModel, jsonString(text), u)
	}
}

// The match's token budget stops the requests when it has no room left for
// one more; the rest of the match falls back with reason "budget". Tokens
// are what the server reports, or an estimate when it reports none.
func TestLLMBudget(t *testing.T) {
	for _, tc := range []struct {
		name   string
		total  int // tokens reported a request; 0: none
		budget int
	}{
		{"reported usage", 600, 2000},
		{"estimated usage", 0, 1500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			var mu sync.Mutex
			f := newFakeLLM(t, func(w http.ResponseWriter, r *http.Request, req *openai.ChatCompletionRequest) {
				mu.Lock()
				n++
				line := fmt.Sprintf("Line %s: Buttler and Haris Rauf.", strings.Repeat("I", n))
				mu.Unlock()
				usage(line, tc.total)(w, r, req)
			})
			st := llmStage(t, f, false, "2s", map[string]any{"match_token_budget": tc.budget})
			s := newSim(t, st, "m")
			var reasons []string
			for range 6 {
				reasons = append(reasons, s.bowlC(dot("JC Buttler", "Haris Rauf")).GetReason())
			}
			made := len(f.requests())
			cs := st.Counters()
			if cs.Requests != int64(made) || cs.Fallbacks[reasonBudget] == 0 {
				t.Fatalf("counters %+v after %d requests, want budget fallbacks", cs, made)
			}
			// Once the budget refuses, it refuses for the rest of the match.
			first := -1
			for i, r := range reasons {
				if r == reasonBudget && first < 0 {
					first = i
				}
				if first >= 0 && r != reasonBudget {
					t.Errorf("reasons %q: a request after the budget ran out", reasons)
				}
			}
			if first < 0 {
				t.Fatalf("reasons %q: the budget never ran out", reasons)
			}
			if tc.total > 0 && cs.Tokens != int64(tc.total*made) {
				t.Errorf("tokens %d, want %d reported by %d requests", cs.Tokens, tc.total*made, made)
			}
			if tc.total == 0 && (cs.Tokens <= 0 || cs.Tokens > int64(tc.budget)) {
				t.Errorf("estimated tokens %d, want more than 0 and within the budget %d", cs.Tokens, tc.budget)
			}
			t.Logf("budget %d: %d requests, %d tokens, reasons %q", tc.budget, made, cs.Tokens, reasons)
		})
	}
}

// At most llm.max_concurrency requests are in flight: the fake server holds
// each request until that many have arrived, so fewer would time out, and
// records the most it ever saw at once.
func TestLLMConcurrencyBound(t *testing.T) {
	const limit, n = 2, 6
	var mu sync.Mutex
	inflight, most := 0, 0
	gate := make(chan struct{})
	f := newFakeLLM(t, func(w http.ResponseWriter, r *http.Request, req *openai.ChatCompletionRequest) {
		user := req.Messages[1].Content
		if !strings.Contains(user, "event: ball") {
			completion("Here we go.", "stop")(w, r, req)
			return
		}
		mu.Lock()
		inflight++
		most = max(most, inflight)
		g := gate
		if inflight == limit {
			close(gate)
			gate = make(chan struct{})
		}
		mu.Unlock()
		select {
		case <-g:
		case <-r.Context().Done():
		}
		i := strings.Index(user, "event: ball ")
		over := strings.Fields(user[i+len("event: ball "):])[0]
		mu.Lock()
		inflight--
		mu.Unlock()
		completion("Ball "+over+": Buttler against Haris Rauf.", "stop")(w, r, req)
	})
	st := llmStage(t, f, false, "3s", map[string]any{"max_concurrency": limit})
	s := newSim(t, st, "m")
	var batch []*pb.Event
	for i := range n {
		b := dot("JC Buttler", "Haris Rauf")
		b.Innings, b.Over, b.Ball, b.Legal, b.BattingTeam = 1, 0, int32(i+1), true, "England"
		ev := &pb.Event{Id: fmt.Sprintf("m/1.0.%d.0", i+1), Match: "m", Kind: "ball", Ball: b}
		s.sc.apply(ev)
		batch = append(batch, ev)
	}
	outs, _ := st.ProcessBatch(context.Background(), batch)
	for i, out := range outs {
		if c := out[0].GetCommentary(); c.GetFallback() {
			t.Errorf("event %d: %v, want the model's line", i, c)
		}
	}
	mu.Lock() // the handlers' goroutines wrote it
	defer mu.Unlock()
	if most != limit {
		t.Errorf("at most %d requests in flight, want %d", most, limit)
	}
}

// language: hi asks the model for Hindi with names as given, marks its line
// "hi", and falls back to the Hindi template line.
func TestLLMHindi(t *testing.T) {
	const hindi = "Haris Rauf की गेंद पर Buttler का चौका!"
	f := newFakeLLM(t, sequence(completion(hindi, "stop"), status(500, `{"error":{"message":"boom"}}`)))
	st := New()
	cfg := fmt.Sprintf(`{"language":"hi","persona":"excitable","llm":{"base_url":%q,"retries":0}}`, f.srv.URL+"/v1")
	if err := st.Configure(context.Background(), sdk.NewConfig("commentary", []byte(cfg))); err != nil {
		t.Fatal(err)
	}
	s := newSim(t, st, "m")
	c := s.bowlC(aFour())
	if c.GetText() != hindi || c.GetLanguage() != "hi" || c.GetPersona() != "excitable" || c.GetFallback() {
		t.Errorf("commentary = %v, want the model's Hindi line", c)
	}
	sys := f.requests()[1].Messages[0].Content
	mustContain(t, sys, "Hindi", "Devanagari", "names exactly as the facts write them", "Latin script", "excitable")
	fb := s.bowlC(runs("JC Buttler", "Haris Rauf", 1))
	if !fb.GetFallback() || fb.GetLanguage() != "hi" || !strings.ContainsAny(fb.GetText(), "रनएक") {
		t.Errorf("fallback = %v, want the Hindi template line", fb)
	}
	mustContain(t, fb.GetText(), "Buttler")
}

// api_type azure: Azure OpenAI's deployment URL, api-version and api-key
// header.
func TestLLMAzure(t *testing.T) {
	var mu sync.Mutex
	var paths, keys []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path+"?"+r.URL.RawQuery)
		keys = append(keys, r.Header.Get("api-key")+"|"+r.Header.Get("Authorization"))
		mu.Unlock()
		completion("Buttler takes four off Haris Rauf.", "stop")(w, r, nil)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("BALLCAST_TEST_AZURE_KEY", "azure-secret")
	st := New()
	cfg := fmt.Sprintf(`{"llm":{"api_type":"azure","base_url":%q,"model":"my-gpt4o","api_key_env":"BALLCAST_TEST_AZURE_KEY"}}`, srv.URL)
	if err := st.Configure(context.Background(), sdk.NewConfig("commentary", []byte(cfg))); err != nil {
		t.Fatal(err)
	}
	c := newSim(t, st, "m").bowlC(aFour())
	if c.GetFallback() || c.GetText() != "Buttler takes four off Haris Rauf." {
		t.Fatalf("commentary = %v, want the deployment's line", c)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "/openai/deployments/my-gpt4o/chat/completions?api-version=" + DefaultAzureAPIVersion; paths[1] != want {
		t.Errorf("request to %s, want %s", paths[1], want)
	}
	if keys[1] != "azure-secret|" {
		t.Errorf("api-key|Authorization = %q, want the key in api-key only", keys[1])
	}
}
