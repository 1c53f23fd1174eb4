package roanuz

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// BenchmarkDecodeReference is the same-run reference for
// BenchmarkDecodeNormalize: gunzip plus a generic json.Unmarshal into any of
// the same late-Test document, i.e. the cost of merely reading the bytes.
// docs/benchmarks.md reports DecodeNormalize as a ratio to it.
func BenchmarkDecodeReference(b *testing.B) {
	_, g := longestMatch(b)
	doc := g.Document(g.Len() - 3)
	cur, err := Encode(doc, EncodeGzip)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := Encode(doc, EncodeJSON)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		zr, err := gzip.NewReader(bytes.NewReader(cur))
		if err != nil {
			b.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			b.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(plain, &v); err != nil {
			b.Fatal(err)
		}
	}
}
