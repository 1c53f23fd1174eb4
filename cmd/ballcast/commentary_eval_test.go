package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ballcast/ballcast/internal/cricsheettest"
)

// evalMatchID is the dev match the eval tests replay: a T20 with wickets,
// boundaries, a chase and a result.
const evalMatchID = "1298179"

func evalFile(t *testing.T) string {
	t.Helper()
	return filepath.Join(cricsheettest.CricsheetDir(t), evalMatchID+".json")
}

func runEval(t *testing.T, args ...string) evalReport {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), append([]string{"commentary-eval", "--json"}, args...), &out, &errOut); err != nil {
		t.Fatalf("commentary-eval %v: %v\n%s", args, err, errOut.String())
	}
	var rep evalReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("commentary-eval --json: %v\n%s", err, out.String())
	}
	if len(rep.Matches) == 0 {
		t.Fatalf("no matches in %s", out.String())
	}
	return rep
}

// The template engine, in English and Hindi and every persona: a line for
// every ball (the minimalist's routine dots aside), none failing the
// grounding check, none repeated in an innings, varied phrasing.
func TestCommentaryEvalTemplate(t *testing.T) {
	for _, tc := range []struct{ persona, lang string }{
		{"standard", "en"}, {"standard", "hi"}, {"analyst", "en"}, {"excitable", "hi"}, {"minimalist", "en"},
	} {
		t.Run(tc.persona+"/"+tc.lang, func(t *testing.T) {
			rep := runEval(t, "--persona", tc.persona, "--language", tc.lang, evalFile(t))
			m := rep.Matches[0]
			if m.Match != evalMatchID || rep.Engine != "template" || rep.Language != tc.lang || rep.Persona != tc.persona {
				t.Errorf("report header %+v", rep)
			}
			if m.Balls == 0 || m.Fallbacks != 0 || m.Ungrounded != 0 || m.Repeats != 0 || m.LLMLines != 0 {
				t.Errorf("match %+v: want balls, no fallbacks, nothing ungrounded, no repeats", m)
			}
			quiet := m.NoLine
			if tc.persona == "minimalist" {
				if quiet == 0 {
					t.Errorf("minimalist: a line for every ball, want none for routine dots")
				}
			} else if quiet != 0 {
				t.Errorf("%d balls without a line", quiet)
			}
			// 2 innings starts and ends and the result.
			if m.Lines != m.Balls-quiet+5 {
				t.Errorf("%d lines for %d balls (%d quiet), want one a ball plus 5", m.Lines, m.Balls, quiet)
			}
			dots := m.Phrasings["dot"]
			if tc.persona != "minimalist" && (dots.Lines < 50 || dots.Distinct < 10) {
				t.Errorf("dot phrasings %+v, want at least 10 distinct", dots)
			}
			for _, k := range []string{"four", "six", "wicket", "single"} {
				if p := m.Phrasings[k]; p.Lines == 0 || p.Distinct == 0 {
					t.Errorf("no %s lines: %+v", k, m.Phrasings)
				}
			}
			if m.LatencyP50 <= 0 || m.LatencyP99 < m.LatencyP50 {
				t.Errorf("latency p50 %v p99 %v", m.LatencyP50, m.LatencyP99)
			}
		})
	}
}

// fakeChat is a local OpenAI-compatible chat completions server for the
// eval: it answers with the reference line the prompt carries, prefixed, so
// the line is grounded, except that, chosen by a hash of that line, about
// 1 in 10 replies invents a name, 1 in 10 a number, 1 in 10 is garbage,
// 1 in 10 is first refused with 429 (and answered on the retry), and 1 in
// 20 never comes (the client's deadline ends it). It streams when asked.
type fakeChat struct {
	mu       sync.Mutex
	refused  map[string]bool
	requests int
	release  chan struct{}
}

func newFakeChat() *fakeChat {
	return &fakeChat{refused: map[string]bool{}, release: make(chan struct{})}
}

