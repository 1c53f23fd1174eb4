package roanuz

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRefreshTime(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	cases := []struct {
		name string
		exp  time.Time
		want time.Time
	}{
		{"day-long token: 5 minutes early", now.Add(24 * time.Hour), now.Add(24*time.Hour - 5*time.Minute)},
		{"short token: 10% early", now.Add(10 * time.Second), now.Add(9 * time.Second)},
		{"no expiry: 20 minutes assumed", time.Time{}, now.Add(18 * time.Minute)},
		{"already expired: 20 minutes assumed", now.Add(-time.Hour), now.Add(18 * time.Minute)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := refreshTime(now, tc.exp); !got.Equal(tc.want) {
				t.Fatalf("got %v, want %v", got.Sub(now), tc.want.Sub(now))
			}
		})
	}
}

func TestAuthExpiresForms(t *testing.T) {
	exp := time.Now().Add(time.Hour).Unix()
	cases := []struct {
		name, body string
		wantErr    bool
	}{
		{"number", `{"data":{"token":"t","expires":` + itoa(exp) + `.5}}`, false},
		{"numeric string", `{"status_code":200,"data":{"token":"t","expires":"` + itoa(exp) + `.89"}}`, false},
		{"missing expires", `{"data":{"token":"t"}}`, false},
		{"no token", `{"data":{"expires":1}}`, true},
		{"not json", `<html>`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			a := newAuth(srv.URL, "p", "k", srv.Client())
			tok, err := a.Token(t.Context())
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got token %q, want an error", tok)
				}
				return
			}
			if err != nil || tok != "t" {
				t.Fatalf("got (%q, %v), want t", tok, err)
			}
			if due := a.due(); time.Until(due) < 10*time.Minute {
				t.Fatalf("refresh due in %v, want well ahead", time.Until(due))
			}
		})
	}
}

// Concurrent callers share one request; Refresh of a rejected token fetches
// once, and a Refresh of an already replaced token does not fetch.
func TestAuthSingleFlight(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if n == 1 {
			<-release
		}
		_, _ = w.Write([]byte(`{"data":{"token":"t` + itoa(int64(n)) + `","expires":"9999999999"}}`))
	}))
	defer srv.Close()
	a := newAuth(srv.URL, "p", "k", srv.Client())
	var wg sync.WaitGroup
	toks := make([]string, 8)
	for i := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], _ = a.Token(t.Context())
		}()
	}
	// Let the first request through once the others are waiting (or not:
	// either way only one request may be made).
	close(release)
	wg.Wait()
	for i, tok := range toks {
		if tok != "t1" {
			t.Fatalf("caller %d got %q, want t1", i, tok)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	if tok, err := a.Refresh(t.Context(), "t1"); err != nil || tok != "t2" {
		t.Fatalf("Refresh(t1) = (%q, %v), want t2", tok, err)
	}
	if tok, err := a.Refresh(t.Context(), "t1"); err != nil || tok != "t2" {
		t.Fatalf("second Refresh(t1) = (%q, %v), want t2 without a request", tok, err)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

func TestAuthRejectedIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":{"msg":"invalid api key"}}`))
	}))
	defer srv.Close()
	a := newAuth(srv.URL, "p", "the-key", srv.Client())
	_, err := a.Token(context.Background())
	if !errors.Is(err, ErrAuthRejected) || strings.Contains(err.Error(), "the-key") {
		t.Fatalf("got %v, want ErrAuthRejected without the key", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
