package commentary

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// Version is the stage's version, reported by Describe.
const Version = "0.1.0"

// Defaults applied by Configure to keys left out of the config.
const (
	DefaultLanguage    = "en"
	DefaultPersona     = "a lively, concise TV cricket commentator"
	DefaultAPIKeyEnv   = "OPENAI_API_KEY"
	DefaultBaseURL     = "https://api.openai.com/v1"
	DefaultModel       = "gpt-4o-mini"
	DefaultTimeout     = 2 * time.Second
	DefaultMaxTokens   = 80
	DefaultTemperature = 0.8
)

//go:embed config.schema.json
var configSchema string

// Config is the stage's config, the `config:` subtree of its pipeline YAML
// entry. The zero Config means template commentary in English, plus the LLM
// when OPENAI_API_KEY is set in the environment.
type Config struct {
	// LLM configures the optional language-model engine.
	LLM LLMConfig `json:"llm"`
	// Language is the BCP 47 tag of the language the LLM writes in. Default
	// "en". The template engine writes English only, so template lines
	// (fallbacks included) are always marked "en".
	Language string `json:"language"`
	// Persona is the commentator's voice, given to the LLM as "You are
	// <persona>". Default DefaultPersona. The template engine ignores it.
	Persona string `json:"persona"`
}

// LLMConfig configures the LLM engine. It is enabled when BaseURL is set or
// the environment variable named by APIKeyEnv holds a key, unless Enabled
// says otherwise.
type LLMConfig struct {
	// Enabled forces the LLM on (true) or off (false). Default: on when
	// BaseURL or the API key is set, off otherwise.
	Enabled *bool `json:"enabled,omitempty"`
	// BaseURL is the OpenAI-compatible API root including its version
	// prefix, e.g. "http://localhost:11434/v1"; requests go to
	// BaseURL + "/chat/completions". Default DefaultBaseURL.
	BaseURL string `json:"base_url,omitempty"`
	// Model is the model name sent with every request. Default DefaultModel.
	Model string `json:"model,omitempty"`
	// APIKeyEnv names the environment variable holding the API key (sent as
	// a bearer token). The key itself never appears in config and is never
	// logged or reported. Default "OPENAI_API_KEY"; an unset or empty
	// variable sends no key, which local servers accept.
	APIKeyEnv string `json:"api_key_env,omitempty"`
	// Timeout bounds one LLM request, from sending it to the last byte of
	// the reply, as a Go duration string ("2s", "800ms"). Default 2s. When
	// it passes, the template line is used and marked fallback "timeout".
	Timeout Duration `json:"timeout,omitempty"`
	// Stream asks for a streamed reply (server-sent events). Default false.
	// The line is still used only once complete; a stream that ends without
	// a finish_reason is treated as a failure.
	Stream bool `json:"stream,omitempty"`
	// MaxTokens caps the reply length in tokens. Default 80. Replies are
	// also cut off at 64 KiB on the wire and must fit in 280 characters.
	MaxTokens int `json:"max_tokens,omitempty"`
	// Temperature is the sampling temperature, 0 to 2. Default 0.8. A value
	// of 0 is left out of the request, so the server's default applies.
	Temperature *float64 `json:"temperature,omitempty"`
}

// Duration is a time.Duration written in config as a Go duration string.
type Duration time.Duration

// UnmarshalJSON reads a duration string such as "2s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("commentary: duration %s: want a string such as \"2s\"", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("commentary: duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// withDefaults fills the keys left out.
func (c Config) withDefaults() Config {
	if c.Language == "" {
		c.Language = DefaultLanguage
	}
	if c.Persona == "" {
		c.Persona = DefaultPersona
	}
	if c.LLM.APIKeyEnv == "" {
		c.LLM.APIKeyEnv = DefaultAPIKeyEnv
	}
	if c.LLM.Model == "" {
		c.LLM.Model = DefaultModel
	}
	if c.LLM.Timeout == 0 {
		c.LLM.Timeout = Duration(DefaultTimeout)
	}
	if c.LLM.MaxTokens == 0 {
		c.LLM.MaxTokens = DefaultMaxTokens
	}
	if c.LLM.Temperature == nil {
		t := DefaultTemperature
		c.LLM.Temperature = &t
	}
	return c
}

// Validate reports every problem with the config at once. It does no I/O.
func (c Config) Validate() error {
	var errs []error
	if c.LLM.BaseURL != "" {
		u, err := url.Parse(c.LLM.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("commentary: llm.base_url %q: want an http or https URL", c.LLM.BaseURL))
		}
	}
	if c.LLM.Timeout < 0 {
		errs = append(errs, fmt.Errorf("commentary: llm.timeout %s: must be > 0", time.Duration(c.LLM.Timeout)))
	}
	if c.LLM.MaxTokens < 0 || c.LLM.MaxTokens > 4096 {
		errs = append(errs, fmt.Errorf("commentary: llm.max_tokens %d: want 1 to 4096", c.LLM.MaxTokens))
	}
	if t := c.LLM.Temperature; t != nil && (*t < 0 || *t > 2) {
		errs = append(errs, fmt.Errorf("commentary: llm.temperature %g: want 0 to 2", *t))
	}
	if len(c.Language) > 35 {
		errs = append(errs, fmt.Errorf("commentary: language %q: want a BCP 47 tag such as \"en\"", c.Language))
	}
	if len(c.Persona) > 500 {
		errs = append(errs, errors.New("commentary: persona: longer than 500 characters"))
	}
	return errors.Join(errs...)
}

