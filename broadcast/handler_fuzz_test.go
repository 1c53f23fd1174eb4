package broadcast

import (
	"encoding/json"
	"testing"

	"github.com/coder/websocket"
)

func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		`{"action":"subscribe","match":"1298179"}`,
		`{"action":"subscribe","match":"1298179","since":412}`,
		`{"action":"unsubscribe","match":"m"}`,
		`{"action":"subscribe","match":"m","since":-1}`,
		`{"action":"subscribe","match":"m","since":4,"epoch":"feed:1763900000"}`,
		`{"action":"subscribe","match":"m","since":4,"epoch":"a b"}`,
		`{"action":"subscribe","match":"m","mode":"latest"}`,
		`{"action":"subscribe","match":"m","mode":"sometimes"}`,
		`{"action":"dance"}`,
		`{"action":`,
		`[]`,
		`null`,
		"",
	} {
		f.Add(true, []byte(s))
	}
	f.Add(false, []byte(`{"action":"subscribe","match":"m"}`))
	f.Fuzz(func(t *testing.T, text bool, data []byte) {
		typ := websocket.MessageBinary
		if text {
			typ = websocket.MessageText
		}
		cmd, refusal := parseRequest(typ, data)
		if refusal != nil {
			var e ErrorFrame
			if err := json.Unmarshal(refusal, &e); err != nil || e.Op != OpError || e.Code == "" || e.Message == "" {
				t.Fatalf("refusal %s: got %+v (err %v), want an error frame with code and message", refusal, e, err)
			}
			return
		}
		if cmd.op != cmdSubscribe && cmd.op != cmdUnsubscribe {
			t.Fatalf("got op %d, want subscribe or unsubscribe", cmd.op)
		}
		if cmd.match == "" || len(cmd.match) > MaxMatchID {
			t.Fatalf("got match of %d bytes, want 1 to %d", len(cmd.match), MaxMatchID)
		}
		if (cmd.hasSince || cmd.epoch != "" || cmd.latest) && cmd.op != cmdSubscribe {
			t.Fatalf("got since, epoch or mode on op %d, want them on subscribe only", cmd.op)
		}
		if cmd.epoch != "" && !validEpoch(cmd.epoch) {
			t.Fatalf("got epoch %q, want a valid one or none", cmd.epoch)
		}
	})
}
