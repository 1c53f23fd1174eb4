package secret

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "key")
	if err := os.WriteFile(good, []byte("  sk_file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SECRET_TEST_KEY", "sk_env")
	t.Setenv("SECRET_TEST_EMPTY", "")
	for _, tc := range []struct {
		name, env, file, want, err string
	}{
		{"file wins", "SECRET_TEST_KEY", good, "sk_file", ""},
		{"env", "SECRET_TEST_KEY", "", "sk_env", ""},
		{"empty env", "SECRET_TEST_EMPTY", "", "", "environment variable SECRET_TEST_EMPTY is unset or empty"},
		{"unset env", "SECRET_TEST_UNSET", "", "", "SECRET_TEST_UNSET is unset"},
		{"nothing named", "", "", "", "no key file and no environment variable"},
		{"empty file", "", empty, "", "is empty"},
		{"missing file", "", filepath.Join(dir, "nope"), "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(tc.env, tc.file)
			if got != tc.want {
				t.Errorf("Read = %q, want %q", got, tc.want)
			}
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("error %v, want one containing %q", err, tc.err)
			}
			if err != nil && (strings.Contains(err.Error(), "sk_env") || strings.Contains(err.Error(), "sk_file")) {
				t.Errorf("error %q holds the secret", err)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	base := errors.New(`Get "https://h/v1?key=sk_1&x=sk_1": dial tcp: refused`)
	if got := Redact(base, "sk_1").Error(); strings.Contains(got, "sk_1") || !strings.Contains(got, "key=<redacted>") {
		t.Errorf("Redact = %q", got)
	}
	if got := Redact(errors.New("dial wss://h/?key=a%2Bb: refused"), "a+b").Error(); strings.Contains(got, "a%2Bb") {
		t.Errorf("query-escaped secret kept: %q", got)
	}
	if got := Redact(base, "other"); got != base {
		t.Errorf("an error without the secret was rewritten: %v", got)
	}
	if Redact(nil, "sk_1") != nil || Redact(base, "") != base {
		t.Error("nil error or empty secret changed")
	}
}
