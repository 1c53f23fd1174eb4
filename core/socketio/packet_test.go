package socketio

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDecodeEnginePacket(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		typ     enginePacketType
		data    string
		wantErr bool
	}{
		{name: "open", in: `0{"sid":"x"}`, typ: engineOpen, data: `{"sid":"x"}`},
		{name: "close", in: "1", typ: engineClose},
		{name: "ping", in: "2", typ: enginePing},
		{name: "probe ping", in: "2probe", typ: enginePing, data: "probe"},
		{name: "pong", in: "3", typ: enginePong},
		{name: "message", in: `42["a"]`, typ: engineMessage, data: `2["a"]`},
		{name: "upgrade", in: "5", typ: engineUpgrade},
		{name: "noop", in: "6", typ: engineNoop},
		{name: "empty", in: "", wantErr: true},
		{name: "type 7", in: "7", wantErr: true},
		{name: "letter", in: "b", wantErr: true},
		{name: "eio3 binary marker as text", in: "\x04abc", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodeEnginePacket([]byte(tc.in))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("decodeEnginePacket(%q) = %+v, want an error", tc.in, p)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeEnginePacket(%q): %v", tc.in, err)
			}
			assertEqual(t, "type", p.typ, tc.typ)
			assertEqual(t, "data", string(p.data), tc.data)
		})
	}
}

func TestDecodeOpen(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    Handshake
		wantErr bool
	}{
		{
			name: "eio4",
			in:   `{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
			want: Handshake{SID: "lv_VI97HAXpY6yYWAAAC", Upgrades: []string{}, PingInterval: 25 * time.Second, PingTimeout: 20 * time.Second, MaxPayload: 1000000},
		},
		{
			name: "eio3 without maxPayload",
			in:   `{"sid":"a","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}`,
			want: Handshake{SID: "a", Upgrades: []string{"websocket"}, PingInterval: 25 * time.Second, PingTimeout: 5 * time.Second},
		},
		{name: "no sid", in: `{"pingInterval":1,"pingTimeout":1}`, wantErr: true},
		{name: "empty sid", in: `{"sid":"","pingInterval":1,"pingTimeout":1}`, wantErr: true},
		{name: "no ping interval", in: `{"sid":"a","pingTimeout":1}`, wantErr: true},
		{name: "negative timeout", in: `{"sid":"a","pingInterval":1,"pingTimeout":-1}`, wantErr: true},
		{name: "huge interval", in: `{"sid":"a","pingInterval":1e15,"pingTimeout":1}`, wantErr: true},
		{name: "negative maxPayload", in: `{"sid":"a","pingInterval":1,"pingTimeout":1,"maxPayload":-1}`, wantErr: true},
		{name: "not json", in: `sid`, wantErr: true},
		{name: "array", in: `[]`, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeOpen([]byte(tc.in))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("decodeOpen(%s) = %+v, want an error", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeOpen(%s): %v", tc.in, err)
			}
			assertEqual(t, "handshake", got, tc.want)
		})
	}
}

