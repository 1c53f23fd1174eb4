package socketio

import (
	"strings"
	"testing"
)

// FuzzDecodeEnginePacket feeds arbitrary frames through the read path's
// pure decoders: none may panic, and a decoded open packet is sane.
func FuzzDecodeEnginePacket(f *testing.F) {
	for _, s := range []string{
		`0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
		`0{"sid":"a","pingInterval":1,"pingTimeout":1}`, "1", "2", "2probe", "3", `42["a"]`, "5", "6", "", "9", "\x04\x1f\x8b",
		"HTTP/1.1 400 Bad Request\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		p, err := decodeEnginePacket(frame)
		if err != nil {
			return
		}
		if p.typ > engineNoop {
			t.Fatalf("type %d decoded", p.typ)
		}
		if p.typ == engineOpen {
			hs, err := decodeOpen(p.data)
			if err == nil && (hs.SID == "" || hs.PingInterval <= 0 || hs.PingTimeout <= 0 || hs.MaxPayload < 0) {
				t.Fatalf("open %q decoded to %+v", p.data, hs)
			}
		}
		if p.typ == engineMessage {
			_, _ = decodePacket(p.data, defaultMaxAttachments)
		}
	})
}

// FuzzDecodePacket checks that decoding never panics, that a decoded packet
// re-encodes to something that decodes the same, and that resolving
// attachments never panics either.
func FuzzDecodePacket(f *testing.F) {
	for _, s := range []string{
		"0", "0/cricket,", `0/cricket,{"sid":"x"}`, "1/cricket,", `2/cricket,["on_match_joined",{"key":"m"}]`,
		`212["foo"]`, `3/admin,13["bar"]`, `4/cricket,{"message":"no","data":{}}`, `4/cricket,"no"`,
		`51-/cricket,["on_match_update",{"_placeholder":true,"num":0}]`, `61-/admin,1[{"_placeholder":true,"num":0}]`,
		`52-["a",{"x":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":0}]`,
		`5999999999-[]`, `2["a",` + strings.Repeat("[", 300), "", "7",
	} {
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, s []byte, nAttachments uint8) {
		p, err := decodePacket(s, defaultMaxAttachments)
		if err != nil {
			return
		}
		if p.attachments < 0 || p.attachments > defaultMaxAttachments || p.nsp == "" || p.id < noID || p.id > maxAckID {
			t.Fatalf("decodePacket(%q) = %+v", s, p)
		}
		wire := appendPacket(nil, p)
		q, err := decodePacket(wire, defaultMaxAttachments)
		if err != nil {
			t.Fatalf("re-encoded %q as %q: %v", s, wire, err)
		}
		if q.typ != p.typ || q.attachments != p.attachments || q.id != p.id || q.nsp != p.nsp || len(q.args) != len(p.args) {
			t.Fatalf("round trip %q → %q: %+v != %+v", s, wire, q, p)
		}
		if len(p.args) > 0 {
			attachments := make([][]byte, int(nAttachments)%(defaultMaxAttachments+1))
			for i := range attachments {
				attachments[i] = []byte{byte(i)}
			}
			_, _ = decodeArgs(p.args, attachments)
		}
	})
}
