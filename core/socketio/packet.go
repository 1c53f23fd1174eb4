package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// This file holds the wire formats: Engine.IO packets (one per WebSocket text
// frame) and the Socket.IO packets they carry. Everything here is pure: no
// I/O, no state, and every decoder returns an error instead of panicking on
// malformed input.

// enginePacketType is the leading digit of an Engine.IO text frame.
type enginePacketType byte

const (
	engineOpen    enginePacketType = 0
	engineClose   enginePacketType = 1
	enginePing    enginePacketType = 2
	enginePong    enginePacketType = 3
	engineMessage enginePacketType = 4
	engineUpgrade enginePacketType = 5
	engineNoop    enginePacketType = 6
)

// enginePacket is one decoded Engine.IO text packet.
type enginePacket struct {
	typ  enginePacketType
	data []byte // aliases the frame
}

// eio3BinaryPrefix is the packet type byte an EIO3 peer puts in front of
// every binary WebSocket frame (message = 4). EIO4 sends binary frames as is.
const eio3BinaryPrefix = 0x04

// decodeEnginePacket decodes an Engine.IO text frame: a type digit followed
// by the packet data.
func decodeEnginePacket(frame []byte) (enginePacket, error) {
	if len(frame) == 0 {
		return enginePacket{}, errors.New("empty engine.io packet")
	}
	c := frame[0]
	if c < '0' || c > '6' {
		return enginePacket{}, fmt.Errorf("engine.io packet type %q", c)
	}
	return enginePacket{typ: enginePacketType(c - '0'), data: frame[1:]}, nil
}

// Handshake is the Engine.IO open packet the server sends first.
type Handshake struct {
	// SID is the Engine.IO session id (not a namespace socket id).
	SID string
	// Upgrades lists the transports the server offers to upgrade to.
	Upgrades []string
	// PingInterval is the heartbeat period.
	PingInterval time.Duration
	// PingTimeout is how long a heartbeat may go unanswered.
	PingTimeout time.Duration
	// MaxPayload is the largest packet the server accepts, in bytes;
	// zero when the server does not announce it (EIO3 servers).
	MaxPayload int64
}

// decodeOpen decodes the JSON data of an Engine.IO open packet.
func decodeOpen(data []byte) (Handshake, error) {
	var raw struct {
		SID          *string  `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int64    `json:"pingInterval"`
		PingTimeout  int64    `json:"pingTimeout"`
		MaxPayload   int64    `json:"maxPayload"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Handshake{}, fmt.Errorf("open packet: %w", err)
	}
	if raw.SID == nil || *raw.SID == "" {
		return Handshake{}, errors.New("open packet: no sid")
	}
	const maxMillis = int64(24 * time.Hour / time.Millisecond)
	if raw.PingInterval <= 0 || raw.PingInterval > maxMillis || raw.PingTimeout <= 0 || raw.PingTimeout > maxMillis {
		return Handshake{}, fmt.Errorf("open packet: pingInterval %d ms, pingTimeout %d ms", raw.PingInterval, raw.PingTimeout)
	}
	if raw.MaxPayload < 0 {
		return Handshake{}, fmt.Errorf("open packet: maxPayload %d", raw.MaxPayload)
	}
	return Handshake{
		SID:          *raw.SID,
		Upgrades:     raw.Upgrades,
		PingInterval: time.Duration(raw.PingInterval) * time.Millisecond,
		PingTimeout:  time.Duration(raw.PingTimeout) * time.Millisecond,
		MaxPayload:   raw.MaxPayload,
	}, nil
}

// packetType is the leading digit of a Socket.IO packet.
type packetType byte

const (
	packetConnect      packetType = 0
	packetDisconnect   packetType = 1
	packetEvent        packetType = 2
	packetAck          packetType = 3
	packetConnectError packetType = 4 // ERROR in protocol v4 (EIO3)
	packetBinaryEvent  packetType = 5
	packetBinaryAck    packetType = 6
)

