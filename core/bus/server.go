package bus

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"
)

// startServer starts the embedded NATS server with JetStream storing in
// cfg.DataDir. It listens on cfg.Listen when set and is otherwise reachable
// only in-process. token, when not empty, is required from every client.
//
// release unlocks the data dir; call it after the server has shut down.
func startServer(cfg Config, token string, log zerolog.Logger) (_ *server.Server, release func(), err error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("bus: data dir %s: %w", cfg.DataDir, err)
	}
	unlock, err := lockDir(cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			unlock()
		}
	}()
	opts := &server.Options{
		ServerName:         "ballcast",
		JetStream:          true,
		StoreDir:           cfg.DataDir,
		MaxPayload:         MaxPayload,
		NoSigs:             true,
		DontListen:         cfg.Listen == "",
		Authorization:      token,
		JetStreamMaxMemory: 64 << 20, // nothing ballcast creates uses memory storage
	}
	if cfg.Listen != "" {
		host, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return nil, nil, fmt.Errorf("bus: listen %s: %w", cfg.Listen, err)
		}
		// The server only logs a failed bind and would leave Open waiting:
		// try the address first for a clear error.
		ln, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			return nil, nil, fmt.Errorf("bus: listen: %w", err)
		}
		ln.Close()
		opts.Host = host
		if opts.Port, err = strconv.Atoi(port); err != nil {
			return nil, nil, fmt.Errorf("bus: listen %s: %w", cfg.Listen, err)
		}
		if opts.Port == 0 {
			opts.Port = server.RANDOM_PORT
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, nil, fmt.Errorf("bus: embedded server: %w", err)
	}
	s.SetLoggerV2(serverLogger{log.With().Str("component", "nats-server").Logger()}, false, false, false)
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, nil, fmt.Errorf("bus: embedded server in %s: not ready after 10s", cfg.DataDir)
	}
	if !s.JetStreamEnabled() {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, nil, fmt.Errorf("bus: embedded server in %s: jetstream did not start", cfg.DataDir)
	}
	return s, unlock, nil
}

// serverLogger routes the embedded server's log to zerolog. Its notices
// (startup banner, store recovery) are debug level: ballcast logs what
// matters itself.
type serverLogger struct{ log zerolog.Logger }

func (l serverLogger) Noticef(format string, v ...any) { l.log.Debug().Msgf(format, v...) }
func (l serverLogger) Warnf(format string, v ...any)   { l.log.Warn().Msgf(format, v...) }
func (l serverLogger) Fatalf(format string, v ...any)  { l.log.Error().Msgf(format, v...) }
func (l serverLogger) Errorf(format string, v ...any)  { l.log.Error().Msgf(format, v...) }
func (l serverLogger) Debugf(format string, v ...any)  { l.log.Debug().Msgf(format, v...) }
func (l serverLogger) Tracef(format string, v ...any)  { l.log.Trace().Msgf(format, v...) }

var _ server.Logger = serverLogger{}
