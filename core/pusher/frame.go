package pusher

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Frame is one protocol message, as sent on the wire in either direction.
type Frame struct {
	Event   string `json:"event"`
	Channel string `json:"channel,omitempty"`
	// Data is the data member as received: servers send it as a JSON
	// string holding JSON (double-encoded), clients send an object.
	Data json.RawMessage `json:"data,omitempty"`
	// UserID is set by the server on client events in presence channels.
	UserID string `json:"user_id,omitempty"`
}

// Event is a channel event handed to a Client's handler.
type Event struct {
	Event   string
	Channel string
	// Data is the event's payload with one level of string encoding
	// removed when the string holds JSON, as pusher-js does: a server
	// sending "data":"[{\"eventID\":\"x\"}]" gives [{"eventID":"x"}]. Data
	// that is a string not holding JSON stays a JSON string literal. Nil
	// when the frame had no data.
	Data   json.RawMessage
	UserID string
}

// ErrFrame reports a message that is not a protocol frame.
var ErrFrame = errors.New("pusher: malformed frame")

// maxDataDepth bounds the nesting accepted in a frame (stack safety).
const maxDataDepth = 64

// ParseFrame decodes one message. It fails with ErrFrame for anything that
// is not a JSON object with a non-empty string "event".
func ParseFrame(b []byte) (Frame, error) {
	var f Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return Frame{}, fmt.Errorf("%w: %v", ErrFrame, err)
	}
	if f.Event == "" {
		return Frame{}, fmt.Errorf("%w: no event name", ErrFrame)
	}
	if depth(b) > maxDataDepth {
		return Frame{}, fmt.Errorf("%w: nested deeper than %d", ErrFrame, maxDataDepth)
	}
	if bytes.Equal(f.Data, []byte("null")) {
		f.Data = nil
	}
	return f, nil
}

// depth is the deepest nesting of objects and arrays in a valid JSON text.
func depth(b []byte) int {
	d, max, inStr, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case inStr:
			switch c {
			case '\\':
				esc = true
			case '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			if d++; d > max {
				max = d
			}
		case c == '}' || c == ']':
			d--
		}
	}
	return max
}

// Decoded returns f's data with string encoding removed (see Event.Data).
func (f Frame) Decoded() json.RawMessage {
	return decodeData(f.Data)
}

func decodeData(d json.RawMessage) json.RawMessage {
	if len(d) == 0 || d[0] != '"' {
		return d
	}
	var s string
	if err := json.Unmarshal(d, &s); err != nil {
		return d
	}
	if inner := bytes.TrimSpace([]byte(s)); json.Valid(inner) && depth(inner) <= maxDataDepth {
		return inner
	}
	return d
}

// encodeFrame marshals a frame whose data is v (already JSON when it is a
// json.RawMessage).
func encodeFrame(event, channel string, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("pusher: encode %s: %w", event, err)
	}
	return json.Marshal(Frame{Event: event, Channel: channel, Data: data})
}

// encodeServerFrame marshals a frame the way servers send it: data as a
// JSON string holding the JSON of v.
func encodeServerFrame(event, channel string, v any) ([]byte, error) {
	inner, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("pusher: encode %s: %w", event, err)
	}
	str, err := json.Marshal(string(inner))
	if err != nil {
		return nil, fmt.Errorf("pusher: encode %s: %w", event, err)
	}
	return json.Marshal(Frame{Event: event, Channel: channel, Data: str})
}

// ErrorData is the data of a pusher:error frame.
type ErrorData struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
}

// parseErrorData reads pusher:error data in either encoding; a missing or
// null code is 0.
func parseErrorData(d json.RawMessage) ErrorData {
	var e struct {
		Message string          `json:"message"`
		Code    json.RawMessage `json:"code"`
	}
	if json.Unmarshal(decodeData(d), &e) != nil {
		return ErrorData{Message: string(d)}
	}
	out := ErrorData{Message: e.Message}
	if n, err := strconv.Atoi(string(e.Code)); err == nil {
		out.Code = n
	}
	return out
}
