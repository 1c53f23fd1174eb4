package bus

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ballcast/ballcast/internal/polltest"
	"github.com/nats-io/nats-server/v2/server"
)

// startExternal runs a real nats-server with JetStream on a random port,
// as an external cluster of one, and returns its client URL.
func startExternal(t testing.TB, token string) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		Host:          "127.0.0.1",
		Port:          server.RANDOM_PORT,
		JetStream:     true,
		StoreDir:      t.TempDir(),
		MaxPayload:    MaxPayload,
		NoSigs:        true,
		NoLog:         true,
		Authorization: token,
	})
	if err != nil {
		t.Fatalf("nats-server: %v", err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(wait) {
		t.Fatalf("nats-server not ready")
	}
	return s.ClientURL()
}

func TestExternal(t *testing.T) {
	t.Setenv("BALLCAST_TEST_NATS_TOKEN", "s3cret-token")
	url := startExternal(t, "s3cret-token")
	b := open(t, Config{URL: url, TokenEnv: "BALLCAST_TEST_NATS_TOKEN", AckWait: time.Hour})
	if err := b.Ready(t.Context()); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	if got := b.ClientURL(); got != url {
		t.Fatalf("ClientURL = %q, want %q", got, url)
	}
	appendAll(t, b, ball("m", 1), ball("m", 2))
	if dup, err := b.Append(t.Context(), ball("m", 2)); err != nil || !dup {
		t.Fatalf("duplicate Append: dup=%v err=%v", dup, err)
	}
	if n, err := b.LastSeq(t.Context(), "m"); err != nil || n != 2 {
		t.Fatalf("LastSeq = %d, %v; want 2", n, err)
	}
	ch, err := b.ConsumeIngest(t.Context())
	if err != nil {
		t.Fatalf("ConsumeIngest: %v", err)
	}
	feed, err := b.ConsumeFeed(t.Context())
	if err != nil {
		t.Fatalf("ConsumeFeed: %v", err)
	}
	for want := uint64(1); want <= 2; want++ {
		d := recv(t, ch)
		if d.Event.Seq != want {
			t.Fatalf("delivered seq %d, want %d", d.Event.Seq, want)
		}
		if err := b.PublishFeed(t.Context(), d.Event); err != nil {
			t.Fatalf("PublishFeed: %v", err)
		}
		d.Ack()
		if ev := recv(t, feed); ev.ID != d.Event.ID {
			t.Fatalf("feed got %s, want %s", ev.ID, d.Event.ID)
		}
	}
	if err := b.State().Put(t.Context(), "stats/m", []byte("x")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if v, ok, err := b.State().Get(t.Context(), "stats/m"); err != nil || !ok || string(v) != "x" {
		t.Fatalf("Get = %q, %v, %v", v, ok, err)
	}
}

func TestExternalErrors(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		start := time.Now()
		_, err := Open(ctx, Config{URL: "nats://user:hunter2@127.0.0.1:1"}, testLog(t))
		if err == nil || !strings.Contains(err.Error(), "bus: connect nats://127.0.0.1:1") {
			t.Fatalf("Open unreachable: got %v, want a connect error naming the server", err)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("error leaks the password: %v", err)
		}
		if d := time.Since(start); d > 3500*time.Millisecond {
			t.Fatalf("Open took %s, want it bounded by the 3s context", d)
		}
	})
	t.Run("context bounds a silent server", func(t *testing.T) {
		// A TCP listener that never speaks NATS: connecting would wait
		// for the INFO line; the context must cut it short.
		ln := silentListener(t)
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := Open(ctx, Config{URL: "nats://" + ln}, testLog(t))
		if err == nil {
			t.Fatalf("Open on a silent server succeeded")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Open took %s, want about 300ms", d)
		}
	})
	t.Run("missing token", func(t *testing.T) {
		t.Setenv("BALLCAST_TEST_EMPTY", "")
		_, err := Open(t.Context(), Config{URL: "nats://127.0.0.1:1", TokenEnv: "BALLCAST_TEST_EMPTY"}, testLog(t))
		if err == nil || !strings.Contains(err.Error(), "token_env BALLCAST_TEST_EMPTY") {
			t.Fatalf("got %v, want an error naming token_env", err)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		url := startExternal(t, "right")
		t.Setenv("BALLCAST_TEST_TOKEN", "wrong")
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		_, err := Open(ctx, Config{URL: url, TokenEnv: "BALLCAST_TEST_TOKEN"}, testLog(t))
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization") {
			t.Fatalf("got %v, want an authorization error", err)
		}
	})
}

func TestEmbeddedListen(t *testing.T) {
	t.Setenv("BALLCAST_TEST_TOKEN", "tok")
	b := open(t, Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", TokenEnv: "BALLCAST_TEST_TOKEN"})
	u := b.ClientURL()
	if !strings.HasPrefix(u, "nats://127.0.0.1:") {
		t.Fatalf("ClientURL = %q, want nats://127.0.0.1:<port>", u)
	}
	// Another node joins the same streams through the listener.
	other := open(t, Config{URL: u, TokenEnv: "BALLCAST_TEST_TOKEN"})
	appendAll(t, other, ball("m", 1))
	if n, err := b.LastSeq(t.Context(), "m"); err != nil || n != 1 {
		t.Fatalf("LastSeq on the embedded node = %d, %v; want 1", n, err)
	}
}

// TestExternalServerRestart: the cluster goes away and comes back with its
// store; Ready says so meanwhile, and both the ingest consumer and appends
// carry on without a new ConsumeIngest.
func TestExternalServerRestart(t *testing.T) {
	opts := &server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(),
		MaxPayload: MaxPayload, NoSigs: true, NoLog: true,
	}
	start := func() *server.Server {
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatalf("nats-server: %v", err)
		}
		s.Start()
		if !s.ReadyForConnections(wait) {
			t.Fatalf("nats-server not ready")
		}
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		return s
	}
	s := start()
	opts.Port = s.Addr().(*net.TCPAddr).Port // the same port after the restart

	b := open(t, Config{URL: s.ClientURL(), AckWait: time.Hour})
	ch, err := b.ConsumeIngest(t.Context())
	if err != nil {
		t.Fatalf("ConsumeIngest: %v", err)
	}
	appendAll(t, b, ball("m", 1))
	recv(t, ch).Ack()

	s.Shutdown()
	s.WaitForShutdown()
	polltest.Within(t, wait, "Ready reports the outage", func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		return b.Ready(ctx) != nil
	})
	start()
	polltest.Within(t, wait, "Ready after the restart", func() bool { return b.Ready(t.Context()) == nil })
	appendAll(t, b, ball("m", 2))
	if d := recv(t, ch); d.Event.Seq != 2 {
		t.Fatalf("after the restart delivered seq %d, want 2", d.Event.Seq)
	}
}

// TestEmbeddedListenBusy: a taken listen address fails Open at once with
// the bind error, and releases the data dir for the next attempt.
func TestEmbeddedListenBusy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	_, err = Open(t.Context(), Config{DataDir: dir, Listen: ln.Addr().String()}, testLog(t))
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Open on a busy port: got %v, want the bind error", err)
	}
	open(t, Config{DataDir: dir})
}
