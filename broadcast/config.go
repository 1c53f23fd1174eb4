package broadcast

import (
	"errors"
	"fmt"
	"net"
	"path"
	"time"

	"github.com/ballcast/ballcast/broadcast/access"
)

// Defaults applied by NewHub to zero Config fields.
const (
	DefaultListen           = ":8080"
	DefaultQueueSize        = 256
	DefaultHistory          = 10000
	DefaultRecentCommentary = 30
	DefaultPingInterval     = 25 * time.Second
)

// Config configures the broadcast hub. It is the `broadcast:` block of the
// pipeline YAML. A zero field takes its default.
type Config struct {
	// Listen is the TCP address the HTTP server listens on, host:port.
	// Default ":8080" (all interfaces). Used by the CLI to start the server;
	// the Hub itself only provides the handler.
	Listen string `yaml:"listen"`

	// AdminListen is the TCP address, host:port, where the operator
	// endpoints /healthz, /readyz and /metrics are served, apart from the
	// public ones, so they can stay off the internet (e.g.
	// "127.0.0.1:9090", or an internal interface scraped by Prometheus).
	// Default empty: they are served on Listen beside the public routes,
	// which keeps a one-port setup and container probes working. It must
	// differ from Listen. Used by the CLI; the Hub serves neither.
	AdminListen string `yaml:"admin_listen"`

	// Access configures frontend authentication (API keys, JWT) and
	// connection limits; see broadcast/access and docs/access.md. Zero
	// admits everyone, within the default per-node limits. Used by the CLI,
	// which installs it as the Hub's Guard.
	Access access.Config `yaml:"access"`

	// QueueSize is each client's outbound queue, in frames. Default 256.
	// A client that falls this many frames behind is disconnected (WebSocket:
	// close code 4008 "slow consumer"; SSE: its response ends) and may
	// resume. A resume's replay counts as one frame. Latest-value
	// subscriptions hold at most one unsent event per match. Larger values tolerate
	// longer stalls at the cost of memory per client while it lags (frames
	// are shared, so about 112 bytes per queued frame).
	QueueSize int `yaml:"queue_size"`

	// History is how many events are kept per match for resume and for
	// GET /v1/matches/{id}/events, in events. Default 10000, enough for a
	// whole Test match. A client resuming from further back gets a fresh
	// snapshot instead of a replay. Memory per match is about History times
	// the encoded event size (a few KB with a scorecard).
	History int `yaml:"history"`

	// RecentCommentary is how many of the latest commentary lines a snapshot
	// carries, in lines. Default 30. Older lines are available through
	// GET /v1/matches/{id}/events.
	RecentCommentary int `yaml:"recent_commentary"`

	// PingInterval is how often each WebSocket client is pinged, and each
	// SSE client sent a ": ping" comment. Default 25s. A WebSocket client
	// that has not answered a ping within another PingInterval is
	// disconnected with close code 4001 "ping timeout"; an SSE write that
	// takes longer than PingInterval (at least 10s) ends the response. Keep
	// it under the idle timeout of any proxy in front of the server.
	PingInterval time.Duration `yaml:"ping_interval"`

	// AllowedOrigins are the browser origins, besides the page's own host,
	// allowed to open the WebSocket: host patterns as in coder/websocket
	// AcceptOptions.OriginPatterns (path.Match syntax, e.g.
	// "*.example.com", "localhost:3000"). Default none: same-origin only.
	// A cross-origin request from any other origin gets 403.
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// Validate reports every problem with the config at once. It does no I/O.
func (c Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("broadcast: %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Listen != "" {
		if _, port, err := net.SplitHostPort(c.Listen); err != nil {
			add("listen", "want host:port, got %q", c.Listen)
		} else if port == "" {
			add("listen", "missing port in %q", c.Listen)
		}
	}
	if c.AdminListen != "" {
		if _, port, err := net.SplitHostPort(c.AdminListen); err != nil {
			add("admin_listen", "want host:port, got %q", c.AdminListen)
		} else if port == "" {
			add("admin_listen", "missing port in %q", c.AdminListen)
		} else if port != "0" && (c.AdminListen == c.Listen || (c.Listen == "" && c.AdminListen == DefaultListen)) {
			add("admin_listen", "must differ from listen %q (leave it empty to serve both on one listener)", c.AdminListen)
		}
	}
	if c.QueueSize < 0 {
		add("queue_size", "must not be negative, got %d", c.QueueSize)
	}
	if c.History < 0 {
		add("history", "must not be negative, got %d", c.History)
	}
	if c.RecentCommentary < 0 {
		add("recent_commentary", "must not be negative, got %d", c.RecentCommentary)
	}
	switch {
	case c.PingInterval < 0:
		add("ping_interval", "must not be negative, got %s", c.PingInterval)
	case c.PingInterval > 0 && c.PingInterval < 10*time.Millisecond:
		add("ping_interval", "must be at least 10ms, got %s", c.PingInterval)
	}
	if err := c.Access.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("broadcast: %w", err))
	}
	for i, p := range c.AllowedOrigins {
		if p == "" {
			add(fmt.Sprintf("allowed_origins[%d]", i), "must not be empty")
			continue
		}
		if _, err := path.Match(p, ""); err != nil {
			add(fmt.Sprintf("allowed_origins[%d]", i), "bad pattern %q: %v", p, err)
		}
	}
	return errors.Join(errs...)
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.History == 0 {
		c.History = DefaultHistory
	}
	if c.RecentCommentary == 0 {
		c.RecentCommentary = DefaultRecentCommentary
	}
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	return c
}
