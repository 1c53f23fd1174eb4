package access

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"time"
)

// Defaults applied by New to zero LimitsConfig fields.
const (
	DefaultPerKey       = 1000
	DefaultPerNode      = 10000
	DefaultConnectRate  = 10.0
	DefaultConnectBurst = 20
)

// MinHS256SecretLen is the shortest HS256 secret New accepts, in bytes (RFC
// 7518 section 3.2: a key at least as long as the hash output).
const MinHS256SecretLen = 32

// Config is the `broadcast.access:` block of the pipeline YAML. The zero
// Config is open access: everyone is admitted, and only the node-wide limits
// (per_node, connect_rate per remote IP) apply. As soon as API keys or a JWT
// key are configured, every request must carry valid credentials.
type Config struct {
	// APIKeys are the static keys frontends may present. Keys are stored
	// hashed; see docs/access.md for the file format.
	APIKeys APIKeysConfig `yaml:"api_keys"`

	// JWT configures JSON Web Token verification for frontends that get a
	// short-lived token from their own backend.
	JWT JWTConfig `yaml:"jwt"`

	// Limits bound concurrent connections and connection attempts.
	Limits LimitsConfig `yaml:"limits"`
}

// APIKeysConfig says where the hashed API keys are. Both sources may be set;
// their keys are merged and a name may appear only once.
type APIKeysConfig struct {
	// File is the path of a keys file: one key a line, "name hash
	// [matches]" (docs/access.md). Default none. The file is re-read when
	// its modification time or size changes, checked at most every 10s
	// during Admit; a file that no longer parses is logged and the old keys
	// stay in force.
	File string `yaml:"file"`

	// Env is the NAME of an environment variable holding keys in the same
	// format, lines separated by newlines or ";". Default none. Read once
	// by New.
	Env string `yaml:"env"`
}

// JWTConfig configures token verification. Set an HS256 secret, an RS256
// public key, or both; a token is verified only with the key of its own
// algorithm, and any other algorithm (including "none") is refused.
type JWTConfig struct {
	// HS256SecretEnv is the NAME of an environment variable holding the
	// HS256 shared secret, at least 32 bytes. Default none.
	HS256SecretEnv string `yaml:"hs256_secret_env"`

	// HS256SecretFile is the path of a file holding the HS256 secret
	// (surrounding whitespace is trimmed). Default none. Mutually exclusive
	// with HS256SecretEnv.
	HS256SecretFile string `yaml:"hs256_secret_file"`

	// RS256PublicKeyFile is the path of a PEM file with one or more RSA
	// public keys (PKIX "PUBLIC KEY", PKCS#1 "RSA PUBLIC KEY" or
	// "CERTIFICATE" blocks). Default none. A token verifying against any of
	// them is accepted, which allows key rotation.
	RS256PublicKeyFile string `yaml:"rs256_public_key_file"`

	// Issuer, when set, must equal the token's "iss" claim. Default: not
	// checked.
	Issuer string `yaml:"issuer"`

	// Audience, when set, must be one of the token's "aud" values. Default:
	// not checked.
	Audience string `yaml:"audience"`

	// Leeway is the clock skew tolerated on "exp" and "nbf", a duration
	// such as "30s". Default 0. At most 5m.
	Leeway time.Duration `yaml:"leeway"`
}

// LimitsConfig bounds connections. A zero field takes its default; a
// negative one is a config error.
type LimitsConfig struct {
	// PerKey is the most concurrent connections one API key or one JWT
	// subject may hold. Default 1000. Beyond it Admit answers 429
	// too_many_connections. Does not apply to open access.
	PerKey int `yaml:"per_key"`

	// PerNode is the most concurrent connections this node admits in all.
	// Default 10000. Beyond it Admit answers 429 too_many_connections.
	PerNode int `yaml:"per_node"`

	// ConnectRate is how many connection attempts per second are allowed
	// from one remote IP (one /64 for IPv6), and separately for one key or
	// subject. Default 10. Beyond it (after ConnectBurst) Admit answers 429 rate_limited
	// with a Retry-After. Failed authentication attempts count against the
	// IP, which slows key guessing.
	ConnectRate float64 `yaml:"connect_rate"`

	// ConnectBurst is how many attempts may arrive at once before
	// ConnectRate applies. Default 20.
	ConnectBurst int `yaml:"connect_burst"`

	// TrustedProxies are the CIDR prefixes of reverse proxies in front of
	// the server (e.g. "10.0.0.0/8"). Default none: the remote IP is the
	// TCP peer. When the peer is a trusted proxy, the client IP is the
	// right-most X-Forwarded-For address that is not itself trusted.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate reports every problem with the config at once. It does no I/O:
// files and variables are read by New.
func (c Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("access: %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.APIKeys.Env != "" && !envName.MatchString(c.APIKeys.Env) {
		add("api_keys.env", "want the name of an environment variable, got %q", c.APIKeys.Env)
	}
	j := c.JWT
	if j.HS256SecretEnv != "" && !envName.MatchString(j.HS256SecretEnv) {
		add("jwt.hs256_secret_env", "want the name of an environment variable, got %q", j.HS256SecretEnv)
	}
	if j.HS256SecretEnv != "" && j.HS256SecretFile != "" {
		add("jwt", "set hs256_secret_env or hs256_secret_file, not both")
	}
	if !j.enabled() && (j.Issuer != "" || j.Audience != "" || j.Leeway != 0) {
		add("jwt", "issuer, audience or leeway set but no hs256_secret_env, hs256_secret_file or rs256_public_key_file")
	}
	if j.Leeway < 0 || j.Leeway > 5*time.Minute {
		add("jwt.leeway", "must be between 0 and 5m, got %s", j.Leeway)
	}
	l := c.Limits
	if l.PerKey < 0 {
		add("limits.per_key", "must not be negative, got %d", l.PerKey)
	}
	if l.PerNode < 0 {
		add("limits.per_node", "must not be negative, got %d", l.PerNode)
	}
	if l.ConnectRate < 0 || l.ConnectRate != l.ConnectRate {
		add("limits.connect_rate", "must be a non-negative number, got %v", l.ConnectRate)
	}
	if l.ConnectBurst < 0 {
		add("limits.connect_burst", "must not be negative, got %d", l.ConnectBurst)
	}
	for i, p := range l.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			add(fmt.Sprintf("limits.trusted_proxies[%d]", i), "want a CIDR prefix or an IP, got %q", p)
		}
	}
	return errors.Join(errs...)
}

func (j JWTConfig) enabled() bool {
	return j.HS256SecretEnv != "" || j.HS256SecretFile != "" || j.RS256PublicKeyFile != ""
}

func (l LimitsConfig) withDefaults() LimitsConfig {
	if l.PerKey == 0 {
		l.PerKey = DefaultPerKey
	}
	if l.PerNode == 0 {
		l.PerNode = DefaultPerNode
	}
	if l.ConnectRate == 0 {
		l.ConnectRate = DefaultConnectRate
	}
	if l.ConnectBurst == 0 {
		l.ConnectBurst = DefaultConnectBurst
	}
	return l
}

// parsePrefix accepts "10.0.0.0/8" or a bare address.
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}