func (f *fakeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model    string `json:"model"`
		Stream   bool   `json:"stream"`
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) != 2 {
		http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
		return
	}
	user := req.Messages[1].Content
	const mark = "for reference: "
	ref := user[strings.LastIndex(user, mark)+len(mark):]
	h := fnv.New32a()
	io.WriteString(h, ref)
	n := h.Sum32()
	f.mu.Lock()
	f.requests++
	first := !f.refused[ref]
	f.refused[ref] = true
	f.mu.Unlock()
	text := "Well, " + ref
	switch n % 20 {
	case 1, 11:
		text = "Smith watches on: " + ref
	case 2, 12:
		text = ref + " That is 999 for the season."
	case 3, 13:
		text = "!!! ??? ..."
	case 4, 14:
		if first {
			w.Header().Set("Retry-After-Ms", "10")
			http.Error(w, `{"error":{"message":"rate limited","type":"rate_limit"}}`, http.StatusTooManyRequests)
			return
		}
	case 5:
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
		return
	}
	usage := fmt.Sprintf(`{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}`, len(user)/4, len(text)/4, len(user)/4+len(text)/4)
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"x","object":"chat.completion","model":"fake-chat","choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":%s}`, text, usage)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	words := strings.SplitAfter(text, " ")
	for i := 0; i < len(words); i += 3 {
		piece, _ := json.Marshal(strings.Join(words[i:min(i+3, len(words))], ""))
		fmt.Fprintf(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"model\":\"fake-chat\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%s},\"finish_reason\":null}]}\n\n", piece)
		fl.Flush()
	}
	fmt.Fprint(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"model\":\"fake-chat\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n")
	fmt.Fprintf(w, "data: {\"id\":\"x\",\"choices\":[],\"usage\":%s}\n\ndata: [DONE]\n\n", usage)
}

// The eval against a local OpenAI-compatible server that misbehaves in
// known proportions: the report counts the model's lines, every kind of
// fallback and the grounding failures, and the retried 429s; streamed, it
// counts the deltas.
func TestCommentaryEvalLLM(t *testing.T) {
	for _, streamed := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", streamed), func(t *testing.T) {
			fake := newFakeChat()
			srv := httptest.NewServer(fake)
			t.Cleanup(func() { close(fake.release); srv.Close() })
			t.Setenv("BALLCAST_TEST_EVAL_KEY", "sk-eval-secret")
			args := []string{"--llm-base-url", srv.URL + "/v1", "--llm-model", "fake-chat", "--llm-key-env", "BALLCAST_TEST_EVAL_KEY",
				"--llm-timeout", "300ms", fmt.Sprintf("--llm-stream=%v", streamed), evalFile(t)}
			start := time.Now()
			rep := runEval(t, args...)
			m := rep.Matches[0]
			t.Logf("%d lines in %v: %d from the model, %d fallbacks %v, %d requests, %d tokens, %d deltas, p50 %v p99 %v",
				m.Lines, time.Since(start).Round(time.Millisecond), m.LLMLines, m.Fallbacks, m.Reasons, m.Requests, m.Tokens, m.Deltas, m.LatencyP50, m.LatencyP99)
			if rep.Engine != "llm" || rep.Model != "fake-chat" {
				t.Errorf("report header %+v", rep)
			}
			if m.Lines != m.Balls+5 || m.Repeats != 0 {
				t.Errorf("%d lines for %d balls, %d repeats: want a line for every ball, none repeated", m.Lines, m.Balls, m.Repeats)
			}
			if m.LLMLines < m.Lines/2 || m.LLMLines+m.Fallbacks != m.Lines {
				t.Errorf("%d model lines and %d fallbacks of %d lines", m.LLMLines, m.Fallbacks, m.Lines)
			}
			for _, r := range []string{"ungrounded name", "ungrounded number", "garbage reply", "timeout"} {
				if m.Reasons[r] == 0 {
					t.Errorf("no fallback for %q: %v", r, m.Reasons)
				}
			}
			if m.Ungrounded != m.Reasons["ungrounded name"]+m.Reasons["ungrounded number"] || m.UngroundedT != 0 {
				t.Errorf("ungrounded %d (template %d), reasons %v", m.Ungrounded, m.UngroundedT, m.Reasons)
			}
			if got := m.FallbackRate; got != float64(m.Fallbacks)/float64(m.Lines) {
				t.Errorf("fallback rate %v", got)
			}
			if m.Requests <= int64(m.Lines-m.Reasons["llm unavailable"]) || m.Tokens == 0 {
				t.Errorf("%d requests for %d lines, %d tokens: want retries of the 429s and tokens counted", m.Requests, m.Lines, m.Tokens)
			}
			if streamed != (m.Deltas > 0) {
				t.Errorf("%d deltas with stream=%v", m.Deltas, streamed)
			}
			if m.LatencyP99 > 2*time.Second {
				t.Errorf("p99 latency %v: the 300ms deadline did not hold", m.LatencyP99)
			}
		})
	}
}

func TestCommentaryEvalUsage(t *testing.T) {
	for _, args := range [][]string{
		{"commentary-eval"},
		{"commentary-eval", "--persona", "shouty", "x.json"},
		{"commentary-eval", "--llm-base-url", "ftp://x", "x.json"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut)
		if exitCode(err) != 2 {
			t.Errorf("%v: %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"commentary-eval", "/nonexistent/m.json"}, &out, &errOut); err == nil || exitCode(err) != 1 {
		t.Errorf("missing file: %v, want an error", err)
	}
}

// --llm-budget: once the match's tokens are spent, the lines are template
// lines marked "budget", and the tokens stay within the budget.
func TestCommentaryEvalBudget(t *testing.T) {
	fake := newFakeChat()
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { close(fake.release); srv.Close() })
	const budget = 20000
	rep := runEval(t, "--llm-base-url", srv.URL+"/v1", "--llm-timeout", "300ms", "--llm-budget", fmt.Sprint(budget), evalFile(t))
	m := rep.Matches[0]
	if m.Reasons["budget"] == 0 || m.Lines != m.Balls+5 {
		t.Fatalf("reasons %v, %d lines for %d balls: want budget fallbacks and still a line for every ball", m.Reasons, m.Lines, m.Balls)
	}
	if m.Tokens > budget {
		t.Errorf("%d tokens spent, budget %d", m.Tokens, budget)
	}
	t.Logf("budget %d: %d tokens, %d requests, %d budget fallbacks of %d lines", budget, m.Tokens, m.Requests, m.Reasons["budget"], m.Lines)
}
