package roanuz

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// A 401 refreshes the token and retries once; a second 401 is returned.
func TestRESTUnauthorizedRetriesOnce(t *testing.T) {
	cases := []struct {
		name      string
		reject    int32 // how many REST calls answer 401
		wantErr   bool
		wantAuths int32
		wantCalls int32
	}{
		{"accepted", 0, false, 1, 1},
		{"one 401", 1, false, 2, 2},
		{"two 401s", 2, true, 2, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var auths, calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/auth/") {
					n := auths.Add(1)
					_, _ = w.Write([]byte(`{"data":{"token":"t` + itoa(int64(n)) + `","expires":"9999999999"}}`))
					return
				}
				if r.Header.Get("rs-token") == "" || r.URL.Path != "/v5/cricket/p/match/k/subscribe/" {
					t.Errorf("request %s with token %q", r.URL.Path, r.Header.Get("rs-token"))
				}
				if calls.Add(1) <= tc.reject {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				_, _ = w.Write([]byte(`{}`))
			}))
			defer srv.Close()
			a := newAuth(srv.URL, "p", "key", srv.Client())
			r := &rest{base: srv.URL + "/v5/cricket/p/", client: srv.Client(), auth: a, maxBytes: 1 << 20}
			err := r.subscribe(t.Context(), "k")
			var se *StatusError
			if tc.wantErr != (err != nil) || tc.wantErr && (!errors.As(err, &se) || se.Code != 401 || se.Op != "subscribe k") {
				t.Fatalf("subscribe = %v, want error %v", err, tc.wantErr)
			}
			if auths.Load() != tc.wantAuths || calls.Load() != tc.wantCalls {
				t.Fatalf("auth calls %d, REST calls %d; want %d, %d", auths.Load(), calls.Load(), tc.wantAuths, tc.wantCalls)
			}
		})
	}
}

func TestRESTResponseCap(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/auth/") {
			_, _ = w.Write([]byte(`{"data":{"token":"t","expires":"9999999999"}}`))
			return
		}
		_, _ = w.Write([]byte(strings.Repeat(" ", 2048)))
	}))
	defer srv.Close()
	r := &rest{base: srv.URL + "/v5/cricket/p/", client: srv.Client(), auth: newAuth(srv.URL, "p", "key", srv.Client()), maxBytes: 1024}
	if _, err := r.match(t.Context(), "k"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("match = %v, want ErrTooLarge", err)
	}
}
