package pusher_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/ballcast/ballcast/core/pusher"
)

// A client subscribes to a private channel, authorised by the app's auth
// endpoint, and receives an event whose double-encoded data arrives
// decoded. The server here is the package's own minimal one.
func ExampleClient() {
	srv := pusher.NewServer(pusher.ServerOptions{Key: "app-key", Secret: "app-secret"})
	mux := http.NewServeMux()
	mux.Handle("/app/", srv)
	mux.HandleFunc("POST /auth", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()                                   //nolint:errcheck // a bad form fails the signature
		json.NewEncoder(w).Encode(pusher.Authorization{ //nolint:errcheck // example
			Auth: pusher.Sign("app-key", "app-secret", r.PostForm.Get("socket_id"), r.PostForm.Get("channel_name"), ""),
		})
	})
	hs := httptest.NewServer(mux)
	defer hs.Close()
	host, port, _ := strings.Cut(strings.TrimPrefix(hs.URL, "http://"), ":")
	p, _ := strconv.Atoi(port)

	c, err := pusher.New(pusher.Options{Key: "app-key", WSHost: host, WSPort: p, Insecure: true, AuthEndpoint: hs.URL + "/auth"})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Subscribe("private-scores")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.Run(ctx, func(ev pusher.Event) { //nolint:errcheck // ends when cancelled
		switch ev.Event {
		case "pusher:subscription_succeeded":
			fmt.Println("subscribed to", ev.Channel)
			srv.Trigger(ctx, "private-scores", "data", []map[string]string{{"eventID": "E1"}})
		case "data":
			fmt.Println(ev.Channel, string(ev.Data))
			cancel()
		}
	})
	// Output:
	// subscribed to private-scores
	// private-scores [{"eventID":"E1"}]
}
