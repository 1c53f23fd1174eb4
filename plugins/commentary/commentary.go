package commentary

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
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

// Process implements sdk.Stage: it sets ev.Commentary on ball events,
// innings start and end, and the final status, and returns ev. Other events
// pass through unchanged.
func (s *Stage) Process(ctx context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	if ev == nil {
		return nil, errors.New("commentary: nil event")
	}
	s.mu.Lock()
	ms := s.matches[ev.GetMatch()]
	if ms == nil {
		ms = newMatchState(ev.GetMatch())
		s.matches[ev.GetMatch()] = ms
	}
	cfg, l := s.cfg, s.llm
	s.mu.Unlock()

	ms.mu.Lock()
	defer ms.mu.Unlock()
	c, done := ms.comment(ctx, s.engine, l, cfg, ev)
	if c != nil {
		ev.Commentary = c
	}
	if done {
		s.mu.Lock()
		if s.matches[ev.GetMatch()] == ms {
			delete(s.matches, ev.GetMatch())
		}
		s.mu.Unlock()
	}
	return []*sdk.Event{ev}, nil
}

// matchState is what the stage remembers about one match.
type matchState struct {
	mu    sync.Mutex
	match string
	info  *pb.MatchInfo
	names *names

	innings int       // innings the line state below belongs to
	prev    *snapshot // the current innings after the last event
	lines   *lineState
	byID    map[string]line // lines already written this innings, by event ID
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
	return &matchState{match: match, names: newNames(nil), lines: newLineState(), byID: map[string]line{}}
}

// enterInnings resets the per-innings line state when the innings changes.
func (ms *matchState) enterInnings(n int) {
	if n == ms.innings {
		return
	}
	ms.innings = n
	ms.lines = newLineState()
	ms.byID = map[string]line{}
	if ms.prev != nil && ms.prev.innings != n {
		ms.prev = nil
	}
}

// comment produces ev's line, or nil when ev gets none. done reports the
// match is over and its state may go.
func (ms *matchState) comment(ctx context.Context, eng *engine, l *llm, cfg Config, ev *sdk.Event) (c *pb.Commentary, done bool) {
	if info := ev.GetInfo(); info != nil {
		ms.info = info
		ms.names = newNames(info)
	}
	f, ok := ms.facts(ev)
	if ev.GetScorecard() != nil && f.innings > 0 {
		defer func() { ms.prev = takeSnapshot(ev.GetScorecard(), f.innings) }()
	}
	if !ok {
		return nil, false
	}
	done = f.kind == kindResult
	if prev, ok := ms.byID[ev.GetId()]; ok && ev.GetId() != "" {
		return prev.proto(), done
	}
	start := time.Now()
	pick := eng.line(ms.lines, ms.names, &f)
	out := line{text: pick.text, language: DefaultLanguage}
	if l != nil {
		text, model, reason := l.generate(ctx, &f, ms.names, pick.text, ms.lines, nil)
		if reason == "" {
			out = line{text: text, language: cfg.Language, persona: cfg.Persona, model: model}
		} else {
			out.fallback, out.reason = true, reason
		}
	}
	if out.model != "" {
		ms.lines.commitText(out.text)
	} else {
		ms.lines.commit(pick)
	}
	out.latency = time.Since(start)
	if ev.GetId() != "" {
		ms.byID[ev.GetId()] = out
	}
	return out.proto(), done
}

var (
	_ sdk.Stage     = (*Stage)(nil)
	_ sdk.Describer = (*Stage)(nil)
)
