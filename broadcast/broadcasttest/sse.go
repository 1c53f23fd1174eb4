package broadcasttest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ballcast/ballcast/broadcast"
)

// Message is one Server-Sent Events message, or a comment line.
type Message struct {
	ID      string // the id field; empty when absent
	Event   string // the event field
	Data    string // the data field (lines joined with "\n")
	Retry   string // the retry field, as sent
	Comment string // set, without the leading ':', for a comment line
	Frame   Frame  // Data decoded, when Data is set
}

// SSE is one Server-Sent Events connection. Its methods must be called
// from one goroutine.
type SSE struct {
	t      testing.TB
	Resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
	msgs   chan sseResult
}

type sseResult struct {
	m   Message
	err error
}

// DialSSE opens url (http:// or https://, e.g. srv.URL+"/v1/sse/matches/m1")
// with the given extra headers (e.g. Last-Event-ID) and client (nil for
// http.DefaultClient), and closes it at cleanup. It fails the test unless
// the answer is 200 text/event-stream; see DoSSE to check other answers.
func DialSSE(t testing.TB, client *http.Client, url string, header http.Header) *SSE {
	t.Helper()
	s, err := DoSSE(t, client, url, header)
	if err != nil {
		t.Fatalf("broadcasttest: %v", err)
	}
	if s.Resp.StatusCode != http.StatusOK || s.Resp.Header.Get("Content-Type") != "text/event-stream" {
		body, _ := io.ReadAll(io.LimitReader(s.Resp.Body, 1<<10))
		t.Fatalf("broadcasttest: GET %s: got %d %q (%s), want 200 text/event-stream", url, s.Resp.StatusCode, s.Resp.Header.Get("Content-Type"), body)
	}
	return s
}

// DoSSE is DialSSE returning the response whatever its status; an error
// only when the request fails.
func DoSSE(t testing.TB, client *http.Client, url string, header http.Header) (*SSE, error) {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	s := &SSE{t: t, Resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel}
	t.Cleanup(s.Close)
	return s, nil
}

// Close ends the request.
func (s *SSE) Close() {
	s.cancel()
	_ = s.Resp.Body.Close()
}

// ReadMessage returns the next message or comment, or an error (io.EOF
// when the server ended the response). A read is abandoned, and the
// connection closed, when ctx (or, without a deadline, DefaultTimeout)
// expires.
func (s *SSE) ReadMessage(ctx context.Context) (Message, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	if s.msgs == nil {
		s.msgs = make(chan sseResult)
		go s.readLoop()
	}
	select {
	case r := <-s.msgs:
		return r.m, r.err
	case <-ctx.Done():
		s.Close()
		return Message{}, ctx.Err()
	}
}

// readLoop parses the stream into msgs until it ends.
func (s *SSE) readLoop() {
	send := func(m Message, err error) bool {
		select {
		case s.msgs <- sseResult{m, err}:
			return true
		case <-s.t.Context().Done():
			return false
		}
	}
	var m Message
	var data []string
	dataSet := false
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF
			}
			send(Message{}, err)
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if !dataSet && m.ID == "" && m.Event == "" && m.Retry == "" {
				continue
			}
			if dataSet {
				m.Data = strings.Join(data, "\n")
				if err := json.Unmarshal([]byte(m.Data), &m.Frame); err != nil {
					send(m, fmt.Errorf("decode data %q: %w", m.Data, err))
					return
				}
				m.Frame.Raw = []byte(m.Data)
			}
			if !send(m, nil) {
				return
			}
			m, data, dataSet = Message{}, nil, false
		case strings.HasPrefix(line, ":"):
			if !send(Message{Comment: strings.TrimPrefix(strings.TrimPrefix(line, ":"), " ")}, nil) {
				return
			}
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				m.ID = value
			case "event":
				m.Event = value
			case "data":
				data, dataSet = append(data, value), true
			case "retry":
				m.Retry = value
			}
		}
	}
}

// Next returns the next message that carries a frame, skipping comments
// and retry-only messages, and fails the test on error.
func (s *SSE) Next(ctx context.Context) Message {
	s.t.Helper()
	for {
		m, err := s.ReadMessage(ctx)
		if err != nil {
			s.t.Fatalf("broadcasttest: next SSE message: %v", err)
		}
		if m.Data != "" {
			return m
		}
	}
}

// NextOp is Next failing the test unless the message's event and frame op
// are op and its id is "<epoch>:<seq>" of the frame (for resumed, of since).
func (s *SSE) NextOp(ctx context.Context, op string) Message {
	s.t.Helper()
	m := s.Next(ctx)
	if m.Event != op || m.Frame.Op != op {
		s.t.Fatalf("broadcasttest: got SSE event %q op %q (%s), want %q", m.Event, m.Frame.Op, truncate(m.Frame.Raw), op)
	}
	seq := m.Frame.Seq
	if op == broadcast.OpResumed {
		seq = m.Frame.Since
	}
	if want := fmt.Sprintf("%s:%d", m.Frame.Epoch, seq); m.ID != want {
		s.t.Fatalf("broadcasttest: got SSE id %q, want %q", m.ID, want)
	}
	return m
}

// NextEvents reads the events of match with seq from..to (inclusive), as
// Client.NextEvents does.
func (s *SSE) NextEvents(ctx context.Context, match string, from, to uint64) []Message {
	s.t.Helper()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	out := make([]Message, 0, to-from+1)
	for want := from; want <= to; want++ {
		m := s.NextOp(ctx, broadcast.OpEvent)
		if m.Frame.Match != match || m.Frame.Seq != want {
			s.t.Fatalf("broadcasttest: got SSE event match=%s seq=%d, want %s %d", m.Frame.Match, m.Frame.Seq, match, want)
		}
		out = append(out, m)
	}
	return out
}

// NextReset reads a reset and the snapshot after it, as Client.NextReset.
func (s *SSE) NextReset(ctx context.Context, match, reason string) Message {
	s.t.Helper()
	r := s.NextOp(ctx, broadcast.OpReset)
	m := s.NextOp(ctx, broadcast.OpSnapshot)
	checkReset(s.t, r.Frame, m.Frame, match, reason)
	return m
}
