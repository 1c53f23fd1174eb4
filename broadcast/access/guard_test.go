package access

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"
)

const (
	keyAlpha   = "ak_alpha_5b0d6f1e9c2a4b7d8e3f0a1b2c3d4e5f"
	keyBeta    = "ak_beta_0f9e8d7c6b5a49382716a5b4c3d2e1f0"
	keyEnv     = "ak_env_1a2b3c4d5e6f708192a3b4c5d6e7f809"
	hsSecret   = "hs-secret-9d41c7e2b85f4a06a3e1d7c9b2f80e57"
	keysEnvVar = "BALLCAST_TEST_ACCESS_KEYS"
)

func keysFile(t testing.TB) string {
	return writeFile(t, "keys.txt", strings.Join([]string{
		"# ballcast api keys",
		KeyLine("alpha", keyAlpha, nil),
		"",
		"beta\t" + HashKey(keyBeta) + "\t1298179,1298180",
	}, "\n")+"\n")
}

func TestOpenAccess(t *testing.T) {
	g := newTestGuard(t, Config{})
	r := request("192.0.2.1", "")
	tk := mustAdmit(t, g.Guard, r)
	defer tk.Release()
	if !tk.Allowed("any-match") || tk.Subject() != "" || !tk.Expires().IsZero() || tk.Method() != MethodOpen {
		t.Fatalf("open ticket: allowed=%v subject=%q expires=%v method=%s", tk.Allowed("x"), tk.Subject(), tk.Expires(), tk.Method())
	}
	// A credential is ignored when no authentication is configured.
	tk2 := mustAdmit(t, g.Guard, request("192.0.2.1", "whatever"))
	tk2.Release()
}

