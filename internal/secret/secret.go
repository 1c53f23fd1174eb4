// Package secret reads credentials (provider API keys, tokens) from where
// ballcast's configuration says they are, a file or an environment
// variable, never from the configuration itself, and keeps them out of
// error messages.
package secret

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Read returns the secret in file (surrounding white space trimmed) when
// file is set, else the value of the environment variable env. An unset,
// empty or unreadable source is an error naming the source, never the
// value.
func Read(env, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read key file: %w", err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("key file %s is empty", file)
		}
		return s, nil
	}
	if env == "" {
		return "", errors.New("no key file and no environment variable named")
	}
	s := os.Getenv(env)
	if s == "" {
		return "", fmt.Errorf("environment variable %s is unset or empty", env)
	}
	return s, nil
}

// Redact returns err with every occurrence of secret in its text, as it
// is or query-escaped (a URL error may quote a key sent in the query),
// replaced by "<redacted>", or err itself when its text holds neither. The
// result no longer wraps err when it had to be rewritten.
func Redact(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	msg, esc := err.Error(), url.QueryEscape(secret)
	if !strings.Contains(msg, secret) && !strings.Contains(msg, esc) {
		return err
	}
	msg = strings.ReplaceAll(msg, secret, "<redacted>")
	return errors.New(strings.ReplaceAll(msg, esc, "<redacted>"))
}
