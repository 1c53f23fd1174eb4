package access

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// keysRecheck is how often Admit looks at the keys file for a change.
const keysRecheck = 10 * time.Second

// Method says how a connection was admitted; it is the "method" label of
// the metrics.
const (
	MethodOpen = "open" // no authentication configured
	MethodKey  = "key"  // an API key
	MethodJWT  = "jwt"  // a JSON Web Token
)

// Guard admits or refuses frontend connections. Admit, Release and Reload
// may be called concurrently; a Guard has no goroutines.
type Guard struct {
	log     zerolog.Logger
	limits  LimitsConfig
	proxies []netip.Prefix
	jwt     *verifier
	envKeys []apiKey
	keysOn  bool // API keys configured (file or env), even if none are listed
	envName string
	file    string
	now     func() time.Time
	metrics *metrics

	// mu guards the fields below: small maps, no I/O under the lock.
	mu        sync.Mutex
	keys      []apiKey // env keys followed by file keys
	fileStamp fileStamp
	checkedAt time.Time
	reloading bool
	conns     int            // admitted, not yet released
	perKey    map[string]int // by key name or JWT subject
	rates     rateLimiters
}

// fileStamp identifies a version of the keys file.
type fileStamp struct {
	mod  time.Time
	size int64
}

// New reads the keys and JWT key material named by cfg and returns a Guard.
// It validates cfg first. Errors name files and variables, never their
// content, and nothing secret is logged.
func New(cfg Config, log zerolog.Logger) (*Guard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Guard{
		log:     log.With().Str("component", "access").Logger(),
		limits:  cfg.Limits.withDefaults(),
		file:    cfg.APIKeys.File,
		keysOn:  cfg.APIKeys.File != "" || cfg.APIKeys.Env != "",
		now:     time.Now,
		perKey:  map[string]int{},
		metrics: newMetrics(),
	}
	g.rates = newRateLimiters(g.limits.ConnectRate, g.limits.ConnectBurst)
	for _, p := range cfg.Limits.TrustedProxies {
		pp, _ := parsePrefix(p) // checked by Validate
		g.proxies = append(g.proxies, pp)
	}
	if name := cfg.APIKeys.Env; name != "" {
		text, ok := os.LookupEnv(name)
		if !ok {
			return nil, errorf("api_keys.env: variable %s is not set", name)
		}
		keys, err := parseKeys("$"+name, text)
		if err != nil {
			return nil, err
		}
		g.envKeys, g.envName = keys, name
	}
	g.keys = g.envKeys
	if g.file != "" {
		keys, stamp, err := g.readKeysFile()
		if err != nil {
			return nil, err
		}
		g.keys, g.fileStamp = keys, stamp
	}
	v, err := newVerifier(cfg.JWT, func() time.Time { return g.now() })
	if err != nil {
		return nil, err
	}
	g.jwt = v
	ev := g.log.Info().
		Bool("api_keys", g.keysOn).Int("keys", len(g.keys)).
		Bool("jwt", v != nil).
		Int("per_key", g.limits.PerKey).Int("per_node", g.limits.PerNode).
		Float64("connect_rate", g.limits.ConnectRate).Int("connect_burst", g.limits.ConnectBurst)
	if v != nil {
		ev = ev.Strs("jwt_algs", v.methods)
	}
	if g.keysOn && len(g.keys) == 0 && v == nil {
		g.log.Warn().Msg("api keys configured but none listed: every connection will be refused")
	}
	if !g.keysOn && v == nil {
		ev.Msg("access open: no api keys or jwt configured")
	} else {
		ev.Msg("access configured")
	}
	return g, nil
}

