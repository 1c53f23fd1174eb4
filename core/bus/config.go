package bus

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Defaults applied by Open to zero Config fields.
const (
	DefaultRetention     = 72 * time.Hour
	DefaultDedupWindow   = 2 * time.Hour
	DefaultReplicas      = 1
	DefaultAckWait       = 30 * time.Minute
	DefaultMaxAckPending = 8192

	// MaxPayload is the largest message the embedded server accepts and the
	// largest value the state bucket stores (8 MiB): a Test match's plugin
	// state can be big. An external cluster must set max_payload to at
	// least this for such values; Open warns when it is smaller.
	MaxPayload = 8 << 20
)

// Config is the `bus:` block of the pipeline YAML. Zero fields take the
// defaults documented on each field.
type Config struct {
	// URL of an external NATS cluster, a comma-separated list such as
	// "nats://a:4222,nats://b:4222". Empty (the default) runs an embedded
	// NATS server with JetStream inside the process and connects to it
	// in-process, without a socket.
	URL string `yaml:"url"`

	// DataDir is the embedded server's JetStream store directory; the
	// durable logs and the state bucket live there, so keep it across
	// restarts. Default: $BALLCAST_DATA_DIR/nats, else
	// $XDG_STATE_HOME/ballcast/nats, else ~/.local/state/ballcast/nats
	// (on macOS and Windows: the user config dir, ballcast/nats). Embedded
	// mode only.
	DataDir string `yaml:"data_dir"`

	// Listen makes the embedded server also accept NATS clients (other
	// ballcast nodes, the nats CLI) on host:port, e.g. "127.0.0.1:4222";
	// port 0 picks a free port (see Bus.ClientURL). Empty (the default)
	// accepts only the in-process connection. Set TokenEnv to require a
	// token from those clients. Embedded mode only.
	Listen string `yaml:"listen"`

	// Retention is the maximum age of ingest and feed entries; older ones
	// are removed. Default 72h. Must be at least DedupWindow.
	Retention time.Duration `yaml:"retention"`

	// DedupWindow is how long JetStream remembers message IDs (event IDs)
	// to drop duplicate appends and feed publishes. Default 2h.
	DedupWindow time.Duration `yaml:"dedup_window"`

	// Replicas of the streams and the state bucket on an external
	// cluster (1 to 5). Default 1. The embedded server supports only 1.
	Replicas int `yaml:"replicas"`

	// CredsFile is the path of a NATS credentials file (JWT + nkey seed)
	// for an external cluster. Its content is never logged.
	CredsFile string `yaml:"creds_file"`

	// TokenEnv is the name of an environment variable holding a NATS
	// token: sent to an external cluster, or required by the embedded
	// server from clients connecting on Listen. The token is never logged.
	TokenEnv string `yaml:"token_env"`

	// Prefix namespaces everything ballcast creates so that several
	// deployments can share a cluster: with prefix "blue" the streams are
	// blue_BALLCAST_INGEST and blue_BALLCAST_FEED, the subjects
	// blue.ingest.<match> and blue.feed.<match>, the bucket
	// blue_BALLCAST_STATE. Default "" (BALLCAST_INGEST, ingest.<match>, ...).
	// Letters, digits, '_' and '-' only, at most 32.
	Prefix string `yaml:"prefix"`

	// AckWait is how long the server waits for the pipeline to acknowledge
	// an ingest entry before it redelivers it. The bus already hands every
	// entry out once per process and resumes after a restart without
	// waiting, so this only bounds how long a lost acknowledgement goes
	// unnoticed. Default 30m.
	AckWait time.Duration `yaml:"ack_wait"`

	// MaxAckPending is the most ingest entries handed out and not yet
	// acknowledged; when reached, delivery pauses (flow control). Default
	// 8192.
	MaxAckPending int `yaml:"max_ack_pending"`
}

// FieldError is one problem Validate found, for one YAML key of the bus
// block, so that the caller can position it (pipeline.Section.Errorf).
type FieldError struct {
	Field string // the yaml key, e.g. "listen"
	Msg   string
}

func (e *FieldError) Error() string { return "bus." + e.Field + ": " + e.Msg }

