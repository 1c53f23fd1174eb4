package socketio_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ballcast/ballcast/core/socketio"
)

// Follow one Roanuz match: dial, join /cricket, subscribe, read updates.
// The caller owns reconnection: when the connection or the namespace ends,
// it backs off and dials again.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	backoff := time.Second
	for ctx.Err() == nil {
		err := follow(ctx, "icc_wc_2023_g26")
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return
		}
		fmt.Println("feed ended:", err)
		select {
		case <-time.After(backoff):
			backoff = min(2*backoff, time.Minute)
		case <-ctx.Done():
		}
	}
}

func follow(ctx context.Context, matchKey string) error {
	conn, err := socketio.Dial(ctx, "http://socket.sports.roanuz.com", &socketio.Options{Path: "/v5/websocket"})
	if err != nil {
		return err
	}
	defer conn.Close()

	sock, err := conn.Join(ctx, "/cricket", nil)
	if err != nil {
		return err // a *socketio.ConnectError carries the server's message
	}
	err = sock.Emit(ctx, "connect_to_match", map[string]string{"token": "rs-token", "match_key": matchKey})
	if err != nil {
		return err
	}
	for {
		select {
		case ev, ok := <-sock.Events():
			if !ok {
				return sock.Err() // the namespace or the connection ended
			}
			switch {
			case ev.Name == "on_match_update" && len(ev.Args) > 0 && ev.Args[0].IsBinary():
				fmt.Println("gzip document of", len(ev.Args[0].Bytes()), "bytes")
			case ev.Name == "on_error":
				fmt.Println("roanuz error:", ev.Args)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