func TestAPIKeys(t *testing.T) {
	t.Setenv(keysEnvVar, KeyLine("envkey", keyEnv, []string{"m1"})+"; # trailing comment")
	g := newTestGuard(t, Config{APIKeys: APIKeysConfig{File: keysFile(t), Env: keysEnvVar}})

	tests := []struct {
		name    string
		req     func() *http.Request
		code    string // "" = admitted
		subject string
		allowed []string
		denied  []string
	}{
		{name: "no credentials", req: func() *http.Request { return request("192.0.2.1", "") }, code: CodeUnauthorized},
		{name: "wrong key", req: func() *http.Request { return request("192.0.2.1", keyAlpha+"x") }, code: CodeUnauthorized},
		{name: "hash instead of key", req: func() *http.Request { return request("192.0.2.1", HashKey(keyAlpha)) }, code: CodeUnauthorized},
		{name: "basic scheme", req: func() *http.Request {
			r := request("192.0.2.1", "")
			r.Header.Set("Authorization", "Basic "+keyAlpha)
			return r
		}, code: CodeUnauthorized},
		{name: "empty bearer", req: func() *http.Request {
			r := request("192.0.2.1", "")
			r.Header.Set("Authorization", "Bearer ")
			return r
		}, code: CodeUnauthorized},
		{name: "over-long credential", req: func() *http.Request { return request("192.0.2.1", strings.Repeat("k", maxTokenLen+1)) }, code: CodeUnauthorized},
		{name: "alpha header, all matches", req: func() *http.Request { return request("192.0.2.1", keyAlpha) },
			subject: "alpha", allowed: []string{"1298179", "anything"}},
		{name: "bearer scheme is case-insensitive", req: func() *http.Request {
			r := request("192.0.2.1", "")
			r.Header.Set("Authorization", "bearer "+keyAlpha)
			return r
		}, subject: "alpha"},
		{name: "beta query parameter, listed matches", req: func() *http.Request {
			r := request("192.0.2.1", "")
			r.URL.RawQuery = "access_token=" + keyBeta
			return r
		}, subject: "beta", allowed: []string{"1298179", "1298180"}, denied: []string{"1298181", "*", ""}},
		{name: "header wins over query", req: func() *http.Request {
			r := request("192.0.2.1", keyAlpha)
			r.URL.RawQuery = "access_token=" + keyBeta
			return r
		}, subject: "alpha", allowed: []string{"1298181"}},
		{name: "env key", req: func() *http.Request { return request("192.0.2.1", keyEnv) },
			subject: "envkey", allowed: []string{"m1"}, denied: []string{"m2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk, err := g.Admit(tc.req())
			if tc.code != "" {
				wantRefused(t, tk, err, http.StatusUnauthorized, tc.code)
				return
			}
			if err != nil {
				t.Fatalf("Admit: %v", err)
			}
			defer tk.Release()
			if tk.Subject() != tc.subject || tk.Method() != MethodKey || !tk.Expires().IsZero() {
				t.Fatalf("got subject %q method %s expires %v, want %q key zero", tk.Subject(), tk.Method(), tk.Expires(), tc.subject)
			}
			for _, m := range tc.allowed {
				if !tk.Allowed(m) {
					t.Errorf("Allowed(%q) = false, want true", m)
				}
			}
			for _, m := range tc.denied {
				if tk.Allowed(m) {
					t.Errorf("Allowed(%q) = true, want false", m)
				}
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	t.Setenv("BALLCAST_TEST_SHORT_SECRET", "short")
	t.Setenv("BALLCAST_TEST_DUP_KEYS", KeyLine("alpha", "other-key-value-xxxxxxxxxxxxxxxx", nil))
	t.Setenv("BALLCAST_TEST_DUP_HASH", KeyLine("gamma", keyAlpha, nil))
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"invalid config", Config{Limits: LimitsConfig{PerKey: -1}}, "limits.per_key"},
		{"missing keys file", Config{APIKeys: APIKeysConfig{File: "/nonexistent/keys.txt"}}, "api_keys.file"},
		{"unset keys env", Config{APIKeys: APIKeysConfig{Env: "BALLCAST_TEST_UNSET_VAR"}}, "BALLCAST_TEST_UNSET_VAR is not set"},
		{"plaintext key in file", Config{APIKeys: APIKeysConfig{File: writeFile(t, "k", "alpha "+keyAlpha+"\n")}}, "hashed key"},
		{"name in file and env", Config{APIKeys: APIKeysConfig{File: keysFile(t), Env: "BALLCAST_TEST_DUP_KEYS"}}, `"alpha" is in both`},
		{"hash in file and env", Config{APIKeys: APIKeysConfig{File: keysFile(t), Env: "BALLCAST_TEST_DUP_HASH"}}, "same hash"},
		{"unset secret env", Config{JWT: JWTConfig{HS256SecretEnv: "BALLCAST_TEST_UNSET_VAR"}}, "is not set"},
		{"short secret", Config{JWT: JWTConfig{HS256SecretEnv: "BALLCAST_TEST_SHORT_SECRET"}}, "want at least 32"},
		{"no PEM", Config{JWT: JWTConfig{RS256PublicKeyFile: writeFile(t, "pub.pem", "not pem")}}, "no PEM block"},
		{"bad PEM", Config{JWT: JWTConfig{RS256PublicKeyFile: writeFile(t, "pub.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")}}, "PEM block 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, discard())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			for _, secret := range []string{keyAlpha, "other-key-value", "short"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q contains a secret", err)
				}
			}
		})
	}
}