// Validate reports every problem in c at once as an errors.Join of
// *FieldError. It does no I/O.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	external := c.URL != ""
	if external {
		for _, u := range strings.Split(c.URL, ",") {
			if err := checkServerURL(strings.TrimSpace(u)); err != nil {
				bad("url", "%v", err)
			}
		}
		if c.DataDir != "" {
			bad("data_dir", "only for the embedded server (url is set)")
		}
		if c.Listen != "" {
			bad("listen", "only for the embedded server (url is set)")
		}
	} else {
		if c.Replicas > 1 {
			bad("replicas", "the embedded server supports only 1 (set url for a cluster)")
		}
		if c.CredsFile != "" {
			bad("creds_file", "only for an external cluster (url is empty)")
		}
	}
	if c.Listen != "" {
		if _, port, err := net.SplitHostPort(c.Listen); err != nil {
			bad("listen", "must be host:port: %v", err)
		} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			bad("listen", "port %q: must be 0 to 65535", port)
		}
	}
	if c.Retention < 0 {
		bad("retention", "must not be negative")
	}
	if c.DedupWindow < 0 {
		bad("dedup_window", "must not be negative")
	}
	if r, d := cmp.Or(c.Retention, DefaultRetention), cmp.Or(c.DedupWindow, DefaultDedupWindow); c.Retention >= 0 && c.DedupWindow >= 0 && d > r {
		bad("dedup_window", "%s exceeds retention %s", d, r)
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		bad("replicas", "must be 1 to 5")
	}
	if c.TokenEnv != "" && !validEnvName(c.TokenEnv) {
		bad("token_env", "%q is not an environment variable name", c.TokenEnv)
	}
	if c.CredsFile != "" && c.TokenEnv != "" {
		bad("token_env", "use either creds_file or token_env, not both")
	}
	if len(c.Prefix) > 32 || (c.Prefix != "" && !isPlain(c.Prefix)) {
		bad("prefix", "letters, digits, '_' and '-' only, at most 32")
	} else if c.Prefix == "ingest" || c.Prefix == "feed" {
		bad("prefix", "%q would overlap the subjects of an unprefixed deployment", c.Prefix)
	}
	if c.AckWait < 0 {
		bad("ack_wait", "must not be negative")
	} else if c.AckWait > 0 && c.AckWait < time.Second {
		bad("ack_wait", "must be at least 1s")
	}
	if c.MaxAckPending < 0 {
		bad("max_ack_pending", "must not be negative")
	}
	return errors.Join(errs...)
}

// withDefaults returns c with every zero field set to its default. DataDir
// is resolved only in embedded mode.
func (c Config) withDefaults() Config {
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.DedupWindow == 0 {
		c.DedupWindow = DefaultDedupWindow
	}
	if c.Replicas == 0 {
		c.Replicas = DefaultReplicas
	}
	if c.AckWait == 0 {
		c.AckWait = DefaultAckWait
	}
	if c.MaxAckPending == 0 {
		c.MaxAckPending = DefaultMaxAckPending
	}
	if c.URL == "" && c.DataDir == "" {
		c.DataDir = DefaultDataDir()
	}
	return c
}

// DefaultDataDir is the embedded JetStream store directory used when
// Config.DataDir is empty: $BALLCAST_DATA_DIR/nats, else
// $XDG_STATE_HOME/ballcast/nats, else ~/.local/state/ballcast/nats (the
// user config dir on macOS and Windows), else ./ballcast-data/nats.
func DefaultDataDir() string {
	if d := os.Getenv("BALLCAST_DATA_DIR"); d != "" {
		return filepath.Join(d, "nats")
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "ballcast", "nats")
	}
	switch runtime.GOOS {
	case "darwin", "windows", "ios", "plan9":
		if d, err := os.UserConfigDir(); err == nil {
			return filepath.Join(d, "ballcast", "nats")
		}
	default:
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, ".local", "state", "ballcast", "nats")
		}
	}
	return filepath.Join("ballcast-data", "nats")
}

// checkServerURL checks one entry of Config.URL.
func checkServerURL(s string) error {
	if s == "" {
		return errors.New("empty server in list")
	}
	if !strings.Contains(s, "://") {
		s = "nats://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Parse errors quote the input, which may hold a password.
		return errors.New("not a valid URL")
	}
	switch u.Scheme {
	case "nats", "tls", "ws", "wss":
	default:
		return fmt.Errorf("scheme %q: want nats, tls, ws or wss", u.Scheme)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%s: no host", u.Redacted())
	}
	return nil
}

// redactURLs returns the comma-separated server list with passwords and
// tokens in user info removed, for logs and errors.
func redactURLs(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		s := p
		if !strings.Contains(s, "://") {
			s = "nats://" + s
		}
		u, err := url.Parse(s)
		if err != nil {
			parts[i] = "<invalid>"
			continue
		}
		u.User = nil
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}

func validEnvName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}
