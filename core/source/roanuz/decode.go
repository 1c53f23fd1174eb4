package roanuz

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
)

// DefaultMaxSize is the default cap on a decoded (decompressed) update: 32 MiB.
const DefaultMaxSize int64 = 32 << 20

// Decoding errors. Every error DecodeUpdate returns wraps one of them.
var (
	// ErrTooLarge: the payload, or what it decompresses to, exceeds the cap.
	ErrTooLarge = errors.New("roanuz: update too large")
	// ErrBadEncoding: the payload is none of the accepted encodings, or its
	// compression or base64 is corrupt.
	ErrBadEncoding = errors.New("roanuz: bad encoding")
	// ErrBadJSON: the payload is (or decompresses to) invalid JSON, or JSON of the wrong shape.
	ErrBadJSON = errors.New("roanuz: bad json")
	// ErrMissingField: a field ballcast requires is absent or empty.
	ErrMissingField = errors.New("roanuz: missing field")
)

// maxNesting bounds encodings wrapped in encodings (base64 of gzip of a JSON
// string of JSON is depth 3).
const maxNesting = 4

// DecodeUpdate decodes one `on_match_update` payload (or a REST match
// response body) into an Envelope. It accepts, by sniffing:
//
//   - JSON object text: the full envelope {data, cache, ...} or bare data;
//   - a JSON string whose content is any accepted form;
//   - binary gzip (1f 8b) or zlib (78 xx);
//   - base64 (standard or URL alphabet, padded or not) of any of these.
//
// A bare match document is returned wrapped in an Envelope with only Data set.
// maxSize caps both the raw payload and every decompressed or decoded stage;
// maxSize <= 0 means DefaultMaxSize.
func DecodeUpdate(payload []byte, maxSize int64) (*Envelope, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	raw, err := unwrap(payload, maxSize, 0)
	if err != nil {
		return nil, fmt.Errorf("roanuz: decode update: %w", err)
	}
	env, err := parseEnvelope(raw)
	if err != nil {
		return nil, fmt.Errorf("roanuz: decode update: %w", err)
	}
	return env, nil
}

// unwrap peels encodings until it reaches JSON object text.
func unwrap(p []byte, maxSize int64, depth int) ([]byte, error) {
	if int64(len(p)) > maxSize {
		return nil, fmt.Errorf("%w: %d bytes over the %d-byte cap", ErrTooLarge, len(p), maxSize)
	}
	if depth > maxNesting {
		return nil, fmt.Errorf("%w: encodings nested more than %d deep", ErrBadEncoding, maxNesting)
	}
	if len(p) >= 2 && p[0] == 0x1f && p[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(p))
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %w", ErrBadEncoding, err)
		}
		out, err := readCapped(zr, maxSize, "gzip")
		if err != nil {
			return nil, err
		}
		return unwrap(out, maxSize, depth+1)
	}
	if len(p) >= 2 && p[0]&0x0f == 8 && p[0]>>4 <= 7 && (uint16(p[0])<<8|uint16(p[1]))%31 == 0 {
		zr, err := zlib.NewReader(bytes.NewReader(p))
		if err != nil {
			return nil, fmt.Errorf("%w: zlib: %w", ErrBadEncoding, err)
		}
		out, err := readCapped(zr, maxSize, "zlib")
		if err != nil {
			return nil, err
		}
		return unwrap(out, maxSize, depth+1)
	}
	t := bytes.TrimSpace(p)
	if len(t) == 0 {
		return nil, fmt.Errorf("%w: empty payload", ErrBadEncoding)
	}
	switch t[0] {
	case '{':
		return t, nil
	case '"':
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return nil, fmt.Errorf("%w: json string: %w", ErrBadJSON, err)
		}
		return unwrap([]byte(s), maxSize, depth+1)
	case '[', 'n', 't', 'f', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if json.Valid(t) {
			return nil, fmt.Errorf("%w: want a json object, got %s", ErrBadJSON, jsonKind(t[0]))
		}
	}
	if dec, ok := decodeBase64(t); ok {
		return unwrap(dec, maxSize, depth+1)
	}
	return nil, fmt.Errorf("%w: not json, gzip, zlib or base64 (starts %q)", ErrBadEncoding, head(t))
}

func readCapped(r io.ReadCloser, maxSize int64, what string) ([]byte, error) {
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadEncoding, what, err)
	}
	if int64(len(out)) > maxSize {
		return nil, fmt.Errorf("%w: %s decompresses to more than %d bytes", ErrTooLarge, what, maxSize)
	}
	return out, nil
}

func decodeBase64(t []byte) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		out := make([]byte, enc.DecodedLen(len(t)))
		n, err := enc.Decode(out, t)
		if err == nil && n > 0 {
			return out[:n], true
		}
	}
	return nil, false
}

func jsonKind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

func head(t []byte) []byte {
	if len(t) > 16 {
		return t[:16]
	}
	return t
}

// parseEnvelope parses JSON object text as the envelope or as bare data.
func parseEnvelope(raw []byte) (*Envelope, error) {
	env := new(Envelope)
	if err := json.Unmarshal(raw, env); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadJSON, err)
	}
	if env.Data == nil {
		// No "data" (or "data": null): bare data, or an envelope without it.
		var probe struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadJSON, err)
		}
		if len(probe.Data) > 0 {
			return nil, fmt.Errorf("%w: data is null", ErrMissingField)
		}
		var m Match
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadJSON, err)
		}
		env = &Envelope{Data: &m}
	}
	if env.DataKind != "" && env.DataKind != "match" {
		return nil, fmt.Errorf("%w: data_kind %q, want match", ErrBadJSON, env.DataKind)
	}
	if err := env.Data.validate(); err != nil {
		return nil, err
	}
	return env, nil
}
