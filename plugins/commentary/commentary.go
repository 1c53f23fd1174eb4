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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// Version is the stage's version, reported by Describe.
const Version = "0.1.0"

// Defaults applied by Configure to keys left out of the config.
const (
	DefaultLanguage    = "en"
	DefaultPersona     = PersonaStandard
	DefaultAPIKeyEnv   = "OPENAI_API_KEY"
	DefaultBaseURL     = "https://api.openai.com/v1"
	DefaultModel       = "gpt-4o-mini"
	DefaultTimeout     = 2 * time.Second
	DefaultMaxTokens   = 80
	DefaultTemperature = 0.8
	DefaultRetries     = 2
	// DefaultAzureAPIVersion is the api-version sent to Azure OpenAI.
	DefaultAzureAPIVersion = "2024-10-21"
	DefaultConcurrency     = 4
)

//go:embed config.schema.json
var configSchema string

// Config is the stage's config, the `config:` subtree of its pipeline YAML
// entry. The zero Config means template commentary in English in the
// standard voice, plus the LLM when OPENAI_API_KEY is set in the
// environment.
type Config struct {
	// LLM configures the optional language-model engine.
	LLM LLMConfig `json:"llm"`
	// Language is the BCP 47 tag of the commentary's language. Default
	// "en". The LLM is asked to write in it; the template engine writes it
	// when it has a phrase bank for it ("en", "hi"; "hi-IN" uses "hi"), and
	// English otherwise. Every line is marked with the language it is in.
	Language string `json:"language"`
	// Persona is the commentator's voice: "standard" (default), "analyst",
	// "excitable" or "minimalist". It sets the LLM's description of
	// itself and the template engine's phrase choices; a minimalist says
	// nothing on routine dot balls.
	Persona string `json:"persona"`
	// PersonaPrompt replaces the persona's description in the LLM prompt
	// ("You are <persona_prompt>"), at most 500 characters. Optional.
	PersonaPrompt string `json:"persona_prompt,omitempty"`
	// CheckTemplates runs the grounding check on template lines too and
	// counts the failures (Counters.TemplateUngrounded); the lines are
	// still used. For evaluation; off by default.
	CheckTemplates bool `json:"check_templates,omitempty"`
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
	// Model is the model name sent with every request; with Azure OpenAI,
	// the deployment name. Default DefaultModel.
	Model string `json:"model,omitempty"`
	// APIType is "openai" (default: any OpenAI-compatible server, key as a
	// bearer token) or "azure" (Azure OpenAI: requests go to
	// BaseURL/openai/deployments/<model>/chat/completions?api-version=...,
	// key in the api-key header).
	APIType string `json:"api_type,omitempty"`
	// APIVersion is Azure OpenAI's api-version. Default "2024-10-21".
	APIVersion string `json:"api_version,omitempty"`
	// APIKeyEnv names the environment variable holding the API key (sent as
	// a bearer token). The key itself never appears in config and is never
	// logged or reported. Default "OPENAI_API_KEY"; an unset or empty
	// variable sends no key, which local servers accept.
	APIKeyEnv string `json:"api_key_env,omitempty"`
	// Timeout bounds one event's LLM work, retries included, from sending
	// the first request to the last byte of the reply, as a Go duration
	// string ("2s", "800ms"). Default 2s. The caller's deadline (the
	// pipeline stage's timeout) bounds it too. When it passes, the template
	// line is used and marked fallback "timeout".
	Timeout Duration `json:"timeout,omitempty"`
	// Stream asks for a streamed reply (server-sent events). Default false.
	// Through ProcessStream the pieces go to frontends as deltas while they
	// arrive; the event's final line replaces them. A stream that ends
	// without a finish_reason is a failure.
	Stream bool `json:"stream,omitempty"`
	// MaxTokens caps the reply length in tokens. Default 80. Replies are
	// also cut off at 64 KiB on the wire and must fit in 280 characters.
	MaxTokens int `json:"max_tokens,omitempty"`
	// Temperature is the sampling temperature, 0 to 2. Default 0.8. A value
	// of 0 is left out of the request, so the server's default applies.
	Temperature *float64 `json:"temperature,omitempty"`
	// Retries is how many times a 429 or 5xx answer is retried, within
	// Timeout, with backoff (100 ms doubling, or the server's Retry-After up
	// to 2 s). Default 2; 0 never retries.
	Retries *int `json:"retries,omitempty"`
	// MaxConcurrency caps the requests in flight for the whole stage, all
	// matches together. Default 4.
	MaxConcurrency int `json:"max_concurrency,omitempty"`
	// MatchTokenBudget caps the tokens (prompt and completion, as the
	// server reports them, or estimated at 4 bytes a token when it does
	// not) spent on one match. A request is sent only while the budget has
	// room for its prompt and max_tokens; after that the match's lines come
	// from the templates, marked fallback "budget". 0 (default) means no
	// budget.
	MatchTokenBudget int `json:"match_token_budget,omitempty"`
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
	if c.LLM.APIType == "" {
		c.LLM.APIType = "openai"
	}
	if c.LLM.APIType == "azure" && c.LLM.APIVersion == "" {
		c.LLM.APIVersion = DefaultAzureAPIVersion
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
	if c.LLM.Retries == nil {
		r := DefaultRetries
		c.LLM.Retries = &r
	}
	if c.LLM.MaxConcurrency == 0 {
		c.LLM.MaxConcurrency = DefaultConcurrency
	}
	return c
}

// personaPrompt is the persona's description for the LLM.
func (c Config) personaPrompt() string {
	if c.PersonaPrompt != "" {
		return c.PersonaPrompt
	}
	return personas[c.Persona].prompt
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
	if t := c.LLM.APIType; t != "" && t != "openai" && t != "azure" {
		errs = append(errs, fmt.Errorf("commentary: llm.api_type %q: want openai or azure", t))
	}
	if c.LLM.APIType == "azure" && c.LLM.BaseURL == "" {
		errs = append(errs, errors.New("commentary: llm.base_url: required with api_type azure (https://RESOURCE.openai.azure.com)"))
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
	if _, ok := personas[c.Persona]; c.Persona != "" && !ok {
		errs = append(errs, fmt.Errorf("commentary: persona %q: want one of %s (persona_prompt sets a voice of your own for the LLM)",
			c.Persona, strings.Join(personaNames(), ", ")))
	}
	if len(c.PersonaPrompt) > 500 {
		errs = append(errs, errors.New("commentary: persona_prompt: longer than 500 characters"))
	}
	if r := c.LLM.Retries; r != nil && (*r < 0 || *r > 5) {
		errs = append(errs, fmt.Errorf("commentary: llm.retries %d: want 0 to 5", *r))
	}
	if c.LLM.MaxConcurrency < 0 || c.LLM.MaxConcurrency > 64 {
		errs = append(errs, fmt.Errorf("commentary: llm.max_concurrency %d: want 1 to 64", c.LLM.MaxConcurrency))
	}
	if c.LLM.MatchTokenBudget < 0 {
		errs = append(errs, fmt.Errorf("commentary: llm.match_token_budget %d: want 0 (none) or more", c.LLM.MatchTokenBudget))
	}
	return errors.Join(errs...)
}

// Stage is the commentary stage. Create it with New; it is ready for
// Process before Configure (template engine, English, standard voice).
type Stage struct {
	counters counters

	mu      sync.Mutex // guards the fields below; never held during I/O
	cfg     Config
	voice   *voice
	llm     *llm // nil when the LLM is off
	matches map[string]*matchState
}

// New returns a stage with the default config and no LLM.
func New() *Stage {
	cfg := Config{}.withDefaults()
	v, err := voiceFor(cfg.Language, cfg.Persona)
	if err != nil {
		panic(err) // the phrase banks are embedded and tested
	}
	return &Stage{cfg: cfg, voice: v, matches: map[string]*matchState{}}
}

// Describe implements sdk.Describer.
func (s *Stage) Describe() sdk.Description {
	return sdk.Description{
		Name:         "commentary",
		Version:      Version,
		Description:  "live commentary for every ball, innings and result: phrase-bank templates (English, Hindi; four personas), or an OpenAI-compatible LLM with grounding check and template fallback",
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
	v, err := voiceFor(cfg.Language, cfg.Persona)
	if err != nil {
		return err
	}
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
	s.cfg, s.voice, s.llm = cfg, v, l
	return nil
}

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
// llm.max_concurrency at once across the stage), so a batch takes about as
// long as its slowest request rather than the sum of them; the lines are
// then accepted in order.
func (s *Stage) ProcessBatch(ctx context.Context, batch []*sdk.Event) ([][]*sdk.Event, []error) {
	return s.process(ctx, batch, nil)
}

// process is ProcessBatch, and ProcessStream when emit is not nil.
func (s *Stage) process(ctx context.Context, batch []*sdk.Event, emit func(sdk.Delta)) ([][]*sdk.Event, []error) {
	s.mu.Lock()
	cfg, v, l := s.cfg, s.voice, s.llm
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
			j.prepare(v, cfg, l, &s.counters)
			byID[ev.GetId()] = j
		}
		jobs[i] = j
	}

	if l != nil {
		var wg sync.WaitGroup
		for _, j := range jobs {
			if j == nil || !j.ask {
				continue
			}
			r := request{facts: j.prompt, reference: j.text}
			if emit != nil && l.stream {
				id, match := j.ev.GetId(), j.ev.GetMatch()
				r.onDelta = func(d string) { emit(sdk.Delta{EventID: id, Match: match, Text: d}) }
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				j.ans = l.generate(ctx, r)
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
		if c := j.finish(cfg, v, &s.counters); c != nil {
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

// job is one event on its way through process.
type job struct {
	ev     *sdk.Event
	ms     *matchState
	sameAs *job // an earlier job of the batch with the same event ID

	comment bool           // the event gets a line
	cached  *pb.Commentary // the line the event got before, when re-delivered
	done    bool           // the match is over
	st      *lineState
	pick    pick
	text    string // the template line, in the voice's language
	latency time.Duration

	ask      bool     // the LLM is asked
	prompt   []string // the LLM's fact list
	reserved int      // tokens reserved from the match's budget
	skip     string   // why the LLM is not asked although on ("budget")
	ans      answer   // the LLM's answer
}

// prepare derives the event's facts and template line, in event order.
func (j *job) prepare(v *voice, cfg Config, l *llm, c *counters) {
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
	if v.persona.quiet && routine(&f) {
		j.comment = false
		c.quiet.Add(1)
		return
	}
	start := time.Now()
	j.st = ms.linesFor(f.innings)
	j.pick, j.text = v.line(j.st, ms.names, ms.info.GetTeams(), &f)
	// Committed whatever the LLM says, so template lines do not depend on
	// it and stay unique even as fallbacks.
	j.st.commit(j.pick)
	j.latency = time.Since(start)
	if l != nil || cfg.CheckTemplates {
		j.prompt = f.factList(ms.names)
	}
	if cfg.CheckTemplates && newGround(j.prompt, "").check(j.text) != "" {
		c.templateUngrounded.Add(1)
	}
	if l != nil {
		j.ask = true
		if cfg.LLM.MatchTokenBudget > 0 {
			need := estimateTokens(l.systemPrompt()) + estimateTokens(userPrompt(j.prompt, j.text)) + cfg.LLM.MaxTokens
			if !ms.budget.reserve(cfg.LLM.MatchTokenBudget, need) {
				j.ask, j.skip = false, reasonBudget
			} else {
				j.reserved = need
			}
		}
	}
}

// finish picks the LLM's line or the template's, in event order, and
// returns the event's commentary (nil for none).
func (j *job) finish(cfg Config, v *voice, c *counters) *pb.Commentary {
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
	out := line{text: j.text, language: v.lang, persona: v.persona.name, latency: j.latency}
	reason := j.skip
	if j.ask {
		j.ms.budget.settle(j.reserved, j.ans.tokens)
		c.tokens.Add(int64(j.ans.tokens))
		c.requests.Add(int64(j.ans.attempts))
		reason = j.ans.reason
		if reason == "" && j.st.used[j.ans.text] {
			reason = reasonRepeat
		}
		if reason == "" {
			out = line{text: j.ans.text, language: cfg.Language, persona: v.persona.name, model: j.ans.model, latency: j.latency}
			j.st.commitText(j.ans.text)
			c.llmLines.Add(1)
		}
	}
	if reason != "" {
		out.fallback, out.reason = true, reason
		c.fallback(reason)
	}
	c.lines.Add(1)
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
	budget  budget             // LLM tokens spent on the match
}

// budget counts a match's LLM tokens: spent, and reserved by requests in
// flight. Only the batch holding the match's lock changes it.
type budget struct {
	spent, reserved int
}

// reserve sets need tokens aside if the budget has room for them.
func (b *budget) reserve(limit, need int) bool {
	if b.spent+b.reserved+need > limit {
		return false
	}
	b.reserved += need
	return true
}

// settle replaces a reservation with the tokens actually spent.
func (b *budget) settle(reserved, spent int) {
	b.reserved -= reserved
	b.spent += spent
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

// Counters are the stage's running totals since it started.
type Counters struct {
	Lines    int64 // lines written (re-deliveries not counted)
	LLMLines int64 // lines the LLM wrote
	// Fallbacks are template lines standing in for the LLM, by reason.
	Fallbacks map[string]int64
	// UngroundedName and UngroundedNumber count LLM lines the grounding
	// check replaced (also in Fallbacks under their reasons).
	UngroundedName, UngroundedNumber int64
	// TemplateUngrounded counts template lines failing the grounding check,
	// with check_templates on. It should stay 0.
	TemplateUngrounded int64
	Quiet              int64 // balls a quiet persona let pass without a line
	Tokens             int64 // LLM tokens spent, reported or estimated
	Requests           int64 // LLM requests sent, retries included
}

type counters struct {
	lines, llmLines, templateUngrounded, quiet, tokens, requests atomic.Int64

	mu        sync.Mutex
	fallbacks map[string]int64
}

func (c *counters) fallback(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fallbacks == nil {
		c.fallbacks = map[string]int64{}
	}
	c.fallbacks[reason]++
}

// Counters returns the stage's counters so far.
func (s *Stage) Counters() Counters {
	c := &s.counters
	out := Counters{Lines: c.lines.Load(), LLMLines: c.llmLines.Load(), TemplateUngrounded: c.templateUngrounded.Load(),
		Quiet: c.quiet.Load(), Tokens: c.tokens.Load(), Requests: c.requests.Load(), Fallbacks: map[string]int64{}}
	c.mu.Lock()
	defer c.mu.Unlock()
	for r, n := range c.fallbacks {
		out.Fallbacks[r] = n
	}
	out.UngroundedName, out.UngroundedNumber = out.Fallbacks[reasonUngroundedName], out.Fallbacks[reasonUngroundedNumber]
	return out
}

var (
	_ sdk.Stage       = (*Stage)(nil)
	_ sdk.BatchStage  = (*Stage)(nil)
	_ sdk.StreamStage = (*Stage)(nil)
	_ sdk.Describer   = (*Stage)(nil)
)
