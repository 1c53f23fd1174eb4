package roanuz

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ErrAuthRejected is wrapped by the error Run returns when the auth endpoint
// refuses the project key or API key (HTTP 400, 401 or 403). It is a
// configuration error: Run does not retry it.
var ErrAuthRejected = errors.New("roanuz: auth rejected")

// Token lifetime rules. Roanuz does not document how long a token lives;
// the response's expires says when it ends.
const (
	// refreshEarly is the most a token is refreshed ahead of its expiry.
	refreshEarly = 5 * time.Minute
	// defaultTokenLifetime is assumed when a response has no usable
	// expires (OBS-SOCK2 falls back to 20 minutes too).
	defaultTokenLifetime = 20 * time.Minute
	// minRefreshDelay keeps a token with a tiny or past expiry from being
	// refreshed in a tight loop.
	minRefreshDelay = 10 * time.Millisecond
)

// auth holds the current rs-token and fetches a new one when it is due or
// rejected. Token and Refresh are safe for concurrent use; concurrent
// callers share one request (the fetching caller does the I/O outside the
// lock, the others wait for it).
type auth struct {
	url    string // POST {api_url}/v5/core/{project_key}/auth/
	apiKey string
	client *http.Client
	now    func() time.Time

	// changed receives a value (never blocking) whenever the token changes.
	changed chan struct{}

	// refreshes counts tokens obtained after the first.
	refreshes atomic.Uint64

	mu        sync.Mutex // no I/O under it
	token     string
	refreshAt time.Time
	inflight  chan struct{} // closed when the running fetch ends
	lastErr   error
}

func newAuth(apiURL, project, apiKey string, client *http.Client) *auth {
	return &auth{
		url:     apiURL + "/v5/core/" + project + "/auth/",
		apiKey:  apiKey,
		client:  client,
		now:     time.Now,
		changed: make(chan struct{}, 1),
	}
}

// Token returns a token that is not yet due for refresh, fetching one if
// needed.
func (a *auth) Token(ctx context.Context) (string, error) { return a.get(ctx, "") }

// Refresh returns a token other than stale (a token the server rejected),
// fetching one unless another caller already did.
func (a *auth) Refresh(ctx context.Context, stale string) (string, error) { return a.get(ctx, stale) }

// current returns the token held now, possibly empty or due.
func (a *auth) current() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.token
}

// due returns when the current token should be refreshed (zero: no token).
func (a *auth) due() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refreshAt
}

func (a *auth) usable(stale string) bool {
	return a.token != "" && a.token != stale && a.now().Before(a.refreshAt)
}

func (a *auth) get(ctx context.Context, stale string) (string, error) {
	a.mu.Lock()
	if a.usable(stale) {
		t := a.token
		a.mu.Unlock()
		return t, nil
	}
	if ch := a.inflight; ch != nil {
		a.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return "", fmt.Errorf("roanuz: auth: %w", ctx.Err())
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.token == "" || a.token == stale {
			if a.lastErr != nil {
				return "", a.lastErr
			}
			return "", errors.New("roanuz: auth: no token")
		}
		return a.token, nil
	}
	ch := make(chan struct{})
	a.inflight = ch
	a.mu.Unlock()

	tok, exp, err := a.request(ctx)

	a.mu.Lock()
	defer a.mu.Unlock()
	a.inflight = nil
	a.lastErr = err
	close(ch)
	if err != nil {
		return "", err
	}
	if a.token != "" {
		a.refreshes.Add(1)
	}
	a.token = tok
	a.refreshAt = refreshTime(a.now(), exp)
	select {
	case a.changed <- struct{}{}:
	default:
	}
	return tok, nil
}

// refreshTime is when a token expiring at exp (zero: unknown) should be
// replaced: 10% of its lifetime early, but at most 5 minutes early.
func refreshTime(now, exp time.Time) time.Time {
	life := exp.Sub(now)
	if exp.IsZero() || life <= 0 {
		life = defaultTokenLifetime
	}
	early := min(refreshEarly, life/10)
	return now.Add(max(life-early, minRefreshDelay))
}

// request performs the auth call.
func (a *auth) request(ctx context.Context) (string, time.Time, error) {
	body, _ := json.Marshal(map[string]string{"api_key": a.apiKey})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("roanuz: auth: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("roanuz: auth: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("roanuz: auth: read response: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		// The body may echo the request; it never holds the API key we
		// would log, but keep only a short excerpt anyway.
		return "", time.Time{}, fmt.Errorf("%w: http %d (check project_key and the API key): %s",
			ErrAuthRejected, resp.StatusCode, bodyExcerpt(data))
	case resp.StatusCode/100 != 2:
		return "", time.Time{}, &StatusError{Op: "auth", Code: resp.StatusCode, Body: bodyExcerpt(data)}
	}
	au, err := DecodeAuth(data)
	if err != nil {
		return "", time.Time{}, err
	}
	var exp time.Time
	if f := float64(au.Expires); f > 0 && !math.IsInf(f, 0) && f < 1e12 {
		sec, frac := math.Modf(f)
		exp = time.Unix(int64(sec), int64(frac*1e9))
	}
	return au.Token, exp, nil
}
