package roanuz

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// StatusError is an unexpected HTTP status from a Roanuz REST endpoint.
type StatusError struct {
	// Op names the call and its subject: "auth", "subscribe {match key}",
	// "unsubscribe {match key}", "match {match key}", "ball-by-ball {match key} {over key}".
	Op string
	// Code is the HTTP status code.
	Code int
	// Body is the start of the response body, for the operator.
	Body string
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("roanuz: %s: http %d: %s", e.Op, e.Code, e.Body)
}

func bodyExcerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// rest calls the Roanuz Cricket v5 REST API with the rs-token header; a 401
// refreshes the token and retries once. Safe for concurrent use.
type rest struct {
	base     string // {api_url}/v5/cricket/{project_key}/
	client   *http.Client
	auth     *auth
	maxBytes int64
}

// call performs one authenticated request and returns the body of a 2xx
// response.
func (r *rest) call(ctx context.Context, op, method, path string, body any) ([]byte, error) {
	tok, err := r.auth.Token(ctx)
	if err != nil {
		return nil, err
	}
	data, code, err := r.do(ctx, method, path, body, tok)
	if err == nil && code == http.StatusUnauthorized {
		if tok, err = r.auth.Refresh(ctx, tok); err != nil {
			return nil, err
		}
		data, code, err = r.do(ctx, method, path, body, tok)
	}
	if err != nil {
		return nil, fmt.Errorf("roanuz: %s: %w", op, err)
	}
	if code/100 != 2 {
		return nil, &StatusError{Op: op, Code: code, Body: bodyExcerpt(data)}
	}
	return data, nil
}

func (r *rest) do(ctx context.Context, method, path string, body any, tok string) ([]byte, int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("rs-token", tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, r.maxBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("read response: %w", err)
	}
	if int64(len(data)) > r.maxBytes {
		return nil, 0, fmt.Errorf("%w: response over %d bytes", ErrTooLarge, r.maxBytes)
	}
	return data, resp.StatusCode, nil
}

var webSocketMethod = map[string]string{"method": "web_socket"}

// subscribe registers matchKey for push over the web socket. Subscribing
// twice is free and does not duplicate updates (RZ-WS).
func (r *rest) subscribe(ctx context.Context, matchKey string) error {
	_, err := r.call(ctx, "subscribe "+matchKey, http.MethodPost, "match/"+matchKey+"/subscribe/", webSocketMethod)
	return err
}

// unsubscribe ends push for matchKey.
func (r *rest) unsubscribe(ctx context.Context, matchKey string) error {
	_, err := r.call(ctx, "unsubscribe "+matchKey, http.MethodPost, "match/"+matchKey+"/unsubscribe/", webSocketMethod)
	return err
}

// match fetches the full match document.
func (r *rest) match(ctx context.Context, matchKey string) (*Envelope, error) {
	data, err := r.call(ctx, "match "+matchKey, http.MethodGet, "match/"+matchKey+"/", nil)
	if err != nil {
		return nil, err
	}
	env, err := DecodeUpdate(data, r.maxBytes)
	if err != nil {
		return nil, fmt.Errorf("roanuz: match %s: %w", matchKey, err)
	}
	return env, nil
}

// FetchOver implements Backfiller with the ball-by-ball endpoint.
func (r *rest) FetchOver(ctx context.Context, matchKey, overKey string) (*BallByBall, error) {
	data, err := r.call(ctx, "ball-by-ball "+matchKey+" "+overKey, http.MethodGet, "match/"+matchKey+"/ball-by-ball/"+overKey+"/", nil)
	if err != nil {
		return nil, err
	}
	return DecodeBallByBall(data)
}

var _ Backfiller = (*rest)(nil)
