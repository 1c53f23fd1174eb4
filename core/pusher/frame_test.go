package pusher

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseFrame(t *testing.T) {
	for _, tc := range []struct {
		name, in             string
		event, channel, data string // data: Decoded(), "" for none
		err                  bool
	}{
		{name: "connection established double-encoded", in: `{"event":"pusher:connection_established","data":"{\"socket_id\":\"123.456\",\"activity_timeout\":120}"}`,
			event: "pusher:connection_established", data: `{"socket_id":"123.456","activity_timeout":120}`},
		{name: "sgo notification", in: `{"event":"data","channel":"private-sgo","data":"[{\"eventID\":\"E1\"}]"}`,
			event: "data", channel: "private-sgo", data: `[{"eventID":"E1"}]`},
		{name: "data as object", in: `{"event":"pusher:error","data":{"message":"Over quota","code":4100}}`,
			event: "pusher:error", data: `{"message":"Over quota","code":4100}`},
		{name: "string not JSON stays a string", in: `{"event":"note","channel":"c","data":"hello world"}`,
			event: "note", channel: "c", data: `"hello world"`},
		{name: "string holding a number", in: `{"event":"n","data":"42"}`, event: "n", data: `42`},
		{name: "null data", in: `{"event":"pusher:pong","data":null}`, event: "pusher:pong"},
		{name: "no data", in: `{"event":"pusher:ping"}`, event: "pusher:ping"},
		{name: "unicode in double encoding", in: `{"event":"d","data":"{\"t\":\"Mumbaí \\u2014 x\"}"}`, event: "d", data: `{"t":"Mumbaí \u2014 x"}`},
		{name: "not JSON", in: `pusher:ping`, err: true},
		{name: "array", in: `[{"event":"x"}]`, err: true},
		{name: "no event", in: `{"channel":"c","data":"{}"}`, err: true},
		{name: "event not a string", in: `{"event":7}`, err: true},
		{name: "too deep", in: `{"event":"x","data":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFrame([]byte(tc.in))
			if tc.err {
				if !errors.Is(err, ErrFrame) {
					t.Fatalf("ParseFrame(%s) = %+v, %v; want ErrFrame", tc.in, f, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Event != tc.event || f.Channel != tc.channel || string(f.Decoded()) != tc.data {
				t.Fatalf("got event %q channel %q data %s; want %q %q %s", f.Event, f.Channel, f.Decoded(), tc.event, tc.channel, tc.data)
			}
		})
	}
}

func TestErrorData(t *testing.T) {
	for in, want := range map[string]ErrorData{
		`{"message":"App key x does not exist","code":4001}`: {"App key x does not exist", 4001},
		`"{\"message\":\"Over capacity\",\"code\":4100}"`:    {"Over capacity", 4100},
		`{"message":"Generic reconnect","code":null}`:        {"Generic reconnect", 0},
		`{"message":"string code","code":"4200"}`:            {"string code", 0},
	} {
		if got := parseErrorData(json.RawMessage(in)); got != want {
			t.Errorf("parseErrorData(%s) = %+v, want %+v", in, got, want)
		}
	}
}

func TestActionFor(t *testing.T) {
	for code, want := range map[int]Action{
		4000: Refuse, 4001: Refuse, 4009: Refuse, 4099: Refuse,
		4100: RetryLater, 4199: RetryLater,
		4200: RetryNow, 4201: RetryNow, 4202: RetryNow, 4299: RetryNow,
		4301: Refuse, 1000: Backoff, 1006: Backoff, 0: Backoff,
	} {
		if got := ActionFor(code); got != want {
			t.Errorf("ActionFor(%d) = %v, want %v", code, got, want)
		}
	}
}

// TestSign checks the worked example of Pusher's auth-signature docs.
func TestSign(t *testing.T) {
	got := Sign("278d425bdf160c739803", "7ad3773142a6692b25b8", "1234.1234", "private-foobar", "")
	want := "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

// FuzzParseFrame: ParseFrame never panics, and a frame it accepts encodes
// back to one it accepts with the same event, channel and decoded data.
func FuzzParseFrame(f *testing.F) {
	files, _ := filepath.Glob("testdata/frames/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"event":"data","channel":"c","data":"[{\"eventID\":\"x\"}]"}`))
	f.Add([]byte(`{"event":"pusher:error","data":{"code":4200,"message":"m"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ParseFrame(b)
		if err != nil {
			return
		}
		d := fr.Decoded()
		if len(d) > 0 && !json.Valid(d) {
			t.Fatalf("decoded data %q is not JSON", d)
		}
		out, err := json.Marshal(fr)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, err := ParseFrame(out)
		if err != nil {
			t.Fatalf("re-parse %s: %v", out, err)
		}
		if back.Event != fr.Event || back.Channel != fr.Channel || string(normalize(back.Decoded())) != string(normalize(d)) {
			t.Fatalf("round trip changed %+v into %+v", fr, back)
		}
		parseErrorData(fr.Data)
	})
}

// normalize compacts JSON for comparison.
func normalize(b []byte) []byte {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	out, _ := json.Marshal(v) // HTML-escapes and replaces invalid UTF-8, on both sides alike
	return out
}
