package roanuz

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeEveryEncoding(t *testing.T) {
	src := excerpt(t)
	env, err := DecodeUpdate(src, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, enc := range Encodings() {
		t.Run(enc.String(), func(t *testing.T) {
			payload, err := Encode(env, enc)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeUpdate(payload, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got.Data.Key != "icc_wc_2023_g26" || len(got.Data.Play.RelatedBalls) != 5 {
				t.Fatalf("got key %q with %d balls", got.Data.Key, len(got.Data.Play.RelatedBalls))
			}
		})
	}
	t.Run("base64 json", func(t *testing.T) {
		if _, err := DecodeUpdate([]byte(base64.StdEncoding.EncodeToString(src)), 0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("json string of base64 gzip", func(t *testing.T) {
		b64 := base64.StdEncoding.EncodeToString(gz(t, src))
		if _, err := DecodeUpdate([]byte(`"`+b64+`"`), 0); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDecodeMalformed(t *testing.T) {
	src := excerpt(t)
	gzipped := gz(t, src)
	bomb := gz(t, bytes.Repeat([]byte(" "), 2<<20))
	cases := []struct {
		name    string
		payload []byte
		max     int64
		want    error
	}{
		{"empty", nil, 0, ErrBadEncoding},
		{"spaces", []byte("   "), 0, ErrBadEncoding},
		{"bad gzip", append([]byte{0x1f, 0x8b, 8, 0}, bytes.Repeat([]byte{0xff}, 20)...), 0, ErrBadEncoding},
		{"truncated gzip", gzipped[:len(gzipped)/2], 0, ErrBadEncoding},
		{"bad zlib", []byte{0x78, 0x9c, 0xff, 0xff, 0xff, 0xff}, 0, ErrBadEncoding},
		{"invalid json", []byte(`{"data": {"key": `), 0, ErrBadJSON},
		{"truncated json", src[:len(src)-10], 0, ErrBadJSON},
		{"array", []byte(`[1,2,3]`), 0, ErrBadJSON},
		{"number", []byte(`42`), 0, ErrBadJSON},
		{"null", []byte(`null`), 0, ErrBadJSON},
		{"wrong type", []byte(`{"data": {"key": 7}}`), 0, ErrBadJSON},
		{"wrong ball type", []byte(`{"key":"m","play":{"related_balls":{"1":{"key":"1","innings":"a_1","overs":"4.3"}}}}`), 0, ErrBadJSON},
		{"wrong data kind", []byte(`{"data": {"key": "m"}, "data_kind": "tournament"}`), 0, ErrBadJSON},
		{"missing key", []byte(`{"data": {"name": "x"}}`), 0, ErrMissingField},
		{"null data", []byte(`{"data": null}`), 0, ErrMissingField},
		{"ball without key", []byte(`{"key":"m","play":{"related_balls":{"1":{"innings":"a_1","overs":[0,1]}}}}`), 0, ErrMissingField},
		{"ball without overs", []byte(`{"key":"m","play":{"related_balls":{"1":{"key":"1","innings":"a_1"}}}}`), 0, ErrMissingField},
		{"over cap raw", src, 100, ErrTooLarge},
		{"over cap gzip", bomb, 1 << 20, ErrTooLarge},
		{"not base64", []byte("this is not base64!"), 0, ErrBadEncoding},
		{"string of garbage", []byte(`"@@@"`), 0, ErrBadEncoding},
		{"unterminated string", []byte(`"abc`), 0, ErrBadJSON},
		{"nested too deep", nestB64(src, 8), 0, ErrBadEncoding},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, err := DecodeUpdate(tc.payload, tc.max)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v (env %v), want %v", err, env != nil, tc.want)
			}
			if msg := err.Error(); len(msg) < 8 || msg[:7] != "roanuz:" {
				t.Fatalf("error %q lacks the roanuz: prefix", msg)
			}
		})
	}
}

func nestB64(b []byte, n int) []byte {
	for range n {
		b = []byte(base64.StdEncoding.EncodeToString(b))
	}
	return b
}

func TestDecodeAuth(t *testing.T) {
	cases := []struct {
		name string
		body string
		want float64
		err  error
	}{
		{"string expires", `{"status_code":200,"data":{"token":"t","expires":"1711234567.89"}}`, 1711234567.89, nil},
		{"number expires", `{"data":{"token":"t","expires":1711234567.5}}`, 1711234567.5, nil},
		{"no expires", `{"data":{"token":"t"}}`, 0, nil},
		{"bad expires", `{"data":{"token":"t","expires":"soon"}}`, 0, ErrBadJSON},
		{"no token", `{"data":{"expires":1}}`, 0, ErrMissingField},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := DecodeAuth([]byte(tc.body))
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if err == nil && float64(a.Expires) != tc.want {
				t.Fatalf("expires %v, want %v", a.Expires, tc.want)
			}
		})
	}
}

func TestDecodeBallByBall(t *testing.T) {
	m := devMatches(t)[0]
	g, err := NewGenerator("rz_"+m.id, m.evs)
	if err != nil {
		t.Fatal(err)
	}
	g.Document(30)
	r, err := g.Over("a_1_2")
	if err != nil {
		t.Fatal(err)
	}
	body, err := Encode(r, EncodeJSON)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := DecodeBallByBall(body)
	if err != nil {
		t.Fatal(err)
	}
	if bb.Over.Index.OverNumber != 2 || len(bb.Over.Balls) < 6 || *bb.PreviousOverKey != "a_1_1" || *bb.NextOverKey != "a_1_3" || bb.Over.Balls[0].Repr == "" {
		t.Fatalf("got %+v", bb)
	}
	if _, err := g.Over("a_1_40"); !errors.Is(err, ErrNoOver) {
		t.Fatalf("future over: %v", err)
	}
	if _, err := DecodeBallByBall([]byte(`{"data":{"over":{"balls":[]}}}`)); !errors.Is(err, ErrMissingField) {
		t.Fatalf("no index: %v", err)
	}
}

func TestWicketKind(t *testing.T) {
	for in, want := range map[string]string{
		"caught": "caught", "catch": "caught", "bowled": "bowled", "lbw": "lbw", "runout": "run out", "run_out": "run out",
		"stumped": "stumped", "stumbed": "stumped", "hitwicket": "hit wicket", "hit_wicket": "hit wicket",
		"caught_and_bowled": "caught and bowled", "retired_hurt": "retired hurt", "obstructing_the_field": "obstructing the field",
		"handled_the_ball": "handled the ball", "timed_out": "timed out", "Run Out": "run out",
	} {
		if got := WicketKind(in); got != want {
			t.Errorf("WicketKind(%q) = %q, want %q", in, got, want)
		}
	}
}
