package access

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"
)

// clock is a settable time source for expiry and rate tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testGuard is a Guard on a fake clock with its debug log captured.
type testGuard struct {
	*Guard
	clock *clock
	logs  *syncBuffer
}

func newTestGuard(t testing.TB, cfg Config) testGuard {
	t.Helper()
	logs := &syncBuffer{}
	log := zerolog.New(logs).Level(zerolog.DebugLevel)
	clk := newClock()
	g, err := New(cfg, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	g.now = clk.Now
	return testGuard{Guard: g, clock: clk, logs: logs}
}

// request builds a WebSocket-like request from ip carrying cred in the
// Authorization header ("" = none).
func request(ip, cred string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/v1/ws", nil)
	r.RemoteAddr = ip + ":50000"
	if cred != "" {
		r.Header.Set("Authorization", "Bearer "+cred)
	}
	return r
}

func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantRefused asserts err is an *Error with status and code.
func wantRefused(t testing.TB, tk *Ticket, err error, status int, code string) *Error {
	t.Helper()
	if err == nil {
		tk.Release()
		t.Fatalf("admitted (subject %q), want %d %s", tk.Subject(), status, code)
	}
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	if e.HTTPStatus() != status || e.Code() != code {
		t.Fatalf("got %d %s (%q), want %d %s", e.HTTPStatus(), e.Code(), e.Error(), status, code)
	}
	return e
}

func mustAdmit(t testing.TB, g *Guard, r *http.Request) *Ticket {
	t.Helper()
	tk, err := g.Admit(r)
	if err != nil {
		t.Fatalf("Admit: %v", err)
	}
	return tk
}

var (
	rsaOnce sync.Once
	rsaKeyA *rsa.PrivateKey
	rsaKeyB *rsa.PrivateKey
)

// rsaKeys returns two 2048-bit keys, generated once per test binary.
func rsaKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	rsaOnce.Do(func() {
		var err error
		if rsaKeyA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if rsaKeyB, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return rsaKeyA, rsaKeyB
}

func publicPEM(t testing.TB, keys ...*rsa.PrivateKey) []byte {
	t.Helper()
	var out []byte
	for _, k := range keys {
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})...)
	}
	return out
}

func sign(t testing.TB, m jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}
