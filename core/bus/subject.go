package bus

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// tokenMark starts the encoded form of a name that is not plain. It is valid
// both in a NATS subject token and in a JetStream KV key, and it never occurs
// in a plain name, so the two forms cannot collide.
const tokenMark = '='

// encodeToken turns an arbitrary string (a match ID, a KV key) into a single
// NATS subject token that is also a valid KV key. Names made only of
// [A-Za-z0-9_-] (at least one character) are used as they are, so subjects
// stay readable in `nats stream view`; anything else (dots, spaces, '*', '>',
// '/', unicode, invalid UTF-8, the empty string) becomes "=" followed by the
// unpadded base64url form of its bytes. decodeToken reverses it.
func encodeToken(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(1 + base64.RawURLEncoding.EncodedLen(len(s)))
	b.WriteByte(tokenMark)
	b.WriteString(base64.RawURLEncoding.EncodeToString([]byte(s)))
	return b.String()
}

// decodeToken is the inverse of encodeToken. It rejects a token that
// encodeToken cannot have produced.
func decodeToken(tok string) (string, error) {
	if tok == "" {
		return "", fmt.Errorf("bus: decode token: empty")
	}
	if tok[0] != tokenMark {
		if !isPlain(tok) {
			return "", fmt.Errorf("bus: decode token %q: invalid character", tok)
		}
		return tok, nil
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(tok[1:])
	if err != nil {
		return "", fmt.Errorf("bus: decode token %q: %w", tok, err)
	}
	s := string(raw)
	if isPlain(s) {
		// encodeToken writes plain names as they are; accepting this form
		// too would give one name two tokens.
		return "", fmt.Errorf("bus: decode token %q: plain name in encoded form", tok)
	}
	return s, nil
}

// isPlain reports whether s is non-empty and made only of [A-Za-z0-9_-].
func isPlain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
