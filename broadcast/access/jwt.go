package access

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// maxTokenLen bounds the credential Admit will look at, in bytes.
const maxTokenLen = 8 << 10

// verifier checks JWTs. It is immutable after newVerifier.
type verifier struct {
	secret  []byte           // HS256; nil when not configured
	rsaKeys []*rsa.PublicKey // RS256; empty when not configured
	methods []string
	parser  *jwt.Parser
}

// claims are the claims ballcast reads. "exp" is required; "sub" names the
// connection for limits and logs; "matches" limits subscriptions.
type claims struct {
	jwt.RegisteredClaims
	Matches *matchesClaim `json:"matches,omitempty"`
}

// matchesClaim is the "matches" claim: "*" or a list of match IDs.
type matchesClaim struct {
	set matchSet // nil = all
}

func (m *matchesClaim) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if s != "*" {
			return errors.New(`matches must be "*" or a list of match IDs`)
		}
		m.set = nil
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New(`matches must be "*" or a list of match IDs`)
	}
	m.set = matchSet{}
	for _, id := range list {
		if id == "*" {
			m.set = nil
			return nil
		}
		m.set[id] = struct{}{}
	}
	return nil
}

// newVerifier reads the configured secret and keys. It returns nil, nil when
// JWT is not configured. Errors name the variable or file, never its content.
func newVerifier(c JWTConfig, now func() time.Time) (*verifier, error) {
	if !c.enabled() {
		return nil, nil
	}
	v := &verifier{}
	switch {
	case c.HS256SecretEnv != "":
		s, ok := os.LookupEnv(c.HS256SecretEnv)
		if !ok || s == "" {
			return nil, fmt.Errorf("access: jwt.hs256_secret_env: variable %s is not set", c.HS256SecretEnv)
		}
		v.secret = []byte(s)
	case c.HS256SecretFile != "":
		b, err := os.ReadFile(c.HS256SecretFile)
		if err != nil {
			return nil, fmt.Errorf("access: jwt.hs256_secret_file: %w", err)
		}
		v.secret = bytes.TrimSpace(b)
	}
	if v.secret != nil {
		if len(v.secret) < MinHS256SecretLen {
			return nil, fmt.Errorf("access: jwt: HS256 secret is %d bytes, want at least %d", len(v.secret), MinHS256SecretLen)
		}
		v.methods = append(v.methods, jwt.SigningMethodHS256.Alg())
	}
	if c.RS256PublicKeyFile != "" {
		keys, err := readRSAPublicKeys(c.RS256PublicKeyFile)
		if err != nil {
			return nil, err
		}
		v.rsaKeys = keys
		v.methods = append(v.methods, jwt.SigningMethodRS256.Alg())
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(v.methods),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(c.Leeway),
		jwt.WithTimeFunc(now),
	}
	if c.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(c.Issuer))
	}
	if c.Audience != "" {
		opts = append(opts, jwt.WithAudience(c.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

func readRSAPublicKeys(path string) ([]*rsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("access: jwt.rs256_public_key_file: %w", err)
	}
	var keys []*rsa.PublicKey
	for n := 1; ; n++ {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		k, err := jwt.ParseRSAPublicKeyFromPEM(pem.EncodeToMemory(block))
		if err != nil {
			return nil, fmt.Errorf("access: jwt.rs256_public_key_file: %s: PEM block %d (%s): %w", path, n, block.Type, err)
		}
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("access: jwt.rs256_public_key_file: %s: PEM block %d: RSA key is %d bits, want at least 2048", path, n, k.N.BitLen())
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("access: jwt.rs256_public_key_file: %s: no PEM block", path)
	}
	return keys, nil
}

// looksLikeJWT reports whether a credential has the three-part compact form.
func looksLikeJWT(s string) bool {
	return strings.Count(s, ".") == 2
}

// verify checks a token and returns its claims, or a refusal with a fixed
// message: jwt errors are mapped, never passed on, so that no part of the
// token reaches an error message or a log.
func (v *verifier) verify(token string) (*claims, *Error) {
	var c claims
	_, err := v.parser.ParseWithClaims(token, &c, v.keyFor)
	if err != nil {
		return nil, tokenError(err)
	}
	if c.Subject == "" {
		return nil, refuse(401, CodeInvalidToken, `token has no "sub" claim`)
	}
	return &c, nil
}

// keyFor returns the key of the token's own algorithm. The parser has
// already refused algorithms outside v.methods ("none" included); checking
// the method type again here keeps an RS256 public key from ever being used
// as an HMAC secret (algorithm confusion) even if methods were widened.
func (v *verifier) keyFor(t *jwt.Token) (any, error) {
	switch t.Method.(type) {
	case *jwt.SigningMethodHMAC:
		if v.secret == nil || t.Method.Alg() != jwt.SigningMethodHS256.Alg() {
			return nil, jwt.ErrTokenUnverifiable
		}
		return v.secret, nil
	case *jwt.SigningMethodRSA:
		if len(v.rsaKeys) == 0 || t.Method.Alg() != jwt.SigningMethodRS256.Alg() {
			return nil, jwt.ErrTokenUnverifiable
		}
		set := jwt.VerificationKeySet{Keys: make([]jwt.VerificationKey, len(v.rsaKeys))}
		for i, k := range v.rsaKeys {
			set.Keys[i] = k
		}
		return set, nil
	}
	return nil, jwt.ErrTokenUnverifiable
}

func tokenError(err error) *Error {
	msg := "token is invalid"
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return refuse(401, CodeTokenExpired, "token has expired")
	case errors.Is(err, jwt.ErrTokenMalformed):
		msg = "token is malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		msg = "token signature is invalid"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		msg = "token algorithm is not accepted"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		msg = `token has no "exp" claim`
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		msg = "token issuer is not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		msg = "token audience is not accepted"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		msg = "token is not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		msg = "token claims are invalid"
	}
	return refuse(401, CodeInvalidToken, msg)
}
