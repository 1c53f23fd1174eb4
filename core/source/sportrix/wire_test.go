package sportrix

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestParseFrame(t *testing.T) {
	cases := []struct {
		name, in string
		want     Frame
		err      string // substring of the error; "" for success
	}{
		{name: "snapshot", in: `{"op":"snapshot","data":{"match_id":41282,"sport":"soccer"}}`,
			want: Frame{Op: OpSnapshot, MatchID: 41282, Sport: "soccer"}},
		{name: "update with string id", in: `{"op":"update","data":{"match_id":"7","sport":"cricket"}}`,
			want: Frame{Op: OpUpdate, MatchID: 7, Sport: "cricket"}},
		{name: "routing fields last", in: `{"op":"update","data":{"score":{"home":1},"events":[{"a":[1]}],"sport":"soccer","match_id":5}}`,
			want: Frame{Op: OpUpdate, MatchID: 5, Sport: "soccer"}},
		{name: "documented error", in: `{"op": "error", "error": "match not live or not found"}`,
			want: Frame{Op: OpError, Error: "match not live or not found"}},
		{name: "error naming its match", in: `{"op":"error","match_id":9,"error":"x"}`,
			want: Frame{Op: OpError, MatchID: 9, Error: "x"}},
		{name: "error naming its match in data", in: `{"op":"error","data":{"match_id":9},"error":"x"}`,
			want: Frame{Op: OpError, MatchID: 9, Error: "x"}},
		{name: "not json", in: `{"op":"update","data":{"match_id":`, err: "unexpected end"},
		{name: "no op", in: `{"data":{}}`, err: "no op"},
		{name: "unknown op", in: `{"op":"hello"}`, err: `unknown op "hello"`},
		{name: "data not an object", in: `{"op":"update","data":[1]}`, err: "without a data object"},
		{name: "no match id", in: `{"op":"update","data":{"sport":"soccer"}}`, err: "match_id"},
		{name: "bad match id", in: `{"op":"update","data":{"match_id":"x1","sport":"soccer"}}`, err: "not an integer"},
		{name: "no sport", in: `{"op":"snapshot","data":{"match_id":3}}`, err: "without data.sport"},
		{name: "error without text", in: `{"op":"error"}`, err: "without an error string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFrame([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrFrame) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want ErrFrame mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f.Data = nil
			if f.Op != tc.want.Op || f.MatchID != tc.want.MatchID || f.Sport != tc.want.Sport || f.Error != tc.want.Error {
				t.Fatalf("got %+v, want %+v", f, tc.want)
			}
		})
	}
}

