//go:build evalreport

package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ballcast/ballcast/core/event/eventpb"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/internal/cricsheettest"
	"github.com/ballcast/ballcast/plugins/commentary"
	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
	"github.com/ballcast/ballcast/plugins/stats"
)

// TestCommentaryEvalReport prints the report of every dev match as the
// markdown tables of docs/commentary.md: the template engine in English
// and Hindi, and the LLM engine against fakeChat. It is a report printer,
// not a check, so it is built only with -tags evalreport (about a minute).
func TestCommentaryEvalReport(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(cricsheettest.CricsheetDir(t), "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("dev matches: %v", err)
	}
	fake := newFakeChat()
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { close(fake.release); srv.Close() })
	for _, args := range [][]string{
		{"--language", "en"},
		{"--language", "hi"},
		{"--language", "en", "--persona", "minimalist"},
		{"--llm-base-url", "FAKE", "--llm-model", "fake-chat", "--llm-timeout", "300ms", "--llm-stream"},
	} {
		shown := strings.Join(args, " ")
		args = append([]string(nil), args...)
		for i, a := range args {
			if a == "FAKE" {
				args[i] = srv.URL + "/v1"
			}
		}
		rep := runEval(t, append(args, files...)...)
		fmt.Printf("`ballcast commentary-eval %s dev/*.json`\n\n%s\n", shown, markdown(rep))
	}
	printSamples(t)
}

// printSamples prints the lines of a few balls of the eval match in every
// persona and both languages.
func printSamples(t *testing.T) {
	m, err := replay.Load(evalFile(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1.3.1.0", "1.4.2.0", "1.11.6.0", "2.0.1.0", "2.5.4.0", "2.16.6.0", "2.18.4.0"}
	st := stats.New()
	var scored []*pb.Event
	for i := range m.Events {
		p := eventpb.ToProto(&m.Events[i])
		p.Seq = uint64(i + 1)
		out, err := st.Process(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		scored = append(scored, out[0])
	}
	for _, lang := range []string{"en", "hi"} {
		for _, persona := range []string{"standard", "analyst", "excitable", "minimalist"} {
			c := commentary.New()
			cfg := fmt.Sprintf(`{"language":%q,"persona":%q,"llm":{"enabled":false}}`, lang, persona)
			if err := c.Configure(context.Background(), sdk.NewConfig("commentary", []byte(cfg))); err != nil {
				t.Fatal(err)
			}
			fmt.Printf("%s, %s:\n\n", persona, lang)
			for _, ev := range scored {
				out, err := c.Process(context.Background(), proto.Clone(ev).(*pb.Event))
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range want {
					if ev.GetId() == evalMatchID+"/"+w {
						line := out[0].GetCommentary().GetText()
						if line == "" {
							line = "(no line)"
						}
						fmt.Printf("- `%s` %s\n", w, line)
					}
				}
			}
			fmt.Println()
		}
	}
}

// markdown renders a report as a table.
func markdown(r evalReport) string {
	var b strings.Builder
	b.WriteString("| match | balls | lines | balls without a line | LLM lines | fallbacks | failing grounding | repeats | latency p50 / p99 | distinct phrasings: dot, single, four, six, wicket, wide |\n")
	b.WriteString("|---|--:|--:|--:|--:|---|--:|--:|---|---|\n")
	for _, m := range append(r.Matches, r.Total) {
		fb := fmt.Sprintf("%d (%.1f%%)", m.Fallbacks, 100*m.FallbackRate)
		if len(m.Reasons) > 0 {
			fb += reasons(m.Reasons)
		}
		var ph []string
		for _, k := range []string{"dot", "single", "four", "six", "wicket", "wide"} {
			p := m.Phrasings[k]
			ph = append(ph, fmt.Sprintf("%d/%d", p.Distinct, p.Lines))
		}
		name := m.Match
		if m.Teams != "" {
			name += " " + m.Teams
		}
		if m.Match == "total" {
			name = "**total**"
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s | %d | %d | %s / %s | %s |\n", name, m.Balls, m.Lines, m.NoLine, m.LLMLines, fb,
			m.Ungrounded, m.Repeats, round(m.LatencyP50), round(m.LatencyP99), strings.Join(ph, ", "))
	}
	return b.String()
}