func TestJWT(t *testing.T) {
	privA, privB := rsaKeys(t)
	t.Setenv("BALLCAST_TEST_HS", hsSecret)
	pubFile := writeFile(t, "pub.pem", string(publicPEM(t, privA)))
	both := Config{JWT: JWTConfig{
		HS256SecretEnv:     "BALLCAST_TEST_HS",
		RS256PublicKeyFile: pubFile,
		Issuer:             "https://auth.example.com",
		Audience:           "ballcast",
	}}
	clk := newClock()
	now := clk.Now()
	exp := now.Add(time.Hour)
	base := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "user-42", "iss": "https://auth.example.com", "aud": "ballcast", "exp": exp.Unix()}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	hs := func(extra jwt.MapClaims) string {
		return sign(t, jwt.SigningMethodHS256, []byte(hsSecret), base(extra))
	}
	rs := func(extra jwt.MapClaims) string { return sign(t, jwt.SigningMethodRS256, privA, base(extra)) }
	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, base(nil))
	confused := sign(t, jwt.SigningMethodHS256, publicPEM(t, privA), base(nil)) // HS256 keyed with the RSA public key
	tampered := func() string {
		p := strings.Split(hs(nil), ".")
		return p[0] + "." + strings.TrimRight(p[1], "=") + "x." + p[2]
	}()

	tests := []struct {
		name    string
		cfg     Config
		token   string
		code    string // "" = admitted
		allowed []string
		denied  []string
	}{
		{name: "hs256", cfg: both, token: hs(nil), allowed: []string{"a", "b"}},
		{name: "rs256", cfg: both, token: rs(nil), allowed: []string{"a"}},
		{name: "matches list", cfg: both, token: hs(jwt.MapClaims{"matches": []string{"1298179"}}), allowed: []string{"1298179"}, denied: []string{"1298180"}},
		{name: "matches star", cfg: both, token: rs(jwt.MapClaims{"matches": "*"}), allowed: []string{"x", "y"}},
		{name: "matches empty list", cfg: both, token: hs(jwt.MapClaims{"matches": []string{}}), denied: []string{"x"}},
		{name: "matches bad type", cfg: both, token: hs(jwt.MapClaims{"matches": 7}), code: CodeInvalidToken},
		{name: "matches bad string", cfg: both, token: hs(jwt.MapClaims{"matches": "1298179"}), code: CodeInvalidToken},
		{name: "expired", cfg: both, token: hs(jwt.MapClaims{"exp": now.Add(-time.Second).Unix()}), code: CodeTokenExpired},
		{name: "expired within leeway", cfg: Config{JWT: JWTConfig{HS256SecretEnv: "BALLCAST_TEST_HS", Leeway: time.Minute}},
			token: hs(jwt.MapClaims{"exp": now.Add(-30 * time.Second).Unix()})},
		{name: "no exp", cfg: both, token: hs(jwt.MapClaims{"exp": nil}), code: CodeInvalidToken},
		{name: "no sub", cfg: both, token: hs(jwt.MapClaims{"sub": nil}), code: CodeInvalidToken},
		{name: "not yet valid", cfg: both, token: hs(jwt.MapClaims{"nbf": now.Add(time.Minute).Unix()}), code: CodeInvalidToken},
		{name: "wrong issuer", cfg: both, token: hs(jwt.MapClaims{"iss": "https://evil.example.com"}), code: CodeInvalidToken},
		{name: "no issuer", cfg: both, token: hs(jwt.MapClaims{"iss": nil}), code: CodeInvalidToken},
		{name: "wrong audience", cfg: both, token: hs(jwt.MapClaims{"aud": "other"}), code: CodeInvalidToken},
		{name: "audience in list", cfg: both, token: hs(jwt.MapClaims{"aud": []string{"other", "ballcast"}})},
		{name: "wrong hs secret", cfg: both, token: sign(t, jwt.SigningMethodHS256, []byte(hsSecret+"x"), base(nil)), code: CodeInvalidToken},
		{name: "wrong rsa key", cfg: both, token: sign(t, jwt.SigningMethodRS256, privB, base(nil)), code: CodeInvalidToken},
		{name: "rotated rsa keys", cfg: Config{JWT: JWTConfig{RS256PublicKeyFile: writeFile(t, "pub2.pem", string(publicPEM(t, privA, privB)))}},
			token: sign(t, jwt.SigningMethodRS256, privB, base(nil))},
		{name: "tampered payload", cfg: both, token: tampered, code: CodeInvalidToken},
		{name: "alg none", cfg: both, token: none, code: CodeInvalidToken},
		{name: "alg confusion, both configured", cfg: both, token: confused, code: CodeInvalidToken},
		{name: "alg confusion, rs256 only", cfg: Config{JWT: JWTConfig{RS256PublicKeyFile: pubFile}}, token: confused, code: CodeInvalidToken},
		{name: "rs256 token, hs256 only", cfg: Config{JWT: JWTConfig{HS256SecretEnv: "BALLCAST_TEST_HS"}}, token: rs(nil), code: CodeInvalidToken},
		{name: "hs384 refused", cfg: both, token: sign(t, jwt.SigningMethodHS384, []byte(hsSecret), base(nil)), code: CodeInvalidToken},
		{name: "rs512 refused", cfg: both, token: sign(t, jwt.SigningMethodRS512, privA, base(nil)), code: CodeInvalidToken},
		{name: "garbage", cfg: both, token: "a.b.c", code: CodeInvalidToken},
		{name: "not a jwt, jwt only", cfg: both, token: "just-a-string", code: CodeInvalidToken},
		{name: "api key alongside jwt", cfg: Config{APIKeys: APIKeysConfig{File: keysFile(t)}, JWT: both.JWT}, token: keyAlpha},
		{name: "bad jwt alongside keys", cfg: Config{APIKeys: APIKeysConfig{File: keysFile(t)}, JWT: both.JWT}, token: hs(jwt.MapClaims{"aud": "x"}), code: CodeInvalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newTestGuard(t, tc.cfg)
			g.now = clk.Now
			tk, err := g.Admit(request("192.0.2.7", tc.token))
			if tc.code != "" {
				wantRefused(t, tk, err, http.StatusUnauthorized, tc.code)
				return
			}
			if err != nil {
				t.Fatalf("Admit: %v", err)
			}
			defer tk.Release()
			for _, m := range tc.allowed {
				if !tk.Allowed(m) {
					t.Errorf("Allowed(%q) = false, want true", m)
				}
			}
			for _, m := range tc.denied {
				if tk.Allowed(m) {
					t.Errorf("Allowed(%q) = true, want false", m)
				}
			}
			if tk.Method() == MethodJWT && tc.cfg.JWT.Leeway == 0 && (tk.Subject() != "user-42" || !tk.Expires().Equal(exp.Truncate(time.Second))) {
				t.Errorf("got subject %q expires %v, want user-42 %v", tk.Subject(), tk.Expires(), exp)
			}
		})
	}
}