func TestDecodePacket(t *testing.T) {
	cases := []struct {
		name        string
		in          string
		typ         packetType
		attachments int
		nsp         string
		id          int64
		data        string
		args        []string
		wantErr     string // substring; "" means success
	}{
		// From the Socket.IO protocol v5 and v4 examples, and the wire as
		// LIBRARY-NOTES records it.
		{name: "connect root", in: "0", typ: packetConnect, nsp: "/", id: noID},
		{name: "connect nsp eio3 reply", in: "0/cricket,", typ: packetConnect, nsp: "/cricket", id: noID},
		{name: "connect nsp without comma", in: "0/cricket", typ: packetConnect, nsp: "/cricket", id: noID},
		{name: "connect nsp eio4 reply", in: `0/cricket,{"sid":"oSO0OpakMV_3jnilAAAA"}`, typ: packetConnect, nsp: "/cricket", id: noID, data: `{"sid":"oSO0OpakMV_3jnilAAAA"}`},
		{name: "disconnect", in: "1/cricket,", typ: packetDisconnect, nsp: "/cricket", id: noID},
		{name: "event", in: `2/cricket,["on_match_joined",{"key":"m"}]`, typ: packetEvent, nsp: "/cricket", id: noID,
			data: `["on_match_joined",{"key":"m"}]`, args: []string{`"on_match_joined"`, `{"key":"m"}`}},
		{name: "event root with ack id", in: `212["foo"]`, typ: packetEvent, nsp: "/", id: 12, data: `["foo"]`, args: []string{`"foo"`}},
		{name: "event nsp with ack id", in: `2/admin,13["bar"]`, typ: packetEvent, nsp: "/admin", id: 13, data: `["bar"]`, args: []string{`"bar"`}},
		{name: "ack", in: `3/admin,13["bar"]`, typ: packetAck, nsp: "/admin", id: 13, data: `["bar"]`, args: []string{`"bar"`}},
		{name: "empty ack", in: `31[]`, typ: packetAck, nsp: "/", id: 1, data: `[]`, args: []string{}},
		{name: "connect error v5", in: `4/cricket,{"message":"not authorized","data":{"code":"A-401-0"}}`, typ: packetConnectError, nsp: "/cricket", id: noID,
			data: `{"message":"not authorized","data":{"code":"A-401-0"}}`},
		{name: "connect error v4 string", in: `4/cricket,"not authorized"`, typ: packetConnectError, nsp: "/cricket", id: noID, data: `"not authorized"`},
		{name: "binary event", in: `51-/cricket,["on_match_update",{"_placeholder":true,"num":0}]`, typ: packetBinaryEvent, attachments: 1, nsp: "/cricket", id: noID,
			data: `["on_match_update",{"_placeholder":true,"num":0}]`, args: []string{`"on_match_update"`, `{"_placeholder":true,"num":0}`}},
		{name: "binary ack", in: `61-/admin,1[{"_placeholder":true,"num":0}]`, typ: packetBinaryAck, attachments: 1, nsp: "/admin", id: 1,
			data: `[{"_placeholder":true,"num":0}]`, args: []string{`{"_placeholder":true,"num":0}`}},
		{name: "binary event root", in: `52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, typ: packetBinaryEvent, attachments: 2, nsp: "/", id: noID,
			data: `["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, args: []string{`"a"`, `{"_placeholder":true,"num":0}`, `{"_placeholder":true,"num":1}`}},

		{name: "empty", in: "", wantErr: "empty"},
		{name: "type 7", in: "7", wantErr: "type"},
		{name: "binary without count", in: `5["a"]`, wantErr: "attachment count"},
		{name: "binary without dash", in: `51["a"]`, wantErr: "attachment count"},
		{name: "binary count too long", in: `51234567890-["a"]`, wantErr: "too long"},
		{name: "too many attachments", in: `517-["a"]`, wantErr: "limit 16"},
		{name: "ack id too long", in: `212345678901234567["a"]`, wantErr: "too long"},
		{name: "ack id beyond 2^53", in: `29999999999999999["a"]`, wantErr: "out of range"},
		{name: "event not array", in: `2{"a":1}`, wantErr: "not an array"},
		{name: "event empty array", in: `2[]`, wantErr: "event name"},
		{name: "event name not string", in: `2[1]`, wantErr: "event name"},
		{name: "event bad json", in: `2["a",]`, wantErr: "payload"},
		{name: "event no payload", in: `2/cricket,`, wantErr: "not an array"},
		{name: "ack without id", in: `3[]`, wantErr: "no ack id"},
		{name: "connect with array", in: `0[]`, wantErr: "not an object"},
		{name: "connect with id", in: `0/a,1{}`, wantErr: "ack id"},
		{name: "connect error number", in: `41`, wantErr: "ack id"},
		{name: "connect error array", in: `4[]`, wantErr: "neither"},
		{name: "garbage payload", in: `0{x`, wantErr: "not JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodePacket([]byte(tc.in), defaultMaxAttachments)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("decodePacket(%q) = %+v, %v: want an error containing %q", tc.in, p, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodePacket(%q): %v", tc.in, err)
			}
			assertEqual(t, "type", p.typ, tc.typ)
			assertEqual(t, "attachments", p.attachments, tc.attachments)
			assertEqual(t, "namespace", p.nsp, tc.nsp)
			assertEqual(t, "id", p.id, tc.id)
			assertEqual(t, "data", string(p.data), tc.data)
			if tc.args != nil || p.args != nil {
				got := make([]string, len(p.args))
				for i, a := range p.args {
					got[i] = string(a)
				}
				assertEqual(t, "args", got, tc.args)
			}
		})
	}
}

func TestAppendPacketRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		p    packet
		want string
	}{
		{name: "connect root", p: packet{typ: packetConnect, nsp: "/", id: noID}, want: "0"},
		{name: "connect nsp", p: packet{typ: packetConnect, nsp: "/cricket", id: noID}, want: "0/cricket,"},
		{name: "connect auth", p: packet{typ: packetConnect, nsp: "/cricket", id: noID, data: json.RawMessage(`{"token":"t"}`)}, want: `0/cricket,{"token":"t"}`},
		{name: "disconnect", p: packet{typ: packetDisconnect, nsp: "/cricket", id: noID}, want: "1/cricket,"},
		{name: "event with id", p: packet{typ: packetEvent, nsp: "/", id: 12, data: json.RawMessage(`["foo"]`)}, want: `212["foo"]`},
		{name: "ack id 0", p: packet{typ: packetAck, nsp: "/admin", id: 0, data: json.RawMessage(`[]`)}, want: `3/admin,0[]`},
		{name: "binary event", p: packet{typ: packetBinaryEvent, attachments: 1, nsp: "/cricket", id: noID, data: json.RawMessage(`["u",{"_placeholder":true,"num":0}]`)},
			want: `51-/cricket,["u",{"_placeholder":true,"num":0}]`},
		{name: "binary ack", p: packet{typ: packetBinaryAck, attachments: 2, nsp: "/", id: 7, data: json.RawMessage(`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)},
			want: `62-7[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := string(appendPacket(nil, tc.p))
			assertEqual(t, "wire", got, tc.want)
			back, err := decodePacket([]byte(got), defaultMaxAttachments)
			if err != nil {
				t.Fatalf("decode %q: %v", got, err)
			}
			back.args = nil
			if back.data == nil {
				back.data = tc.p.data // nil and empty both mean none
			}
			assertEqual(t, "round trip", back, tc.p)
		})
	}
}

func TestEncodeArgs(t *testing.T) {
	type doc struct {
		Key  string `json:"key"`
		Blob []byte `json:"blob"`
	}
	cases := []struct {
		name        string
		event       string
		args        []any
		want        string
		attachments []string
		wantErr     bool
	}{
		{name: "event only", event: "ping", want: `["ping"]`},
		{name: "json args", event: "e", args: []any{1, "two", nil, map[string]int{"a": 1}}, want: `["e",1,"two",null,{"a":1}]`},
		{name: "ack no args", want: `[]`},
		{name: "ack args", args: []any{true}, want: `[true]`},
		{name: "binary", event: "e", args: []any{[]byte{1, 2}, "x", []byte(nil)},
			want: `["e",{"_placeholder":true,"num":0},"x",{"_placeholder":true,"num":1}]`, attachments: []string{"\x01\x02", ""}},
		{name: "raw message", event: "e", args: []any{json.RawMessage(`{"a":[1]}`), json.RawMessage(nil)}, want: `["e",{"a":[1]},null]`},
		{name: "arg json", event: "e", args: []any{Arg{raw: json.RawMessage(`"s"`)}, Arg{binary: []byte{9}}, Arg{}},
			want: `["e","s",{"_placeholder":true,"num":0},null]`, attachments: []string{"\x09"}},
		{name: "nested bytes are base64", event: "e", args: []any{doc{Key: "k", Blob: []byte{1}}}, want: `["e",{"key":"k","blob":"AQ=="}]`},
		{name: "event name escaped", event: `a"b`, want: `["a\"b"]`},
		{name: "invalid raw", event: "e", args: []any{json.RawMessage(`{`)}, wantErr: true},
		{name: "unmarshalable", event: "e", args: []any{make(chan int)}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, attachments, err := encodeArgs(tc.event, tc.args)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("encodeArgs = %s, want an error", data)
				}
				return
			}
			if err != nil {
				t.Fatalf("encodeArgs: %v", err)
			}
			assertEqual(t, "json", string(data), tc.want)
			got := make([]string, len(attachments))
			for i, a := range attachments {
				got[i] = string(a)
			}
			if tc.attachments == nil {
				tc.attachments = []string{}
			}
			assertEqual(t, "attachments", got, tc.attachments)
		})
	}
}

