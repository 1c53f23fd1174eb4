package pusher

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Sign returns the auth string a server expects in pusher:subscribe for a
// private or presence channel: "<key>:<hex HMAC-SHA256(secret,
// socketID:channel[:channelData])>". Only servers and their auth endpoints
// hold the secret; a client gets the string from its auth endpoint.
func Sign(key, secret, socketID, channel, channelData string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(socketID + ":" + channel))
	if channelData != "" {
		m.Write([]byte(":" + channelData))
	}
	return key + ":" + hex.EncodeToString(m.Sum(nil))
}

// Authorization is an auth endpoint's answer.
type Authorization struct {
	Auth        string `json:"auth"`
	ChannelData string `json:"channel_data,omitempty"`
}

// needsAuth reports whether channel must be authorised before subscribing.
func needsAuth(channel string) bool {
	return strings.HasPrefix(channel, "private-") || strings.HasPrefix(channel, "presence-")
}

// authorize asks the auth endpoint for channel's signature, the way
// pusher-js does by default: a form-encoded POST of socket_id and
// channel_name (plus AuthParams) with AuthHeaders.
func (c *Client) authorize(ctx context.Context, socketID, channel string) (Authorization, error) {
	if c.opts.AuthEndpoint == "" {
		return Authorization{}, fmt.Errorf("pusher: authorize %s: no auth endpoint configured", channel)
	}
	form := url.Values{}
	for k, v := range c.opts.AuthParams {
		form.Set(k, v)
	}
	form.Set("socket_id", socketID)
	form.Set("channel_name", channel)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.opts.AuthEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Authorization{}, fmt.Errorf("pusher: authorize %s: %w", channel, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	for k, v := range c.opts.AuthHeaders {
		req.Header.Set(k, v)
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return Authorization{}, fmt.Errorf("pusher: authorize %s: %w", channel, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Authorization{}, fmt.Errorf("pusher: authorize %s: %w", channel, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Authorization{}, &AuthError{Channel: channel, Status: resp.StatusCode, Body: truncate(string(body), 200)}
	}
	var a Authorization
	if err := json.Unmarshal(body, &a); err != nil || a.Auth == "" {
		return Authorization{}, fmt.Errorf("pusher: authorize %s: answer has no auth string: %q", channel, truncate(string(body), 200))
	}
	return a, nil
}

// AuthError is a non-200 answer from the auth endpoint.
type AuthError struct {
	Channel string
	Status  int
	Body    string
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("pusher: authorize %s: auth endpoint answered HTTP %d: %s", e.Channel, e.Status, e.Body)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