// TestJWTExpiresWithClock shows the clock drives expiry: a token admitted
// now is refused as expired once the clock passes exp.
func TestJWTExpiresWithClock(t *testing.T) {
	t.Setenv("BALLCAST_TEST_HS", hsSecret)
	g := newTestGuard(t, Config{JWT: JWTConfig{HS256SecretEnv: "BALLCAST_TEST_HS"}})
	tok := sign(t, jwt.SigningMethodHS256, []byte(hsSecret), jwt.MapClaims{"sub": "u", "exp": g.clock.Now().Add(time.Minute).Unix()})
	mustAdmit(t, g.Guard, request("192.0.2.1", tok)).Release()
	g.clock.Advance(time.Minute + time.Second)
	tk, err := g.Admit(request("192.0.2.1", tok))
	wantRefused(t, tk, err, http.StatusUnauthorized, CodeTokenExpired)
}

func TestConnectionLimits(t *testing.T) {
	g := newTestGuard(t, Config{
		APIKeys: APIKeysConfig{File: keysFile(t)},
		Limits:  LimitsConfig{PerKey: 2, PerNode: 3, ConnectRate: 1000, ConnectBurst: 1000},
	})
	a1 := mustAdmit(t, g.Guard, request("192.0.2.1", keyAlpha))
	a2 := mustAdmit(t, g.Guard, request("192.0.2.2", keyAlpha))
	tk, err := g.Admit(request("192.0.2.3", keyAlpha))
	wantRefused(t, tk, err, http.StatusTooManyRequests, CodeTooManyConnections)

	b1 := mustAdmit(t, g.Guard, request("192.0.2.1", keyBeta)) // node: 3 of 3
	tk, err = g.Admit(request("192.0.2.1", keyBeta))
	e := wantRefused(t, tk, err, http.StatusTooManyRequests, CodeTooManyConnections)
	if !strings.Contains(e.Error(), "server") {
		t.Errorf("node refusal %q should say the server is full", e)
	}

	a1.Release()
	a1.Release() // idempotent: frees one slot, not two
	a3 := mustAdmit(t, g.Guard, request("192.0.2.3", keyAlpha))
	tk, err = g.Admit(request("192.0.2.3", keyBeta))
	wantRefused(t, tk, err, http.StatusTooManyRequests, CodeTooManyConnections)

	for _, tk := range []*Ticket{a2, a3, b1} {
		tk.Release()
	}
	g.mu.Lock()
	conns, keys := g.conns, len(g.perKey)
	g.mu.Unlock()
	if conns != 0 || keys != 0 {
		t.Fatalf("after releasing all: conns=%d perKey entries=%d, want 0 0", conns, keys)
	}
}

func TestOpenAccessNodeLimit(t *testing.T) {
	g := newTestGuard(t, Config{Limits: LimitsConfig{PerNode: 1, ConnectRate: 1000, ConnectBurst: 1000}})
	tk := mustAdmit(t, g.Guard, request("192.0.2.1", ""))
	t2, err := g.Admit(request("192.0.2.2", ""))
	wantRefused(t, t2, err, http.StatusTooManyRequests, CodeTooManyConnections)
	tk.Release()
	mustAdmit(t, g.Guard, request("192.0.2.2", "")).Release()
}

