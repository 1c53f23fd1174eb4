package broadcast_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/core/event"
)

// A hub behind an HTTP server: a frontend subscribes over the WebSocket and
// receives a snapshot, then every event the pipeline publishes.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	hub, err := broadcast.NewHub(broadcast.Config{}, zerolog.Nop())
	if err != nil {
		panic(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- hub.Run(runCtx) }()
	srv := httptest.NewServer(hub.Handler())
	defer srv.Close()
	defer func() { stop(); <-done }()

	// A frontend connects and subscribes.
	conn, _, err := websocket.Dial(ctx, srv.URL+"/v1/ws", nil)
	if err != nil {
		panic(err)
	}
	defer conn.CloseNow()
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"action":"subscribe","match":"1298179"}`)); err != nil {
		panic(err)
	}
	printFrame(ctx, conn)

	// The pipeline publishes a delivery with its commentary.
	err = hub.Publish(ctx, event.Event{
		ID: "1298179/1.0.1.0", Match: "1298179", Seq: 7, Kind: event.KindBall,
		Ball: &event.Ball{
			Innings: 1, Over: 0, Ball: 1, Legal: true, BattingTeam: "Australia", BowlingTeam: "England",
			Batter: "DA Warner", NonStriker: "AJ Finch", Bowler: "CR Woakes", RunsBat: 4,
		},
		Commentary: &event.Commentary{Text: "Warner drives, four!", Language: "en"},
	})
	if err != nil {
		panic(err)
	}
	printFrame(ctx, conn)

	// Output:
	// snapshot match=1298179 seq=0 state=unknown
	// event match=1298179 seq=1 ingest_seq=7 ball=0.1 four=true "Warner drives, four!"
}

func printFrame(ctx context.Context, conn *websocket.Conn) {
	_, b, err := conn.Read(ctx)
	if err != nil {
		panic(err)
	}
	var f struct {
		broadcast.EventFrame
		State string `json:"state"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		panic(err)
	}
	switch f.Op {
	case broadcast.OpSnapshot:
		fmt.Printf("snapshot match=%s seq=%d state=%s\n", f.Match, f.Seq, f.State)
	case broadcast.OpEvent:
		b := f.Data.Ball
		fmt.Printf("event match=%s seq=%d ingest_seq=%d ball=%s four=%v %q\n",
			f.Match, f.Seq, f.IngestSeq, broadcast.BallLabel(b.Over, b.Ball), b.Four, f.Data.Commentary.Text)
	}
}

// A client that cannot speak WebSocket follows one match over Server-Sent
// Events. It held event 1 of epoch "feed-1", so it resumes with
// Last-Event-ID, as a browser's EventSource does on reconnect.
func Example_sse() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	hub, err := broadcast.NewHub(broadcast.Config{}, zerolog.Nop())
	if err != nil {
		panic(err)
	}
	// The integrator derives the epoch from the durable feed.
	if err := hub.SetEpoch("feed-1"); err != nil {
		panic(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- hub.Run(runCtx) }()
	srv := httptest.NewServer(hub.Handler())
	defer srv.Close()
	defer func() { stop(); <-done }()

	for i := 1; i <= 2; i++ {
		ev := event.Event{ID: fmt.Sprintf("m1/%d", i), Match: "m1", Seq: uint64(i), Kind: event.KindStatus, Status: &event.Status{State: event.StateLive}}
		if err := hub.Publish(ctx, ev); err != nil {
			panic(err)
		}
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/sse/matches/m1", nil)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Last-Event-ID", "feed-1:1")
	resp, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "id: ") || strings.HasPrefix(line, "event: ") {
			fmt.Println(line)
		}
		if line == "event: event" {
			break
		}
	}

	// Output:
	// id: feed-1:1
	// event: resumed
	// id: feed-1:2
	// event: event
}
