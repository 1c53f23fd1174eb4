package sportsgameodds

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ballcast/ballcast/internal/secret"
)

// Feeds the stream endpoint serves.
const (
	FeedLive     = "events:live"
	FeedUpcoming = "events:upcoming"
	FeedByID     = "events:byid"
)

// Config configures a SportsGameOdds source: the `config:` section of a
// `type: sportsgameodds` source in the pipeline YAML. Zero values mean the
// defaults stated on each field.
type Config struct {
	// APIKeyEnv names the environment variable holding the API key.
	// Default "SPORTSGAMEODDS_API_KEY" when APIKeyFile is empty. The key
	// never appears in the YAML, in errors or in logs.
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env"`
	// APIKeyFile is a file holding the API key (surrounding whitespace
	// trimmed), instead of APIKeyEnv.
	APIKeyFile string `yaml:"api_key_file" json:"api_key_file"`

	// APIURL is the REST base, up to and including the version. Default
	// "https://api.sportsgameodds.com/v2".
	APIURL string `yaml:"api_url" json:"api_url"`

	// Feed is events:live (every event in progress, the default),
	// events:upcoming (one league's upcoming events; needs league_id) or
	// events:byid (one event; needs event_id).
	Feed     string `yaml:"feed" json:"feed"`
	LeagueID string `yaml:"league_id" json:"league_id"`
	EventID  string `yaml:"event_id" json:"event_id"`

	// HTTPTimeout bounds each REST call and auth request. Default 15s.
	HTTPTimeout time.Duration `yaml:"http_timeout" json:"http_timeout"`
	// BackoffMin and BackoffMax bound the jittered exponential wait
	// between stream sessions, failed fetches and Pusher transport
	// reconnects. Defaults 1s and 60s.
	BackoffMin time.Duration `yaml:"backoff_min" json:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max" json:"backoff_max"`
	// MaxAttempts is how many stream sessions in a row may fail (stream
	// request, or a Pusher connection that never subscribed) before Run
	// gives up. Default 10. HTTP 401 and 403 end Run at once.
	MaxAttempts int `yaml:"max_attempts" json:"max_attempts"`
	// ActivityTimeout caps the Pusher activity timeout (the server's
	// applies when shorter). Default 120s.
	ActivityTimeout time.Duration `yaml:"activity_timeout" json:"activity_timeout"`
	// PongTimeout is how long to wait for a pong before reconnecting.
	// Default 30s, or pusherOptions.pongTimeout when the provider gives one.
	PongTimeout time.Duration `yaml:"pong_timeout" json:"pong_timeout"`
	// MaxResponseBytes caps a REST response. Default 32 MiB.
	MaxResponseBytes int64 `yaml:"max_response_bytes" json:"max_response_bytes"`
}

// Defaults.
const (
	DefaultAPIKeyEnv   = "SPORTSGAMEODDS_API_KEY"
	DefaultAPIURL      = "https://api.sportsgameodds.com/v2"
	DefaultHTTPTimeout = 15 * time.Second
	DefaultBackoffMin  = time.Second
	DefaultBackoffMax  = 60 * time.Second
	DefaultMaxAttempts = 10
)

func (c Config) withDefaults() Config {
	if c.APIKeyEnv == "" && c.APIKeyFile == "" {
		c.APIKeyEnv = DefaultAPIKeyEnv
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	c.APIURL = strings.TrimSuffix(c.APIURL, "/")
	if c.Feed == "" {
		c.Feed = FeedLive
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.HTTPTimeout, DefaultHTTPTimeout)
	def(&c.BackoffMin, DefaultBackoffMin)
	def(&c.BackoffMax, DefaultBackoffMax)
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = 32 << 20
	}
	return c
}

// Validate reports every problem at once, each prefixed with its field.
// It does no I/O.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	if c.APIKeyEnv != "" && c.APIKeyFile != "" {
		bad("api_key_file", "set api_key_env or api_key_file, not both")
	}
	if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("api_url", "%q: want http(s)://host/...", c.APIURL)
	}
	switch c.Feed {
	case FeedLive:
	case FeedUpcoming:
		if c.LeagueID == "" {
			bad("league_id", "required for feed %s", FeedUpcoming)
		}
	case FeedByID:
		if c.EventID == "" {
			bad("event_id", "required for feed %s", FeedByID)
		}
	default:
		bad("feed", "%q: want %s, %s or %s", c.Feed, FeedLive, FeedUpcoming, FeedByID)
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"http_timeout", c.HTTPTimeout}, {"backoff_min", c.BackoffMin}, {"backoff_max", c.BackoffMax},
		{"activity_timeout", c.ActivityTimeout}, {"pong_timeout", c.PongTimeout}} {
		if d.v < 0 {
			bad(d.field, "%v: want > 0", d.v)
		}
	}
	if c.BackoffMax < c.BackoffMin {
		bad("backoff_max", "%v below backoff_min %v", c.BackoffMax, c.BackoffMin)
	}
	if c.MaxAttempts < 1 {
		bad("max_attempts", "%d: want >= 1", c.MaxAttempts)
	}
	if c.MaxResponseBytes < 0 {
		bad("max_response_bytes", "%d: want > 0", c.MaxResponseBytes)
	}
	if len(errs) > 0 {
		return fmt.Errorf("sportsgameodds: config: %w", errors.Join(errs...))
	}
	return nil
}

// apiKey reads the key from the file or environment variable named.
func (c Config) apiKey() (string, error) {
	k, err := secret.Read(c.APIKeyEnv, c.APIKeyFile)
	if err != nil {
		return "", fmt.Errorf("sportsgameodds: api key: %w", err)
	}
	return k, nil
}
