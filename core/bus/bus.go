package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/event/eventpb"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// ErrNoID is returned for an event without an ID: the ID is what
// deduplicates appends and feed publishes.
var ErrNoID = errors.New("bus: event has no id")

// drainTimeout bounds Close's wait for in-flight publishes and acks.
const drainTimeout = 5 * time.Second

// Bus is ballcast's connection to NATS JetStream: the ingest log, the feed
// stream and the plugin state bucket. All methods are safe for concurrent
// use.
type Bus struct {
	cfg    Config
	log    zerolog.Logger
	names  names
	srv    *server.Server // nil for an external cluster
	unlock func()         // releases the data dir lock; nil for an external cluster
	nc     *nats.Conn
	js     jetstream.JetStream

	ingest jetstream.Stream
	feed   jetstream.Stream
	state  *KV

	closed    chan struct{} // closed by the connection's ClosedHandler
	closeOnce sync.Once
	closeErr  error
}

// names are the JetStream objects of one deployment (one Prefix).
type names struct {
	ingestStream, feedStream, bucket string
	ingestRoot, feedRoot             string // subject roots: "ingest", "blue.ingest"
	consumer                         string // durable pipeline consumer, "-<generation>" appended
}

func newNames(prefix string) names {
	n := names{
		ingestStream: "BALLCAST_INGEST",
		feedStream:   "BALLCAST_FEED",
		bucket:       "BALLCAST_STATE",
		ingestRoot:   "ingest",
		feedRoot:     "feed",
		consumer:     "pipeline",
	}
	if prefix != "" {
		n.ingestStream = prefix + "_" + n.ingestStream
		n.feedStream = prefix + "_" + n.feedStream
		n.bucket = prefix + "_" + n.bucket
		n.ingestRoot = prefix + "." + n.ingestRoot
		n.feedRoot = prefix + "." + n.feedRoot
	}
	return n
}

func (n names) ingestSubject(match string) string { return n.ingestRoot + "." + encodeToken(match) }
func (n names) feedSubject(match string) string   { return n.feedRoot + "." + encodeToken(match) }

// Open connects to NATS, starting the embedded server first when cfg.URL is
// empty, and creates or updates the ingest and feed streams and the state
// bucket. ctx bounds the whole start, connecting included. cfg is
// validated; zero fields take their defaults.
func Open(ctx context.Context, cfg Config, log zerolog.Logger) (*Bus, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	b := &Bus{cfg: cfg, log: log, names: newNames(cfg.Prefix), closed: make(chan struct{})}

	token := ""
	if cfg.TokenEnv != "" {
		token = os.Getenv(cfg.TokenEnv)
		if token == "" {
			return nil, fmt.Errorf("bus: token_env %s: variable is empty or unset", cfg.TokenEnv)
		}
	}
	opts := []nats.Option{
		nats.Name("ballcast"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.ClosedHandler(func(*nats.Conn) { close(b.closed) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn().Err(err).Msg("nats disconnected")
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info().Str("server", redactURLs(nc.ConnectedUrl())).Str("server_name", nc.ConnectedServerName()).Msg("nats reconnected")
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			ev := log.Warn().Err(err)
			if sub != nil {
				ev = ev.Str("subject", sub.Subject)
			}
			ev.Msg("nats async error")
		}),
		nats.DrainTimeout(drainTimeout),
	}
	if token != "" {
		opts = append(opts, nats.Token(token))
	}
	if cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}

	where := redactURLs(cfg.URL)
	if cfg.URL == "" {
		srv, unlock, err := startServer(cfg, token, log)
		if err != nil {
			return nil, err
		}
		b.srv, b.unlock = srv, unlock
		if cfg.Listen != "" && token == "" {
			log.Warn().Str("listen", cfg.Listen).Msg("embedded nats accepts clients without authentication: set token_env")
		}
		opts = append(opts, nats.InProcessServer(srv))
		where = "embedded:" + cfg.DataDir
	}
	nc, err := connect(ctx, cfg.URL, opts)
	if err != nil {
		b.shutdownServer()
		return nil, fmt.Errorf("bus: connect %s: %w", where, err)
	}
	b.nc = nc
	if b.js, err = jetstream.New(nc); err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	if mp := nc.MaxPayload(); mp < MaxPayload {
		log.Warn().Int64("max_payload", mp).Int("want", MaxPayload).
			Msg("nats max_payload is below 8 MiB: large plugin state or events will be refused")
	}
	if err := b.provisionRetrying(ctx); err != nil {
		_ = b.Close()
		return nil, err
	}
	log.Info().Str("nats", where).Str("server", redactURLs(nc.ConnectedUrl())).Str("server_name", nc.ConnectedServerName()).
		Str("ingest", b.names.ingestStream).Str("feed", b.names.feedStream).Str("bucket", b.names.bucket).Msg("bus open")
	return b, nil
}

