package access_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ballcast/ballcast/broadcast/access"
	"github.com/rs/zerolog"
)

// A handler admits each request, refuses with the Error's status, code and
// Retry-After, and releases the ticket when the connection ends.
func Example() {
	dir, _ := os.MkdirTemp("", "access-example")
	defer os.RemoveAll(dir)
	keys := filepath.Join(dir, "keys.txt")
	line := access.KeyLine("partner", "ak_example_4f1d2c3b4a5968778695a4b3c2d1e0f9", []string{"1298179"})
	_ = os.WriteFile(keys, []byte(line+"\n"), 0o600)

	guard, err := access.New(access.Config{APIKeys: access.APIKeysConfig{File: keys}}, zerolog.Nop())
	if err != nil {
		fmt.Println(err)
		return
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ticket, err := guard.Admit(r)
		if err != nil {
			e := err.(*access.Error)
			if s := e.RetryAfterSeconds(); s > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(s))
			}
			w.WriteHeader(e.HTTPStatus())
			_ = json.NewEncoder(w).Encode(map[string]string{"code": e.Code(), "message": e.Error()})
			return
		}
		defer ticket.Release()
		fmt.Fprintf(w, "%s may follow 1298179: %v, 1298180: %v", ticket.Subject(), ticket.Allowed("1298179"), ticket.Allowed("1298180"))
	})

	for _, auth := range []string{"", "Bearer ak_example_4f1d2c3b4a5968778695a4b3c2d1e0f9"} {
		r := httptest.NewRequest(http.MethodGet, "/v1/ws", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body.String())
	}
	// Output:
	// 401 {"code":"unauthorized","message":"credentials required"}
	//
	// 200 partner may follow 1298179: true, 1298180: false
}
