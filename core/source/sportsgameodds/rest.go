package sportsgameodds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/ballcast/ballcast/internal/secret"
)

// ErrRejected is returned for HTTP 401 and 403: a wrong key, or a plan
// without streaming (SportsGameOdds streams on AllStar and custom plans
// only). It is a configuration error and never retried.
var ErrRejected = errors.New("sportsgameodds: api key rejected")

// StatusError is another non-200 answer.
type StatusError struct {
	Op     string
	Status int
	Msg    string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("sportsgameodds: %s: HTTP %d: %s", e.Op, e.Status, e.Msg)
}

type rest struct {
	base     string
	key      string
	client   *http.Client
	maxBytes int64
}

// get fetches base+path?q into v.
func (r *rest) get(ctx context.Context, op, path string, q url.Values, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return fmt.Errorf("sportsgameodds: %s: %w", op, err)
	}
	req.Header.Set("x-api-key", r.key)
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("sportsgameodds: %s: %w", op, secret.Redact(err, r.key))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.maxBytes+1))
	if err != nil {
		return fmt.Errorf("sportsgameodds: %s: %w", op, err)
	}
	if int64(len(body)) > r.maxBytes {
		return fmt.Errorf("sportsgameodds: %s: response over %d bytes", op, r.maxBytes)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(body))
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return fmt.Errorf("%w: %s: HTTP %d: %s", ErrRejected, op, resp.StatusCode, msg)
		}
		return &StatusError{Op: op, Status: resp.StatusCode, Msg: msg}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("sportsgameodds: %s: decode: %w", op, err)
	}
	return nil
}

// stream asks for the feed's snapshot and Pusher connection details.
func (r *rest) stream(ctx context.Context, c Config) (*StreamInfo, error) {
	q := url.Values{"feed": {c.Feed}}
	switch c.Feed {
	case FeedUpcoming:
		q.Set("leagueID", c.LeagueID)
	case FeedByID:
		q.Set("eventID", c.EventID)
	}
	var si StreamInfo
	if err := r.get(ctx, "stream "+c.Feed, "/stream/events", q, &si); err != nil {
		return nil, err
	}
	if si.PusherKey == "" || si.Channel == "" {
		return nil, fmt.Errorf("sportsgameodds: stream %s: answer has no pusherKey or channel", c.Feed)
	}
	return &si, nil
}

// fetchBatch is how many eventIDs one /events request names.
const fetchBatch = 25

// events fetches the full objects of ids, following nextCursor.
func (r *rest) events(ctx context.Context, ids []string) ([]Event, error) {
	var out []Event
	for len(ids) > 0 {
		n := min(len(ids), fetchBatch)
		q := url.Values{"eventIDs": {strings.Join(ids[:n], ",")}}
		ids = ids[n:]
		for pages := 0; ; pages++ {
			var p EventsPage
			if err := r.get(ctx, "events", "/events", q, &p); err != nil {
				return nil, err
			}
			out = append(out, p.Data...)
			if p.NextCursor == "" || pages > 100 {
				break
			}
			q.Set("cursor", p.NextCursor)
		}
	}
	return out, nil
}