func TestConnectRate(t *testing.T) {
	cfg := Config{
		APIKeys: APIKeysConfig{File: keysFile(t)},
		Limits:  LimitsConfig{ConnectRate: 2, ConnectBurst: 3, TrustedProxies: []string{"10.0.0.0/8"}},
	}
	t.Run("per ip", func(t *testing.T) {
		g := newTestGuard(t, cfg)
		for i := range 3 {
			// Failed attempts count too: that is what slows key guessing.
			_, err := g.Admit(request("192.0.2.1", fmt.Sprintf("guess-%d", i)))
			wantRefused(t, nil, err, http.StatusUnauthorized, CodeUnauthorized)
		}
		tk, err := g.Admit(request("192.0.2.1", keyAlpha))
		e := wantRefused(t, tk, err, http.StatusTooManyRequests, CodeRateLimited)
		if e.RetryAfter() != 500*time.Millisecond || e.RetryAfterSeconds() != 1 {
			t.Errorf("RetryAfter = %v (%ds), want 500ms (1s)", e.RetryAfter(), e.RetryAfterSeconds())
		}
		mustAdmit(t, g.Guard, request("192.0.2.2", keyAlpha)).Release() // another IP is not affected
		g.clock.Advance(500 * time.Millisecond)                         // one token back
		mustAdmit(t, g.Guard, request("192.0.2.1", keyAlpha)).Release()
		tk, err = g.Admit(request("192.0.2.1", keyAlpha))
		wantRefused(t, tk, err, http.StatusTooManyRequests, CodeRateLimited)
	})
	t.Run("ipv6 per /64", func(t *testing.T) {
		g := newTestGuard(t, cfg)
		for i := range 3 {
			mustAdmit(t, g.Guard, request(fmt.Sprintf("[2001:db8:1:2::%x]", i+1), keyAlpha)).Release()
		}
		tk, err := g.Admit(request("[2001:db8:1:2:ffff::9]", keyBeta))
		wantRefused(t, tk, err, http.StatusTooManyRequests, CodeRateLimited)
		mustAdmit(t, g.Guard, request("[2001:db8:1:3::1]", keyBeta)).Release() // another /64
		if got := ipBucket(g.remoteIP(request("[::ffff:192.0.2.1]", ""))); got != "ip:192.0.2.1" {
			t.Errorf("v4-mapped address: bucket %q, want ip:192.0.2.1", got)
		}
		if got := ipBucket(g.remoteIP(request("[2001:db8:1:2::7]", ""))); got != "ip:2001:db8:1:2::/64" {
			t.Errorf("IPv6 bucket %q, want ip:2001:db8:1:2::/64", got)
		}
	})
	t.Run("per key", func(t *testing.T) {
		g := newTestGuard(t, cfg)
		for i := range 3 {
			mustAdmit(t, g.Guard, request(fmt.Sprintf("192.0.2.%d", i+1), keyAlpha)).Release()
		}
		tk, err := g.Admit(request("192.0.2.9", keyAlpha))
		wantRefused(t, tk, err, http.StatusTooManyRequests, CodeRateLimited)
		mustAdmit(t, g.Guard, request("192.0.2.9", keyBeta)).Release() // another key is not affected
	})
	t.Run("behind trusted proxy", func(t *testing.T) {
		g := newTestGuard(t, cfg)
		via := func(xff string) *http.Request {
			r := request("10.1.2.3", keyAlpha)
			r.Header.Set("X-Forwarded-For", xff)
			return r
		}
		// The client claims 203.0.113.1 but the proxy saw 198.51.100.1.
		for range 3 {
			_, err := g.Admit(via("203.0.113.1, 198.51.100.1"))
			if err != nil {
				t.Fatal(err)
			}
		}
		tk, err := g.Admit(via("203.0.113.99, 198.51.100.1, 10.9.9.9"))
		wantRefused(t, tk, err, http.StatusTooManyRequests, CodeRateLimited)
		if ip := g.remoteIP(request("192.0.2.5", "")); ip.String() != "192.0.2.5" {
			t.Errorf("untrusted peer: got %s", ip)
		}
		r := request("192.0.2.5", "")
		r.Header.Set("X-Forwarded-For", "203.0.113.1")
		if ip := g.remoteIP(r); ip.String() != "192.0.2.5" {
			t.Errorf("X-Forwarded-For from an untrusted peer was believed: %s", ip)
		}
	})
	t.Run("idle buckets swept", func(t *testing.T) {
		g := newTestGuard(t, Config{})
		for i := range 50 {
			mustAdmit(t, g.Guard, request(fmt.Sprintf("192.0.2.%d", i), "")).Release()
		}
		g.clock.Advance(sweepEvery)
		mustAdmit(t, g.Guard, request("192.0.2.200", "")).Release()
		if n := g.rates.size(); n != 1 {
			t.Fatalf("after a sweep %d buckets remain, want 1", n)
		}
	})
}

