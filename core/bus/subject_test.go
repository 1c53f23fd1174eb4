package bus

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// kvKey is JetStream's rule for a KV key; subjectToken is a single subject
// token (no separators, wildcards or whitespace).
var (
	kvKey        = regexp.MustCompile(`^[-/_=.a-zA-Z0-9]+$`)
	subjectToken = regexp.MustCompile(`^[^.*>\s]+$`)
)

func TestEncodeToken(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "ENGvAUS_2025-1", "ENGvAUS_2025-1"},
		{"empty", "", "="},
		{"dot", "a.b", "=YS5i"},
		{"space", "a b", "=YSBi"},
		{"star", "*", "=Kg"},
		{"gt", ">", "=Pg"},
		{"mark", "=", "=PQ"},
		{"slash", "stats/m1", "=c3RhdHMvbTE"},
		{"unicode", "ü", "=w7w"},
		{"invalid utf8", "\xff", "=_w"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := encodeToken(tc.in)
			if got != tc.want {
				t.Fatalf("encodeToken(%q) = %q, want %q", tc.in, got, tc.want)
			}
			back, err := decodeToken(got)
			if err != nil || back != tc.in {
				t.Fatalf("decodeToken(%q) = %q, %v; want %q", got, back, err, tc.in)
			}
		})
	}
}

func TestDecodeTokenRejects(t *testing.T) {
	for _, tok := range []string{"", "a.b", "a b", "=YS5i=", "=!!", "=YWJj" /* "abc" is plain */, "=w7x" /* "ü" with non-zero padding bits */} {
		if s, err := decodeToken(tok); err == nil {
			t.Errorf("decodeToken(%q) = %q, want an error", tok, s)
		}
	}
}

func FuzzToken(f *testing.F) {
	for _, s := range []string{"", "m1", "a.b", "*", ">", "=", "=YS5i", "ü", "\xff", " ", "a\x00b", strings.Repeat("x", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := encodeToken(s)
		if !kvKey.MatchString(tok) || !subjectToken.MatchString(tok) || !utf8.ValidString(tok) {
			t.Fatalf("encodeToken(%q) = %q: not a valid KV key and subject token", s, tok)
		}
		back, err := decodeToken(tok)
		if err != nil || back != s {
			t.Fatalf("decodeToken(encodeToken(%q)) = %q, %v", s, back, err)
		}
		// Any token that decodes must be the one encoding of its name.
		if name, err := decodeToken(s); err == nil && encodeToken(name) != s {
			t.Fatalf("decodeToken(%q) = %q, which encodes to %q", s, name, encodeToken(name))
		}
	})
}