func (t packetType) String() string {
	switch t {
	case packetConnect:
		return "CONNECT"
	case packetDisconnect:
		return "DISCONNECT"
	case packetEvent:
		return "EVENT"
	case packetAck:
		return "ACK"
	case packetConnectError:
		return "CONNECT_ERROR"
	case packetBinaryEvent:
		return "BINARY_EVENT"
	case packetBinaryAck:
		return "BINARY_ACK"
	}
	return "packet type " + strconv.Itoa(int(t))
}

func (t packetType) binary() bool { return t == packetBinaryEvent || t == packetBinaryAck }

// noID marks a packet without an ack id.
const noID int64 = -1

// maxAckID bounds ack ids: JavaScript peers keep them as doubles.
const maxAckID = 1<<53 - 1

// packet is one Socket.IO packet: <type>[<n>-][<nsp>,][<id>][<json>].
type packet struct {
	typ         packetType
	attachments int    // binary types only
	nsp         string // "/" when absent on the wire
	id          int64  // noID when absent
	// data is the JSON payload, nil when absent. For EVENT/ACK types it is
	// an array and args holds its elements.
	data json.RawMessage
	args []json.RawMessage
}

// decodePacket decodes a Socket.IO packet (an Engine.IO message's data).
// maxAttachments bounds the announced attachment count of binary packets.
// The returned packet aliases s.
func decodePacket(s []byte, maxAttachments int) (packet, error) {
	p := packet{nsp: "/", id: noID}
	if len(s) == 0 {
		return p, errors.New("empty socket.io packet")
	}
	if s[0] < '0' || s[0] > '6' {
		return p, fmt.Errorf("socket.io packet type %q", s[0])
	}
	p.typ = packetType(s[0] - '0')
	i := 1

	if p.typ.binary() {
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start || i >= len(s) || s[i] != '-' {
			return p, fmt.Errorf("%v: no attachment count", p.typ)
		}
		if i-start > 9 {
			return p, fmt.Errorf("%v: attachment count %q too long", p.typ, s[start:i])
		}
		n, _ := strconv.Atoi(string(s[start:i])) // 1..9 digits: cannot fail
		if n > maxAttachments {
			return p, fmt.Errorf("%v: %d attachments, limit %d", p.typ, n, maxAttachments)
		}
		p.attachments = n
		i++ // '-'
	}

	if i < len(s) && s[i] == '/' {
		start := i
		for i < len(s) && s[i] != ',' {
			i++
		}
		p.nsp = string(s[start:i])
		if i < len(s) {
			i++ // ','
		}
	}

	if i < len(s) && isDigit(s[i]) {
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i-start > 16 {
			return p, fmt.Errorf("%v: ack id %q too long", p.typ, s[start:i])
		}
		id, _ := strconv.ParseInt(string(s[start:i]), 10, 64) // ≤16 digits: fits
		if id > maxAckID {
			return p, fmt.Errorf("%v: ack id %d out of range", p.typ, id)
		}
		p.id = id
	}

	if rest := s[i:]; len(bytes.TrimSpace(rest)) > 0 {
		p.data = rest
	}
	if err := p.validate(); err != nil {
		return p, err
	}
	return p, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// validate checks the payload shape for the packet type, and splits the
// array payload of events and acks into args.
func (p *packet) validate() error {
	if p.data != nil && !json.Valid(p.data) && !(p.typ == packetEvent || p.typ == packetBinaryEvent || p.typ == packetAck || p.typ == packetBinaryAck) {
		return fmt.Errorf("%v %s: payload is not JSON", p.typ, p.nsp)
	}
	switch p.typ {
	case packetConnect:
		if p.id != noID {
			return fmt.Errorf("%v %s: unexpected ack id", p.typ, p.nsp)
		}
		if p.data != nil && jsonKind(p.data) != '{' {
			return fmt.Errorf("%v %s: payload is not an object", p.typ, p.nsp)
		}
	case packetDisconnect:
		if p.id != noID {
			return fmt.Errorf("%v %s: unexpected ack id", p.typ, p.nsp)
		}
	case packetConnectError:
		if p.id != noID {
			return fmt.Errorf("%v %s: unexpected ack id", p.typ, p.nsp)
		}
		if k := jsonKind(p.data); p.data != nil && k != '{' && k != '"' {
			return fmt.Errorf("%v %s: payload is neither an object nor a string", p.typ, p.nsp)
		}
	case packetEvent, packetBinaryEvent, packetAck, packetBinaryAck:
		if p.data == nil || jsonKind(p.data) != '[' {
			return fmt.Errorf("%v %s: payload is not an array", p.typ, p.nsp)
		}
		if err := json.Unmarshal(p.data, &p.args); err != nil {
			return fmt.Errorf("%v %s: payload: %w", p.typ, p.nsp, err)
		}
		if p.typ == packetEvent || p.typ == packetBinaryEvent {
			if len(p.args) == 0 || jsonKind(p.args[0]) != '"' {
				return fmt.Errorf("%v %s: payload does not start with an event name", p.typ, p.nsp)
			}
		} else if p.id == noID {
			return fmt.Errorf("%v %s: no ack id", p.typ, p.nsp)
		}
	}
	return nil
}

// jsonKind returns the first non-space byte of a JSON text, or 0.
func jsonKind(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

// appendPacket appends the wire form of p to dst. For events and acks the
// payload is p.data, which the caller has built (see encodeArgs).
func appendPacket(dst []byte, p packet) []byte {
	dst = append(dst, '0'+byte(p.typ))
	if p.typ.binary() {
		dst = strconv.AppendInt(dst, int64(p.attachments), 10)
		dst = append(dst, '-')
	}
	if p.nsp != "" && p.nsp != "/" {
		dst = append(dst, p.nsp...)
		dst = append(dst, ',')
	}
	if p.id != noID {
		dst = strconv.AppendInt(dst, p.id, 10)
	}
	return append(dst, p.data...)
}

// placeholder is the JSON object that stands for a binary attachment.
type placeholder struct {
	Placeholder bool `json:"_placeholder"`
	Num         *int `json:"num"`
}

// placeholderKey is how a placeholder object starts to be recognised cheaply.
var placeholderKey = []byte(`"_placeholder"`)

// encodeArgs builds the JSON array payload of an event or ack: name first
// when non-empty, then args. Top-level []byte args become attachments
// replaced by placeholders; an Arg is re-sent as it was received.
func encodeArgs(name string, args []any) (json.RawMessage, [][]byte, error) {
	var attachments [][]byte
	buf := make([]byte, 0, 64)
	buf = append(buf, '[')
	if name != "" {
		b, err := json.Marshal(name)
		if err != nil {
			return nil, nil, err
		}
		buf = append(buf, b...)
	}
	for i, a := range args {
		if i > 0 || name != "" {
			buf = append(buf, ',')
		}
		if arg, ok := a.(Arg); ok {
			if arg.binary != nil {
				a = arg.binary
			} else {
				a = arg.raw
			}
		}
		switch v := a.(type) {
		case []byte:
			if v == nil {
				v = []byte{}
			}
			buf = append(buf, `{"_placeholder":true,"num":`...)
			buf = strconv.AppendInt(buf, int64(len(attachments)), 10)
			buf = append(buf, '}')
			attachments = append(attachments, v)
		case json.RawMessage:
			if len(v) == 0 {
				buf = append(buf, "null"...)
				continue
			}
			if !json.Valid(v) {
				return nil, nil, fmt.Errorf("arg %d: invalid json.RawMessage", i)
			}
			buf = append(buf, v...)
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return nil, nil, fmt.Errorf("arg %d: %w", i, err)
			}
			buf = append(buf, b...)
		}
	}
	buf = append(buf, ']')
	return buf, attachments, nil
}

// decodeArgs turns raw JSON args and the packet's attachments into Args.
// A top-level placeholder becomes a binary Arg; a nested placeholder is
// replaced by the attachment as a base64 JSON string (what encoding/json
// decodes into a []byte field).
func decodeArgs(raw []json.RawMessage, attachments [][]byte) ([]Arg, error) {
	args := make([]Arg, len(raw))
	for i, r := range raw {
		args[i] = Arg{raw: r}
		if len(attachments) == 0 || !bytes.Contains(r, placeholderKey) {
			continue
		}
		if jsonKind(r) == '{' {
			ph, ok := canonicalPlaceholder(r)
			if !ok {
				_ = json.Unmarshal(r, &ph) // not an object of that shape: not a placeholder
			}
			if ph.Placeholder {
				b, err := attachment(ph, attachments)
				if err != nil {
					return nil, fmt.Errorf("arg %d: %w", i, err)
				}
				args[i] = Arg{binary: b}
				continue
			}
		}
		resolved, err := resolveNested(r, attachments)
		if err != nil {
			return nil, fmt.Errorf("arg %d: %w", i, err)
		}
		args[i] = Arg{raw: resolved}
	}
	return args, nil
}

// canonicalPlaceholder recognises, without reflection, the exact form both
// official parsers write: {"_placeholder":true,"num":N}.
func canonicalPlaceholder(r []byte) (placeholder, bool) {
	const prefix = `{"_placeholder":true,"num":`
	r = bytes.TrimSpace(r)
	if !bytes.HasPrefix(r, []byte(prefix)) || len(r) < len(prefix)+2 || r[len(r)-1] != '}' {
		return placeholder{}, false
	}
	digits := r[len(prefix) : len(r)-1]
	if len(digits) == 0 || len(digits) > 9 || (len(digits) > 1 && digits[0] == '0') {
		return placeholder{}, false
	}
	n := 0
	for _, c := range digits {
		if !isDigit(c) {
			return placeholder{}, false
		}
		n = n*10 + int(c-'0')
	}
	return placeholder{Placeholder: true, Num: &n}, true
}

func attachment(ph placeholder, attachments [][]byte) ([]byte, error) {
	if ph.Num == nil || *ph.Num < 0 || *ph.Num >= len(attachments) {
		n := "none"
		if ph.Num != nil {
			n = strconv.Itoa(*ph.Num)
		}
		return nil, fmt.Errorf("placeholder num %s of %d attachments", n, len(attachments))
	}
	return attachments[*ph.Num], nil
}

// resolveNested rewrites nested placeholders as base64 strings.
func resolveNested(r json.RawMessage, attachments [][]byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(r))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	v, err := replacePlaceholders(v, attachments, 0)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(out.Bytes(), "\n"), nil
}

// maxDepth bounds recursion into nested JSON.
const maxDepth = 128

func replacePlaceholders(v any, attachments [][]byte, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("json nested too deeply")
	}
	switch t := v.(type) {
	case map[string]any:
		if ph, ok := t["_placeholder"].(bool); ok && ph {
			p := placeholder{Placeholder: true}
			if n, ok := t["num"].(json.Number); ok {
				if i, err := n.Int64(); err == nil && i >= 0 && i < int64(len(attachments)) {
					k := int(i)
					p.Num = &k
				}
			}
			return attachment(p, attachments)
		}
		for k, e := range t {
			r, err := replacePlaceholders(e, attachments, depth+1)
			if err != nil {
				return nil, err
			}
			t[k] = r
		}
	case []any:
		for i, e := range t {
			r, err := replacePlaceholders(e, attachments, depth+1)
			if err != nil {
				return nil, err
			}
			t[i] = r
		}
	}
	return v, nil
}