// readKeysFile reads and parses the keys file and merges it with the env
// keys, refusing a name used in both.
func (g *Guard) readKeysFile() ([]apiKey, fileStamp, error) {
	f, err := os.Open(g.file)
	if err != nil {
		return nil, fileStamp{}, errorf("api_keys.file: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fileStamp{}, errorf("api_keys.file: %v", err)
	}
	if st.Size() > 16<<20 {
		return nil, fileStamp{}, errorf("api_keys.file: %s: larger than 16 MiB", g.file)
	}
	b, err := io.ReadAll(io.LimitReader(f, 16<<20))
	if err != nil {
		return nil, fileStamp{}, errorf("api_keys.file: %s: %v", g.file, err)
	}
	fileKeys, err := parseKeys(g.file, string(b))
	if err != nil {
		return nil, fileStamp{}, err
	}
	keys := append(append([]apiKey(nil), g.envKeys...), fileKeys...)
	names := map[string]bool{}
	hashes := map[[32]byte]bool{}
	for _, k := range g.envKeys {
		names[k.name], hashes[k.hash] = true, true
	}
	for _, k := range fileKeys {
		if names[k.name] {
			return nil, fileStamp{}, errorf("api_keys: key name %q is in both %s and $%s", k.name, g.file, g.envName)
		}
		if hashes[k.hash] {
			return nil, fileStamp{}, errorf("api_keys: key %q in %s has the same hash as a key in $%s", k.name, g.file, g.envName)
		}
	}
	return keys, fileStamp{mod: st.ModTime(), size: st.Size()}, nil
}

// Reload re-reads the keys file now (for SIGHUP). On error the old keys stay
// in force. Connections already admitted are not affected.
func (g *Guard) Reload() error {
	if g.file == "" {
		return nil
	}
	keys, stamp, err := g.readKeysFile()
	if err != nil {
		g.metrics.reloads.WithLabelValues("error").Inc()
		return err
	}
	g.mu.Lock()
	g.keys, g.fileStamp = keys, stamp
	g.mu.Unlock()
	g.metrics.reloads.WithLabelValues("ok").Inc()
	g.log.Info().Str("file", g.file).Int("keys", len(keys)).Msg("api keys reloaded")
	return nil
}

// maybeReload re-reads the keys file when it changed, at most every
// keysRecheck, from at most one request at a time; the others go on with
// the current keys.
func (g *Guard) maybeReload(now time.Time) {
	if g.file == "" {
		return
	}
	g.mu.Lock()
	if g.reloading || now.Sub(g.checkedAt) < keysRecheck {
		g.mu.Unlock()
		return
	}
	g.reloading, g.checkedAt = true, now
	old := g.fileStamp
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.reloading = false
		g.mu.Unlock()
	}()
	st, err := os.Stat(g.file)
	if err != nil {
		g.log.Warn().Err(err).Str("file", g.file).Msg("api keys file not readable; keeping the current keys")
		return
	}
	if st.ModTime().Equal(old.mod) && st.Size() == old.size {
		return
	}
	if err := g.Reload(); err != nil {
		g.log.Error().Err(err).Str("file", g.file).Msg("api keys file rejected; keeping the current keys")
	}
}

// Admit decides whether r may open a connection. Credentials come from
// "Authorization: Bearer <api-key-or-jwt>" or, for browsers that cannot set
// headers on WebSocket and EventSource, the access_token query parameter;
// the header wins when both are present. On success the caller must call
// Ticket.Release when the connection ends. A refusal is an *Error.
func (g *Guard) Admit(r *http.Request) (*Ticket, error) {
	now := g.now()
	ip := g.remoteIP(r)
	if wait, ok := g.rates.allow(ipBucket(ip), now); !ok {
		return nil, g.refused(r, ip, "", rateLimited(wait), "ip")
	}
	t := &Ticket{g: g, method: MethodOpen}
	if g.keysOn || g.jwt != nil {
		g.maybeReload(now)
		cred, e := credential(r)
		if e != nil {
			return nil, g.refused(r, ip, "", e, "")
		}
		if e := g.authenticate(cred, t); e != nil {
			return nil, g.refused(r, ip, "", e, "")
		}
		if wait, ok := g.rates.allow(t.limitKey, now); !ok {
			return nil, g.refused(r, ip, t.subject, rateLimited(wait), "key")
		}
	}
	if e := g.take(t); e != nil {
		return nil, g.refused(r, ip, t.subject, e, "")
	}
	g.metrics.admitted.WithLabelValues(t.method).Inc()
	g.metrics.conns.WithLabelValues(t.method).Inc()
	return t, nil
}

// credential extracts the presented credential, or refuses.
func credential(r *http.Request) (string, *Error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", refuse(http.StatusUnauthorized, CodeUnauthorized, `authorization header must be "Bearer <credential>"`)
		}
		cred = strings.TrimSpace(cred)
		if cred == "" {
			return "", refuse(http.StatusUnauthorized, CodeUnauthorized, "credentials required")
		}
		return cred, nil
	}
	if cred := r.URL.Query().Get("access_token"); cred != "" {
		return cred, nil
	}
	return "", refuse(http.StatusUnauthorized, CodeUnauthorized, "credentials required")
}

