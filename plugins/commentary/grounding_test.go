package commentary

import (
	"testing"
)

// groundFacts are the facts of Buttler hitting Haris Rauf for four, as the
// stage lists them for the LLM.
var groundFacts = []string{
	"event: ball 3.4 of innings 1",
	"batting: England; bowling: Pakistan",
	"bowler: Haris Rauf",
	"batter on strike: Buttler",
	"non-striker: Hales",
	"this ball: FOUR off the bat (4 runs)",
	"runs from this ball: 4",
	"score after this ball: England 45/1 after 3.4 overs",
	"Buttler now has 27 runs off 15 balls",
	"Haris Rauf's figures: 0 wickets for 19 runs in 0.4 overs",
	"result: Pakistan win by 21 runs (D/L method)",
}

const groundRef = "Haris Rauf to Buttler, FOUR! England 45/1 after 3.4 overs."

func TestGroundingCheck(t *testing.T) {
	tests := []struct {
		line, want string
	}{
		// Grounded lines, as models write them.
		{"FOUR! Buttler punishes Haris Rauf, England 45/1 after 3.4 overs.", ""},
		{"Brilliant from Buttler, four more off Haris Rauf.", ""},
		{"Buttler's boundary takes England to 45/1.", ""},
		{"What a shot! BUTTLER finds the rope off Rauf.", ""},
		{"Buttler moves to 27 off 15 balls.", ""},
		{"Pressure on Pakistan as Buttler cuts loose against Haris Rauf.", ""},
		{"Lovely timing. Buttler, four, and Hales enjoys it from the other end.", ""},
		{"Haris Rauf की गेंद पर Buttler का चौका! England 45/1", ""},
		{"Haris Rauf की गेंद पर Buttler का चौका! England ४५/१", ""},
		{"Buttler keeps the T20 chase alive.", ""},
		{"Pakistan win by 21 runs under D/L.", ""},
		{"Haris Rauf’s over goes for four.", ""},
		{"Sweetly timed by Buttler, four off Haris Rauf.", ""},
		{"Shot! Buttler dispatches Haris Rauf for four.", ""},
		// An invented name.
		{"Jos Buttler hits Haris Rauf for four.", reasonUngroundedName},
		{"Buttler drives Haris Rauf past Shadab Khan for four.", reasonUngroundedName},
		{"Buttler takes Rauf for four, and Babar can only watch.", reasonUngroundedName},
		{"Brilliant scenes at Lord's as Buttler hits four.", reasonUngroundedName},
		{"Smith: four more.", reasonUngroundedName},
		{"England's captain Buttler hits four; Pakistan's Shaheen looks on.", reasonUngroundedName},
		{"SHAHEEN can't stop Buttler.", reasonUngroundedName},
		{"Haris Rauf की गेंद पर Jos Buttler का चौका!", reasonUngroundedName},
		// An invented number.
		{"Buttler hits Haris Rauf for four, his 17th boundary.", reasonUngroundedNumber},
		{"Buttler moves to 28.", reasonUngroundedNumber},
		{"England 46/1 after that four from Buttler.", reasonUngroundedNumber},
		{"Buttler's seventh four off Haris Rauf.", reasonUngroundedNumber},
		{"Three boundaries in a row for Buttler.", reasonUngroundedNumber},
		{"Haris Rauf की गेंद पर Buttler का चौका! England ४६/१", reasonUngroundedNumber},
		{"Haris Rauf की गेंद पर Buttler के चार रन।", ""},
		{"Buttler का सात गेंदों में तीसरा चौका।", reasonUngroundedNumber},
		{"Buttler at a strike rate of 180.0.", reasonUngroundedNumber},
	}
	g := newGround(groundFacts, groundRef)
	for _, tc := range tests {
		if got := g.check(tc.line); got != tc.want {
			t.Errorf("check(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

// Number words are grounded by the same word in the facts, too: "second"
// innings.
func TestGroundingNumberWords(t *testing.T) {
	g := newGround([]string{"event: start of innings 4", "this is England's second innings"}, "")
	if r := g.check("England begin their second innings."); r != "" {
		t.Errorf("second innings: %q", r)
	}
	if r := g.check("England begin their third innings."); r != reasonUngroundedNumber {
		t.Errorf("third innings: %q, want ungrounded number", r)
	}
	if r := g.check("Stokes reaches three figures."); r != reasonUngroundedName {
		t.Errorf("three figures: %q, want only the name to fail", r)
	}
}

func TestTokens(t *testing.T) {
	got := tokens("FOUR! Buttler's 45/1, T20 at 3.4; ४५")
	want := []token{{text: "FOUR", start: true}, {text: "Buttler's", start: true}, {text: "45", num: true}, {text: "1", num: true},
		{text: "T20"}, {text: "at"}, {text: "3.4", num: true}, {text: "45", num: true, start: true}}
	if len(got) != len(want) {
		t.Fatalf("tokens = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("token %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func FuzzGroundingCheck(f *testing.F) {
	f.Add("Jos Buttler hits Haris Rauf for 4 at Lord's. ४५ T20")
	f.Add("’s ' '' 3.. .4 ।।")
	f.Fuzz(func(t *testing.T, line string) {
		g := newGround(groundFacts, groundRef)
		switch r := g.check(line); r {
		case "", reasonUngroundedName, reasonUngroundedNumber:
		default:
			t.Fatalf("check(%q) = %q", line, r)
		}
	})
}
