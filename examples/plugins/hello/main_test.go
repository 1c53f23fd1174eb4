package main

import (
	"testing"

	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
	"github.com/ballcast/ballcast/plugins/sdk/sdktest"
)

func TestHello(t *testing.T) {
	c := sdktest.Start(t, &hello{}, map[string]string{"tag": "[4/6] "})
	cases := []struct {
		name string
		ball *pb.Ball
		want string
	}{
		{"four is tagged", &pb.Ball{RunsBat: 4}, "[4/6] shot"},
		{"six is tagged", &pb.Ball{RunsBat: 6}, "[4/6] shot"},
		{"run four is not", &pb.Ball{RunsBat: 4, NonBoundary: true}, "shot"},
		{"single is not", &pb.Ball{RunsBat: 1}, "shot"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.Process(&sdk.Event{Id: "x", Kind: "ball", Ball: tc.ball, Commentary: &pb.Commentary{Text: "shot"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := out[0].GetCommentary().GetText(); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