// Stage is the commentary stage. Create it with New; it is ready for
// Process before Configure (template engine, English).
type Stage struct {
	engine *engine

	mu      sync.Mutex // guards the fields below; never held during I/O
	cfg     Config
	llm     *llm // nil when the LLM is off
	matches map[string]*matchState
}

// englishEngine is parsed once: the phrase bank never changes.
var englishEngine = sync.OnceValues(func() (*engine, error) { return newEngine(DefaultLanguage) })

// New returns a stage with the default config and no LLM.
func New() *Stage {
	eng, err := englishEngine()
	if err != nil {
		panic(err) // the phrase bank is embedded and tested
	}
	return &Stage{engine: eng, cfg: Config{}.withDefaults(), matches: map[string]*matchState{}}
}

// Describe implements sdk.Describer.
func (s *Stage) Describe() sdk.Description {
	return sdk.Description{
		Name:         "commentary",
		Version:      Version,
		Description:  "live commentary for every ball, innings and result: phrase-bank templates, or an OpenAI-compatible LLM with template fallback",
		ConfigSchema: configSchema,
	}
}

// Configure implements sdk.Stage. It reads the API key from the environment
// variable the config names. Calling it again replaces the config and keeps
// per-match state.
func (s *Stage) Configure(_ context.Context, raw sdk.Config) error {
	var cfg Config
	if err := raw.Decode(&cfg); err != nil {
		return fmt.Errorf("commentary: configure: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	var l *llm
	key := os.Getenv(cfg.LLM.APIKeyEnv)
	on := cfg.LLM.BaseURL != "" || key != ""
	if cfg.LLM.Enabled != nil {
		on = *cfg.LLM.Enabled
	}
	if on {
		l = newLLM(cfg, key)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg, s.llm = cfg, l
	return nil
}

// maxParallel is how many LLM requests one batch has in flight at most.
const maxParallel = 4

// Process implements sdk.Stage: it sets ev.Commentary on ball events,
// innings start and end, and the final status, and returns ev. Other events
// pass through unchanged.
func (s *Stage) Process(ctx context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	outs, errs := s.ProcessBatch(ctx, []*sdk.Event{ev})
	if errs != nil && errs[0] != nil {
		return nil, errs[0]
	}
	return outs[0], nil
}

// ProcessBatch implements sdk.BatchStage. Template lines are written in
// order; the LLM requests of the batch then run concurrently (at most
// maxParallel at once), so a batch takes about as long as its slowest
// request rather than the sum of them; the lines are then accepted in order.
func (s *Stage) ProcessBatch(ctx context.Context, batch []*sdk.Event) ([][]*sdk.Event, []error) {
	s.mu.Lock()
	cfg, l := s.cfg, s.llm
	states := map[string]*matchState{}
	var errs []error
	for i, ev := range batch {
		if ev == nil {
			if errs == nil {
				errs = make([]error, len(batch))
			}
			errs[i] = errors.New("commentary: nil event")
			continue
		}
		ms := s.matches[ev.GetMatch()]
		if ms == nil {
			ms = newMatchState(ev.GetMatch())
			s.matches[ev.GetMatch()] = ms
		}
		states[ev.GetMatch()] = ms
	}
	s.mu.Unlock()

	// Hold every match of the batch, in a fixed order, until its lines are
	// done: one match's events go through one at a time, in order.
	ids := make([]string, 0, len(states))
	for id := range states {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		states[id].mu.Lock()
	}
	defer func() {
		for _, id := range ids {
			states[id].mu.Unlock()
		}
	}()

	jobs := make([]*job, len(batch))
	byID := map[string]*job{}
	for i, ev := range batch {
		if ev == nil {
			continue
		}
		j := &job{ev: ev, ms: states[ev.GetMatch()]}
		if first, ok := byID[ev.GetId()]; ok && ev.GetId() != "" {
			j.sameAs = first // the same event twice in one batch
		} else {
			j.prepare(s.engine, l != nil)
			byID[ev.GetId()] = j
		}
		jobs[i] = j
	}

	if l != nil {
		var wg sync.WaitGroup
		sem := make(chan struct{}, maxParallel)
		for _, j := range jobs {
			if j == nil || !j.ask {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				start := time.Now()
				j.text, j.model, j.reason = l.generate(ctx, j.prompt, j.pick.text, nil)
				j.latency += time.Since(start)
			}()
		}
		wg.Wait()
	}

	outs := make([][]*sdk.Event, len(batch))
	var over []string
	for i, j := range jobs {
		if j == nil {
			continue
		}
		if c := j.finish(cfg); c != nil {
			j.ev.Commentary = c
		}
		if j.done {
			over = append(over, j.ev.GetMatch())
		}
		outs[i] = []*sdk.Event{j.ev}
	}
	if len(over) > 0 {
		s.mu.Lock()
		for _, id := range over {
			if s.matches[id] == states[id] {
				delete(s.matches, id)
			}
		}
		s.mu.Unlock()
	}
	return outs, errs
}

// job is one event on its way through ProcessBatch.
type job struct {
	ev     *sdk.Event
	ms     *matchState
	sameAs *job // an earlier job of the batch with the same event ID

	comment bool           // the event gets a line
	cached  *pb.Commentary // the line the event got before, when re-delivered
	done    bool           // the match is over
	st      *lineState
	pick    pick
	latency time.Duration

	ask                 bool     // the LLM is asked
	prompt              []string // the LLM's fact list
	text, model, reason string   // the LLM's answer
}

// prepare derives the event's facts and template line, in event order.
func (j *job) prepare(eng *engine, llmOn bool) {
	ms, ev := j.ms, j.ev
	if info := ev.GetInfo(); info != nil {
		ms.info = info
		ms.names = newNames(info)
	}
	f, ok := ms.facts(ev)
	if !ok {
		return
	}
	j.comment, j.done = true, f.kind == kindResult
	if prev, seen := ms.byID[ev.GetId()]; seen && ev.GetId() != "" {
		j.cached = prev.proto()
		return
	}
	if f.innings >= ms.innings && f.innings > 0 {
		ms.innings = f.innings
	}
	start := time.Now()
	j.st = ms.linesFor(f.innings)
	j.pick = eng.line(j.st, ms.names, &f)
	// Committed whatever the LLM says, so template lines do not depend on
	// it and stay unique even as fallbacks.
	j.st.commit(j.pick)
	if llmOn {
		j.ask, j.prompt = true, f.factList(ms.names)
	}
	j.latency = time.Since(start)
}

// finish picks the LLM's line or the template's, in event order, and
// returns the event's commentary (nil for none).
func (j *job) finish(cfg Config) *pb.Commentary {
	if j.sameAs != nil {
		j.comment, j.done = j.sameAs.comment, j.sameAs.done
		if c := j.sameAs.ev.GetCommentary(); c != nil && j.comment {
			return &pb.Commentary{Text: c.GetText(), Language: c.GetLanguage(), Persona: c.GetPersona(), Model: c.GetModel(),
				LatencyNanos: c.GetLatencyNanos(), Fallback: c.GetFallback(), Reason: c.GetReason()}
		}
		return nil
	}
	if !j.comment {
		return nil
	}
	if j.cached != nil {
		return j.cached
	}
	out := line{text: j.pick.text, language: DefaultLanguage, latency: j.latency}
	if j.ask {
		if j.reason == "" && j.st.used[j.text] {
			j.reason = reasonRepeat
		}
		if j.reason == "" {
			out = line{text: j.text, language: cfg.Language, persona: cfg.Persona, model: j.model, latency: j.latency}
			j.st.commitText(j.text)
		} else {
			out.fallback, out.reason = true, j.reason
		}
	}
	if id := j.ev.GetId(); id != "" {
		j.ms.byID[id] = out
	}
	return out.proto()
}

// matchState is what the stage remembers about one match.
type matchState struct {
	mu    sync.Mutex
	match string
	info  *pb.MatchInfo
	names *names

	innings int                // the latest innings seen
	lines   map[int]*lineState // lines used, by innings
	byID    map[string]line    // lines already written, by event ID
}

// line is a finished line, kept so a re-delivered event gets the same one.
type line struct {
	text, language, persona, model, reason string
	fallback                               bool
	latency                                time.Duration
}

func (l line) proto() *pb.Commentary {
	return &pb.Commentary{Text: l.text, Language: l.language, Persona: l.persona, Model: l.model,
		LatencyNanos: int64(l.latency), Fallback: l.fallback, Reason: l.reason}
}

func newMatchState(match string) *matchState {
	return &matchState{match: match, names: newNames(nil), lines: map[int]*lineState{}, byID: map[string]line{}}
}

// linesFor returns the line state of innings n.
func (ms *matchState) linesFor(n int) *lineState {
	st := ms.lines[n]
	if st == nil {
		st = newLineState()
		ms.lines[n] = st
	}
	return st
}

var (
	_ sdk.Stage      = (*Stage)(nil)
	_ sdk.BatchStage = (*Stage)(nil)
	_ sdk.Describer  = (*Stage)(nil)
)