func TestParseToken(t *testing.T) {
	cases := []struct {
		in      string
		bat     int
		ex      Extras
		legal   bool
		wicket  bool
		invalid bool
	}{
		{in: "0", legal: true},
		{in: "4", bat: 4, legal: true},
		{in: "W", legal: true, wicket: true},
		{in: "1W", bat: 1, legal: true, wicket: true},
		{in: "1wd", ex: Extras{Wides: 1}},
		{in: "5wd", ex: Extras{Wides: 5}},
		{in: "2wdW", ex: Extras{Wides: 2}, wicket: true},
		{in: "1nb", ex: Extras{NoBalls: 1}},
		{in: "5nb", bat: 4, ex: Extras{NoBalls: 1}},
		{in: "3nblb", ex: Extras{NoBalls: 1, LegByes: 2}},
		{in: "2nbb", ex: Extras{NoBalls: 1, Byes: 1}},
		{in: "2lb", ex: Extras{LegByes: 2}, legal: true},
		{in: "4b", ex: Extras{Byes: 4}, legal: true},
		{in: "5p", ex: Extras{Penalty: 5}, legal: true},
		{in: "6+5p", bat: 1, ex: Extras{Penalty: 5}, legal: true},
		{in: "", invalid: true},
		{in: "x", invalid: true},
		{in: "4x", invalid: true},
		{in: "12345", invalid: true},
		{in: "2+5p", invalid: true},
		{in: "6+0p", invalid: true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			tok, err := ParseToken(tc.in)
			if tc.invalid {
				if err == nil {
					t.Fatalf("%q parsed as %+v, want an error", tc.in, tok)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			bat, ex := tok.Split()
			if bat != tc.bat || ex != tc.ex || tok.Legal() != tc.legal || tok.Wicket != tc.wicket {
				t.Fatalf("%q: bat %d extras %+v legal %v wicket %v", tc.in, bat, ex, tok.Legal(), tok.Wicket)
			}
			if again, _ := ParseToken(tok.String()); again != tok {
				t.Fatalf("%q: String %q parses as %+v", tc.in, tok.String(), again)
			}
		})
	}
}

func TestOvers(t *testing.T) {
	for in, want := range map[string]Overs{`"6.2"`: {6, 2}, `6.2`: {6, 2}, `"20"`: {20, 0}, `0`: {}, `null`: {}} {
		var o Overs
		if err := json.Unmarshal([]byte(in), &o); err != nil || o != want {
			t.Fatalf("%s: got %+v %v, want %+v", in, o, err, want)
		}
	}
	for _, in := range []string{`"a.b"`, `"-1.2"`, `"1.x"`, `true`} {
		var o Overs
		if err := json.Unmarshal([]byte(in), &o); err == nil {
			t.Fatalf("%s: parsed as %+v, want an error", in, o)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Matches: []int64{1}}
	cases := []struct {
		name string
		mod  func(*Config)
		err  string
	}{
		{"defaults", func(*Config) {}, ""},
		{"header auth over ws", func(c *Config) { c.Auth, c.URL = "header", "ws://127.0.0.1:1/v1/stream" }, ""},
		{"http url", func(c *Config) { c.URL = "https://scores.sportrixdata.com/v1/stream" }, "url"},
		{"key in url", func(c *Config) { c.URL = "wss://h/v1/stream?key=sk_1" }, "holds credentials"},
		{"both key sources", func(c *Config) { c.APIKeyEnv, c.APIKeyFile = "K", "/k" }, "not both"},
		{"bad auth", func(c *Config) { c.Auth = "basic" }, "auth"},
		{"no matches", func(c *Config) { c.Matches = nil }, "at least one"},
		{"bad match", func(c *Config) { c.Matches = []int64{0} }, "positive"},
		{"duplicate match", func(c *Config) { c.Matches = []int64{5, 5} }, "listed twice"},
		{"read timeout under the ping", func(c *Config) { c.ReadTimeout = 30 * time.Second }, "must exceed ping_interval"},
		{"backoff reversed", func(c *Config) { c.BackoffMin, c.BackoffMax = time.Minute, time.Second }, "backoff_max"},
		{"attempts", func(c *Config) { c.MaxAttempts = -1 }, "max_attempts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mod(&c)
			err := c.Validate()
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
	// Every problem at once.
	err := Config{Auth: "x", ReadTimeout: time.Second}.Validate()
	for _, want := range []string{"auth", "matches", "read_timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to name %s", err, want)
		}
	}
}

var nopLog = zerolog.Nop()

func TestNewReadsTheKey(t *testing.T) {
	t.Setenv("SPORTRIX_TEST_EMPTY", "")
	if _, err := New(Config{Matches: []int64{1}, APIKeyEnv: "SPORTRIX_TEST_EMPTY"}, nopLog); err == nil || !strings.Contains(err.Error(), "SPORTRIX_TEST_EMPTY") {
		t.Fatalf("empty key variable: %v", err)
	}
	if _, err := New(Config{Matches: []int64{1}, APIKeyFile: t.TempDir() + "/missing"}, nopLog); err == nil || !strings.Contains(err.Error(), "key file") {
		t.Fatalf("missing key file: %v", err)
	}
}