func TestDecodeArgs(t *testing.T) {
	gz := []byte{0x1f, 0x8b, 8}
	cases := []struct {
		name        string
		raw         []string
		attachments [][]byte
		want        []string // argStrings form
		wantErr     bool
	}{
		{name: "json", raw: []string{`1`, `{"a":"b"}`}, want: []string{`1`, `{"a":"b"}`}},
		{name: "placeholder", raw: []string{`{"_placeholder":true,"num":0}`}, attachments: [][]byte{gz}, want: []string{"bin:1f8b08"}},
		{name: "placeholder with spaces", raw: []string{` { "num" : 1 , "_placeholder" : true } `}, attachments: [][]byte{{0}, {1}}, want: []string{"bin:01"}},
		{name: "empty attachment", raw: []string{`{"_placeholder":true,"num":0}`}, attachments: [][]byte{{}}, want: []string{"bin:"}},
		{name: "nested placeholder to base64", raw: []string{`{"n":1.50,"blob":{"_placeholder":true,"num":0},"l":[{"_placeholder":true,"num":1}],"h":"<&>"}`},
			attachments: [][]byte{{1, 2, 3}, {0xff}}, want: []string{`{"blob":"AQID","h":"<&>","l":["/w=="],"n":1.50}`}},
		{name: "placeholder text in a string stays", raw: []string{`"_placeholder"`}, attachments: [][]byte{{1}}, want: []string{`"_placeholder"`}},
		{name: "placeholder false stays json", raw: []string{`{"_placeholder":false,"num":0}`}, attachments: [][]byte{{1}}, want: []string{`{"_placeholder":false,"num":0}`}},
		{name: "no attachments means no rewriting", raw: []string{`{"_placeholder":true,"num":0}`}, want: []string{`{"_placeholder":true,"num":0}`}},
		{name: "num out of range", raw: []string{`{"_placeholder":true,"num":1}`}, attachments: [][]byte{{1}}, wantErr: true},
		{name: "num negative", raw: []string{`{"_placeholder":true,"num":-1}`}, attachments: [][]byte{{1}}, wantErr: true},
		{name: "num missing", raw: []string{`{"_placeholder":true}`}, attachments: [][]byte{{1}}, wantErr: true},
		{name: "nested num out of range", raw: []string{`[{"_placeholder":true,"num":3}]`}, attachments: [][]byte{{1}}, wantErr: true},
		{name: "nested num fraction", raw: []string{`[{"_placeholder":true,"num":0.5}]`}, attachments: [][]byte{{1}}, wantErr: true},
		{name: "too deep", raw: []string{strings.Repeat("[", 200) + `{"_placeholder":true,"num":0}` + strings.Repeat("]", 200)}, attachments: [][]byte{{1}}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := make([]json.RawMessage, len(tc.raw))
			for i, r := range tc.raw {
				raw[i] = json.RawMessage(r)
			}
			args, err := decodeArgs(raw, tc.attachments)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("decodeArgs = %v, want an error", argStrings(args))
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeArgs: %v", err)
			}
			assertEqual(t, "args", argStrings(args), tc.want)
		})
	}
}

