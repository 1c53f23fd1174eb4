package access

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestSecretsNeverLogged drives every refusal path and a reload with the
// logger at debug level, then checks that no credential, hash or JWT
// secret appears in any error message or log line.
func TestSecretsNeverLogged(t *testing.T) {
	priv, _ := rsaKeys(t)
	t.Setenv("BALLCAST_TEST_HS", hsSecret)
	t.Setenv(keysEnvVar, KeyLine("envkey", keyEnv, nil))
	path := keysFile(t)
	g := newTestGuard(t, Config{
		APIKeys: APIKeysConfig{File: path, Env: keysEnvVar},
		JWT: JWTConfig{
			HS256SecretEnv:     "BALLCAST_TEST_HS",
			RS256PublicKeyFile: writeFile(t, "pub.pem", string(publicPEM(t, priv))),
			Audience:           "ballcast",
		},
		Limits: LimitsConfig{PerKey: 1, ConnectRate: 1, ConnectBurst: 100},
	})
	now := g.clock.Now()
	good := sign(t, jwt.SigningMethodHS256, []byte(hsSecret), jwt.MapClaims{"sub": "u1", "aud": "ballcast", "exp": now.Add(time.Hour).Unix()})
	expired := sign(t, jwt.SigningMethodHS256, []byte(hsSecret), jwt.MapClaims{"sub": "u2", "aud": "ballcast", "exp": now.Add(-time.Hour).Unix()})
	wrongAud := sign(t, jwt.SigningMethodRS256, priv, jwt.MapClaims{"sub": "u3", "aud": "x", "exp": now.Add(time.Hour).Unix()})
	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"sub": "u4", "exp": now.Add(time.Hour).Unix()})
	badSig := good[:len(good)-4] + "AAAA"
	guessed := "ak_guess_0000111122223333444455556666"

	secrets := []string{keyAlpha, keyBeta, keyEnv, hsSecret, guessed,
		HashKey(keyAlpha)[7:], HashKey(keyBeta)[7:], HashKey(keyEnv)[7:]}
	for _, tok := range []string{good, expired, wrongAud, none, badSig} {
		secrets = append(secrets, tok, strings.Split(tok, ".")[2])
	}
	secrets = secrets[:len(secrets)-1] // none's signature part is empty

	var errs []string
	try := func(r *http.Request) {
		tk, err := g.Admit(r)
		if err != nil {
			errs = append(errs, err.Error())
			return
		}
		t.Cleanup(tk.Release) // hold it: the next one with the same credential hits per_key
	}
	q := func(cred string) *http.Request {
		r := request("192.0.2.50", "")
		r.URL.RawQuery = "access_token=" + cred
		return r
	}
	for _, cred := range []string{guessed, keyAlpha, keyAlpha, good, good, expired, wrongAud, none, badSig, keyBeta + "x"} {
		try(request("192.0.2.10", cred))
		try(q(cred))
	}
	basic := request("192.0.2.10", "")
	basic.Header.Set("Authorization", "Basic "+keyBeta)
	try(basic)
	// A broken keys file holding a plaintext key: the reload error is logged.
	if err := os.WriteFile(path, []byte("oops "+keyBeta+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g.clock.Advance(keysRecheck)
	try(request("192.0.2.11", keyEnv))
	if err := g.Reload(); err != nil {
		errs = append(errs, err.Error())
	}

	logs := g.logs.String()
	for _, want := range []string{"connection refused", CodeUnauthorized, CodeTokenExpired, CodeInvalidToken, CodeTooManyConnections, "api keys file rejected"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q; the test does not exercise that path:\n%s", want, logs)
		}
	}
	all := logs + "\n" + strings.Join(errs, "\n")
	for _, s := range secrets {
		if s != "" && strings.Contains(all, s) {
			t.Errorf("secret %.12s… appears in logs or errors", s)
		}
	}
}
