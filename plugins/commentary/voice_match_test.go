package commentary_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/event/eventpb"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/internal/cricsheettest"
	"github.com/ballcast/ballcast/plugins/commentary"
	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
	"github.com/ballcast/ballcast/plugins/stats"
)

// TestVoicesWholeMatches replays the dev matches through stats and the
// commentary stage in Hindi (every match) and in every persona (one match,
// every persona; the minimalist on every match), and checks what a reader
// would notice: a line for every ball (but a minimalist's routine dot),
// the language it claims, no line twice in an innings, no English word
// left in a Hindi line but names, and every line grounded in its facts.
func TestVoicesWholeMatches(t *testing.T) {
	type run struct{ persona, lang string }
	for _, path := range cricsheettest.CricsheetFiles(t) {
		id := strings.TrimSuffix(filepath.Base(path), ".json")
		runs := []run{{"standard", "hi"}, {"minimalist", "en"}}
		if id == sampleMatch {
			runs = append(runs, run{"analyst", "en"}, run{"excitable", "en"}, run{"analyst", "hi"}, run{"excitable", "hi"}, run{"minimalist", "hi"})
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := replay.Parse(id, data)
		if err != nil {
			t.Fatal(err)
		}
		scored := score(t, evs) // once for all the runs
		for _, r := range runs {
			t.Run(fmt.Sprintf("%s/%s/%s", id, r.lang, r.persona), func(t *testing.T) {
				checkVoice(t, evs, scored, r.persona, r.lang)
			})
		}
	}
}

// score runs evs through the stats stage.
func score(t *testing.T, evs []event.Event) []*pb.Event {
	st := stats.New()
	out := make([]*pb.Event, len(evs))
	for i := range evs {
		p := eventpb.ToProto(&evs[i])
		p.Seq = uint64(i + 1)
		res, err := st.Process(context.Background(), p)
		if err != nil || len(res) != 1 {
			t.Fatalf("stats: %v", err)
		}
		out[i] = res[0]
	}
	return out
}

func checkVoice(t *testing.T, evs []event.Event, scored []*pb.Event, persona, lang string) {
	c := commentary.New()
	cfg := fmt.Sprintf(`{"persona":%q,"language":%q,"check_templates":true,"llm":{"enabled":false}}`, persona, lang)
	if err := c.Configure(context.Background(), sdk.NewConfig("commentary", []byte(cfg))); err != nil {
		t.Fatal(err)
	}
	nameWords := map[string]bool{}
	for _, ev := range evs {
		if ev.Info != nil {
			for team, ps := range ev.Info.Players {
				for _, w := range strings.Fields(team + " " + strings.Join(ps, " ")) {
					nameWords[w] = true
				}
			}
		}
		if ev.Status != nil {
			for _, w := range strings.Fields(ev.Status.Result) {
				nameWords[w] = true
			}
		}
	}
	used := map[string]string{}
	innings, balls, lines, quiet := 0, 0, 0, 0
	for i := range evs {
		res, errs := c.ProcessBatch(context.Background(), []*pb.Event{proto.Clone(scored[i]).(*pb.Event)})
		if errs != nil && errs[0] != nil {
			t.Fatal(errs[0])
		}
		ev := &evs[i]
		cm := res[0][0].GetCommentary()
		if ev.Ball != nil {
			innings = ev.Ball.Innings
			balls++
			if cm == nil {
				if persona != "minimalist" || ev.Ball.RunsBat != 0 || len(ev.Ball.Wickets) > 0 || ev.Ball.Extras.Total() > 0 {
					t.Errorf("ball %s: no line", ev.ID)
				}
				quiet++
				continue
			}
		}
		if cm == nil {
			continue
		}
		lines++
		text := cm.GetText()
		if cm.GetLanguage() != lang || cm.GetPersona() != persona || cm.GetFallback() {
			t.Errorf("event %s: %v, want a %s %s template line", ev.ID, cm, lang, persona)
		}
		key := fmt.Sprintf("%d|%s", innings, text)
		if prev, dup := used[key]; dup {
			t.Errorf("event %s repeats the line of %s: %q", ev.ID, prev, text)
		}
		used[key] = ev.ID
		if lang == "hi" {
			for _, w := range strings.FieldsFunc(text, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '\'' || r == '-')
			}) {
				if strings.Trim(w, "-'") == "" {
					continue
				}
				if w != "c" && w != "b" && !nameWords[w] && !nameWords[strings.TrimSuffix(w, "'s")] && w != "D" && w != "L" && w != "DLS" {
					t.Errorf("event %s: English word %q in the Hindi line %q", ev.ID, w, text)
				}
			}
		}
	}
	cs := c.Counters()
	if cs.TemplateUngrounded != 0 {
		t.Errorf("%d template lines fail the grounding check", cs.TemplateUngrounded)
	}
	if persona == "minimalist" && (quiet == 0 || cs.Quiet != int64(quiet)) {
		t.Errorf("minimalist quiet on %d balls, counter %d", quiet, cs.Quiet)
	}
	t.Logf("%d balls, %d lines, %d quiet balls", balls, lines, quiet)
}