func TestKeysFileReload(t *testing.T) {
	path := keysFile(t)
	g := newTestGuard(t, Config{APIKeys: APIKeysConfig{File: path}})
	const keyGamma = "ak_gamma_77aa88bb99cc00dd11ee22ff33aa44bb"
	if tk, err := g.Admit(request("192.0.2.1", keyGamma)); err == nil {
		tk.Release()
		t.Fatal("gamma admitted before it was added")
	}
	writeKeys := func(content string, mod time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	writeKeys(KeyLine("gamma", keyGamma, nil)+"\n", time.Unix(1_800_000_000, 0))
	// Not re-checked before keysRecheck has passed.
	if tk, err := g.Admit(request("192.0.2.1", keyGamma)); err == nil {
		tk.Release()
		t.Fatal("keys file re-read before keysRecheck")
	}
	g.clock.Advance(keysRecheck)
	mustAdmit(t, g.Guard, request("192.0.2.1", keyGamma)).Release()
	tk, err := g.Admit(request("192.0.2.1", keyAlpha))
	wantRefused(t, tk, err, http.StatusUnauthorized, CodeUnauthorized)

	// A broken file is rejected and the current keys stay.
	writeKeys("gamma "+keyGamma+"\n", time.Unix(1_800_000_100, 0))
	g.clock.Advance(keysRecheck)
	mustAdmit(t, g.Guard, request("192.0.2.1", keyGamma)).Release()
	if !strings.Contains(g.logs.String(), "api keys file rejected") {
		t.Errorf("rejected reload not logged: %s", g.logs)
	}
	if err := g.Reload(); err == nil {
		t.Error("Reload of a broken file succeeded")
	}
}

// TestConcurrentAdmitRelease runs admissions and releases from many
// goroutines; with -race it checks the locking, and the counters must come
// back to zero.
func TestConcurrentAdmitRelease(t *testing.T) {
	g := newTestGuard(t, Config{
		APIKeys: APIKeysConfig{File: keysFile(t)},
		Limits:  LimitsConfig{PerKey: 5, PerNode: 8, ConnectRate: 1e6, ConnectBurst: 1e6},
	})
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for i := range 16 {
		wg.Go(func() {
			key := keyAlpha
			if i%2 == 1 {
				key = keyBeta
			}
			for range 200 {
				tk, err := g.Admit(request(fmt.Sprintf("192.0.2.%d", i), key))
				if err != nil {
					if e, ok := err.(*Error); !ok || e.Code() != CodeTooManyConnections {
						t.Errorf("Admit: %v", err)
					}
					continue
				}
				mu.Lock()
				admitted++
				mu.Unlock()
				tk.Allowed("1298179")
				tk.Release()
				tk.Release()
			}
		})
	}
	wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conns != 0 || len(g.perKey) != 0 || admitted == 0 {
		t.Fatalf("conns=%d perKey=%v admitted=%d, want 0, empty, >0", g.conns, g.perKey, admitted)
	}
}

func discard() zerolog.Logger { return zerolog.Nop() }

func TestEmptyKeysRefuseAll(t *testing.T) {
	g := newTestGuard(t, Config{APIKeys: APIKeysConfig{File: writeFile(t, "keys.txt", "# none yet\n")}})
	if !strings.Contains(g.logs.String(), "every connection will be refused") {
		t.Errorf("no warning for an empty keys file: %s", g.logs)
	}
	tk, err := g.Admit(request("192.0.2.1", keyAlpha))
	wantRefused(t, tk, err, http.StatusUnauthorized, CodeUnauthorized)
}