// authenticate fills t from cred, or refuses.
func (g *Guard) authenticate(cred string, t *Ticket) *Error {
	if len(cred) > maxTokenLen {
		return refuse(http.StatusUnauthorized, CodeUnauthorized, "credential too long")
	}
	if g.jwt != nil && looksLikeJWT(cred) {
		c, e := g.jwt.verify(cred)
		if e != nil {
			return e
		}
		t.method, t.subject, t.limitKey = MethodJWT, c.Subject, "jwt:"+c.Subject
		t.expires = c.ExpiresAt.Time
		if c.Matches != nil {
			t.matches = c.Matches.set
		}
		return nil
	}
	if g.keysOn {
		g.mu.Lock()
		keys := g.keys
		g.mu.Unlock()
		if k, ok := lookupKey(keys, cred); ok {
			t.method, t.subject, t.limitKey = MethodKey, k.name, "key:"+k.name
			t.matches = k.matches
			return nil
		}
	}
	if g.jwt != nil && !g.keysOn {
		return refuse(http.StatusUnauthorized, CodeInvalidToken, "token is malformed")
	}
	return refuse(http.StatusUnauthorized, CodeUnauthorized, "credentials not recognised")
}

// take reserves a per-node and, when authenticated, a per-key slot.
func (g *Guard) take(t *Ticket) *Error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conns >= g.limits.PerNode {
		return refuse(http.StatusTooManyRequests, CodeTooManyConnections, "server connection limit reached")
	}
	if t.limitKey != "" {
		if g.perKey[t.limitKey] >= g.limits.PerKey {
			return refuse(http.StatusTooManyRequests, CodeTooManyConnections, "connection limit for this credential reached")
		}
		g.perKey[t.limitKey]++
	}
	g.conns++
	return nil
}

func (g *Guard) release(t *Ticket) {
	g.mu.Lock()
	g.conns--
	if t.limitKey != "" {
		if n := g.perKey[t.limitKey] - 1; n > 0 {
			g.perKey[t.limitKey] = n
		} else {
			delete(g.perKey, t.limitKey)
		}
	}
	g.mu.Unlock()
	g.metrics.conns.WithLabelValues(t.method).Dec()
}

func rateLimited(wait time.Duration) *Error {
	e := refuse(http.StatusTooManyRequests, CodeRateLimited, "too many connection attempts")
	e.retryAfter = wait
	return e
}

// refused counts and logs a refusal at debug level: remote IP, code and, once
// authenticated, the subject. Never the credential.
func (g *Guard) refused(r *http.Request, ip netip.Addr, subject string, e *Error, scope string) error {
	g.metrics.refused.WithLabelValues(e.code).Inc()
	if scope != "" {
		g.metrics.rateLimited.WithLabelValues(scope).Inc()
	}
	ev := g.log.Debug().Str("remote_ip", ip.String()).Str("path", r.URL.Path).Str("code", e.code).Str("reason", e.msg)
	if subject != "" {
		ev = ev.Str("subject", subject)
	}
	ev.Msg("connection refused")
	return e
}

// remoteIP is the TCP peer, or, when the peer is a trusted proxy, the
// right-most X-Forwarded-For address that is not a trusted proxy.
func (g *Guard) remoteIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if !g.trusted(peer) {
		return peer
	}
	hops := r.Header.Values("X-Forwarded-For")
	var all []string
	for _, h := range hops {
		all = append(all, strings.Split(h, ",")...)
	}
	for i := len(all) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(all[i]))
		if err != nil {
			return peer
		}
		a = a.Unmap()
		if !g.trusted(a) {
			return a
		}
	}
	return peer
}

func (g *Guard) trusted(a netip.Addr) bool {
	for _, p := range g.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Ticket is an admitted connection. Release it when the connection ends.
type Ticket struct {
	g        *Guard
	method   string
	subject  string
	limitKey string   // "" for open access
	matches  matchSet // nil = all
	expires  time.Time
	released atomic.Bool
}

// Allowed reports whether the connection may follow match.
func (t *Ticket) Allowed(match string) bool { return t.matches.allows(match) }

// Release frees the connection's slots. It is idempotent and safe to call
// concurrently.
func (t *Ticket) Release() {
	if t.released.CompareAndSwap(false, true) {
		t.g.release(t)
	}
}

// Subject names the credential for logs: the API key's name or the JWT
// "sub"; "" for open access.
func (t *Ticket) Subject() string { return t.subject }

// Method is how the connection was admitted: MethodOpen, MethodKey or
// MethodJWT.
func (t *Ticket) Method() string { return t.method }

// Expires is the JWT's "exp", when the connection must be closed; zero for
// API keys and open access.
func (t *Ticket) Expires() time.Time { return t.expires }

func errorf(format string, args ...any) error {
	return fmt.Errorf("access: "+format, args...)
}

// ipBucket is the rate bucket of a client address: the address for IPv4,
// its /64 for IPv6, since one host usually holds a whole /64 and could
// otherwise step around the limit.
func ipBucket(ip netip.Addr) string {
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + ip.String()
}