// connect dials NATS but gives up when ctx is done, so an unreachable
// cluster cannot hang Open.
func connect(ctx context.Context, url string, opts []nats.Option) (*nats.Conn, error) {
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d > 0 && d < nats.DefaultTimeout {
			opts = append(opts, nats.Timeout(d))
		}
	}
	type result struct {
		nc  *nats.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		nc, err := nats.Connect(url, opts...)
		done <- result{nc, err}
	}()
	select {
	case r := <-done:
		return r.nc, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.nc != nil {
				r.nc.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// provisionFor bounds how long Open retries creating the streams and the
// bucket while the cluster cannot answer.
const provisionFor = 30 * time.Second

// provisionRetrying runs provision until it succeeds, fails for good, or
// provisionFor (or ctx) runs out. A cluster that is electing its
// metadata leader (just started, or a node just lost) answers stream
// requests late or not at all for a few seconds; a node starting then
// should wait for it rather than exit.
func (b *Bus) provisionRetrying(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, provisionFor)
	defer cancel()
	for attempt := 1; ; attempt++ {
		err := b.provision(ctx)
		if err == nil || !transient(err) || ctx.Err() != nil {
			return err
		}
		b.log.Warn().Err(err).Int("attempt", attempt).Msg("jetstream not ready; retrying")
		select {
		case <-ctx.Done():
			return err
		case <-time.After(nextWait):
		}
	}
}

// transient reports whether a JetStream request failed for want of an
// answer (a timeout, no responders) or with a server-side 5xx, rather than
// being refused.
func transient(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code >= 500
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders)
}

// provisionAttempt bounds one attempt of provision.
const provisionAttempt = 5 * time.Second

// provision creates or updates the streams and the bucket. Each attempt
// has its own deadline, so an unanswered request leaves time to retry.
func (b *Bus) provision(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, provisionAttempt)
	defer cancel()
	base := jetstream.StreamConfig{
		Retention:  jetstream.LimitsPolicy,
		MaxAge:     b.cfg.Retention,
		Duplicates: b.cfg.DedupWindow,
		Storage:    jetstream.FileStorage,
		Replicas:   b.cfg.Replicas,
		Discard:    jetstream.DiscardOld,
	}
	ic := base
	ic.Name = b.names.ingestStream
	ic.Description = "ballcast ingest log: normalized events by match, before the pipeline"
	ic.Subjects = []string{b.names.ingestRoot + ".>"}
	// No direct get: LastSeq must read the leader, not a lagging replica.
	var err error
	if b.ingest, err = b.js.CreateOrUpdateStream(ctx, ic); err != nil {
		return fmt.Errorf("bus: stream %s: %w", ic.Name, err)
	}
	fc := base
	fc.Name = b.names.feedStream
	fc.Description = "ballcast feed: pipeline output by match, for the broadcast hubs"
	fc.Subjects = []string{b.names.feedRoot + ".>"}
	if b.feed, err = b.js.CreateOrUpdateStream(ctx, fc); err != nil {
		return fmt.Errorf("bus: stream %s: %w", fc.Name, err)
	}
	kv, err := b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       b.names.bucket,
		Description:  "ballcast plugin state",
		History:      1,
		MaxValueSize: MaxValueSize,
		Storage:      jetstream.FileStorage,
		Replicas:     b.cfg.Replicas,
	})
	if err != nil {
		return fmt.Errorf("bus: bucket %s: %w", b.names.bucket, err)
	}
	b.state = &KV{kv: kv, bucket: b.names.bucket}
	return nil
}

// Close drains the connection (pending publishes and acks are sent) and
// shuts the embedded server down, which flushes its store. It is safe to
// call more than once; consumers' channels close.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		if b.nc != nil {
			if err := b.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
				b.closeErr = fmt.Errorf("bus: drain: %w", err)
				b.nc.Close()
			}
			select {
			case <-b.closed:
			case <-time.After(drainTimeout + time.Second):
				b.nc.Close()
			}
		}
		b.shutdownServer()
		b.log.Debug().Msg("bus closed")
	})
	return b.closeErr
}

func (b *Bus) shutdownServer() {
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
		b.unlock()
		b.unlock = func() {}
	}
}

// ClientURL is the URL other nodes can connect to: the embedded server's
// listen address when Listen is set (the host name when it listens on all
// interfaces), the configured cluster without user info for an external
// one, and "" when the embedded server is in-process only.
func (b *Bus) ClientURL() string {
	if b.srv == nil {
		return redactURLs(b.cfg.URL)
	}
	if b.cfg.Listen == "" {
		return ""
	}
	addr, ok := b.srv.Addr().(*net.TCPAddr)
	if !ok {
		return b.srv.ClientURL()
	}
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return "nats://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// Ready reports nil when the connection is up and JetStream answers for
// both streams; otherwise the error says what is wrong (for /readyz).
func (b *Bus) Ready(ctx context.Context) error {
	if st := b.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("bus: nats connection %s", strings.ToLower(st.String()))
	}
	for _, s := range []jetstream.Stream{b.ingest, b.feed} {
		if _, err := s.Info(ctx); err != nil {
			return fmt.Errorf("bus: stream %s: %w", s.CachedInfo().Config.Name, err)
		}
	}
	return nil
}

// encodeEvent is an event's log form: the plugin wire proto.
func encodeEvent(ev *event.Event) ([]byte, error) {
	return proto.Marshal(eventpb.ToProto(ev))
}

func decodeEvent(data []byte) (event.Event, error) {
	var p pb.Event
	if err := proto.Unmarshal(data, &p); err != nil {
		return event.Event{}, err
	}
	return eventpb.FromProto(&p)
}

// publish appends ev to subject with its ID as the JetStream message ID and
// waits for the stream's acknowledgement.
func (b *Bus) publish(ctx context.Context, stream, subject string, ev *event.Event) (*jetstream.PubAck, error) {
	if ev.ID == "" {
		return nil, ErrNoID
	}
	data, err := encodeEvent(ev)
	if err != nil {
		return nil, err
	}
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{jetstream.MsgIDHeader: []string{ev.ID}}}
	return b.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(stream))
}