func TestArg(t *testing.T) {
	bin := Arg{binary: []byte{1}}
	js := Arg{raw: json.RawMessage(`{"k":"v"}`)}
	var zero Arg

	if !bin.IsBinary() || js.IsBinary() || zero.IsBinary() {
		t.Fatalf("IsBinary: bin %v, json %v, zero %v", bin.IsBinary(), js.IsBinary(), zero.IsBinary())
	}
	assertEqual(t, "bin JSON", bin.JSON(), json.RawMessage(nil))
	assertEqual(t, "zero JSON", string(zero.JSON()), "null")
	assertEqual(t, "json Bytes", js.Bytes(), []byte(nil))
	assertEqual(t, "bin String", bin.String(), "<binary 1 bytes>")
	assertEqual(t, "json String", js.String(), `{"k":"v"}`)

	var b []byte
	if err := bin.Decode(&b); err != nil || string(b) != "\x01" {
		t.Fatalf("Decode binary: %v, %v", b, err)
	}
	var s string
	if err := bin.Decode(&s); err == nil {
		t.Fatalf("Decode binary into *string: no error")
	}
	var m map[string]string
	if err := js.Decode(&m); err != nil || m["k"] != "v" {
		t.Fatalf("Decode json: %v, %v", m, err)
	}
	if err := js.Decode(&s); err == nil {
		t.Fatalf("Decode object into *string: no error")
	}
	if err := (Event{Name: "e"}).Ack(t.Context()); err == nil {
		t.Fatalf("Ack on an event without ack id: no error")
	}
}

func TestDecodeConnectError(t *testing.T) {
	cases := []struct {
		name, in, msg, data string
	}{
		{name: "v5 object", in: `{"message":"not authorized","data":{"code":"A-401-0"}}`, msg: "not authorized", data: `{"code":"A-401-0"}`},
		{name: "v5 object without data", in: `{"message":"Invalid namespace"}`, msg: "Invalid namespace"},
		{name: "v4 string", in: `"not authorized"`, msg: "not authorized"},
		{name: "object without message", in: `{"code":1}`, msg: "no message", data: `{"code":1}`},
		{name: "no payload", in: ``, msg: "no message"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var data json.RawMessage
			if tc.in != "" {
				data = json.RawMessage(tc.in)
			}
			e := decodeConnectError("/cricket", data)
			assertEqual(t, "message", e.Message, tc.msg)
			assertEqual(t, "data", string(e.Data), tc.data)
			if !strings.HasPrefix(e.Error(), "socketio: join /cricket: ") {
				t.Fatalf("Error() = %q", e.Error())
			}
		})
	}
}

// BenchmarkDecodeBinaryEvent decodes what Roanuz sends per update: a binary
// event header and its gzip attachment, into an Event's args.
func BenchmarkDecodeBinaryEvent(b *testing.B) {
	header := []byte(`451-/cricket,["on_match_update",{"_placeholder":true,"num":0}]`)
	gz := make([]byte, 8<<10)
	gz[0], gz[1] = 0x1f, 0x8b
	b.ReportAllocs()
	b.SetBytes(int64(len(header) + len(gz)))
	for b.Loop() {
		ep, err := decodeEnginePacket(header)
		if err != nil {
			b.Fatal(err)
		}
		p, err := decodePacket(ep.data, defaultMaxAttachments)
		if err != nil {
			b.Fatal(err)
		}
		var name string
		if err := json.Unmarshal(p.args[0], &name); err != nil {
			b.Fatal(err)
		}
		args, err := decodeArgs(p.args[1:], [][]byte{gz})
		if err != nil || len(args) != 1 || !args[0].IsBinary() {
			b.Fatalf("args %v, %v", args, err)
		}
	}
}
