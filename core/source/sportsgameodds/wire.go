package sportsgameodds

import (
	"encoding/json"
	"time"
)

// Event is the part of a SportsGameOdds Event object ballcast reads
// (SDK type Event); unknown members such as odds and players are ignored.
type Event struct {
	EventID  string  `json:"eventID"`
	SportID  string  `json:"sportID,omitempty"`
	LeagueID string  `json:"leagueID,omitempty"`
	Type     string  `json:"type,omitempty"`
	Info     *Info   `json:"info,omitempty"`
	Status   Status  `json:"status"`
	Teams    Teams   `json:"teams"`
	Results  Results `json:"results,omitempty"`
}

// Info holds the venue.
type Info struct {
	Venue *struct {
		Name string `json:"name,omitempty"`
		City string `json:"city,omitempty"`
	} `json:"venue,omitempty"`
}

// Status is the event's status object.
type Status struct {
	Started          bool      `json:"started"`
	Ended            bool      `json:"ended"`
	Live             bool      `json:"live"`
	Completed        bool      `json:"completed"`
	Cancelled        bool      `json:"cancelled"`
	Delayed          bool      `json:"delayed"`
	Finalized        bool      `json:"finalized"`
	StartsAt         time.Time `json:"startsAt,omitzero"`
	CurrentPeriodID  string    `json:"currentPeriodID,omitempty"`
	PreviousPeriodID string    `json:"previousPeriodID,omitempty"`
	DisplayShort     string    `json:"displayShort,omitempty"`
	DisplayLong      string    `json:"displayLong,omitempty"`
	Periods          struct {
		Started []string `json:"started"`
		Ended   []string `json:"ended"`
	} `json:"periods"`
}

// Teams are the two sides.
type Teams struct {
	Home Team `json:"home"`
	Away Team `json:"away"`
}

// Team is one side.
type Team struct {
	TeamID       string   `json:"teamID,omitempty"`
	StatEntityID string   `json:"statEntityID,omitempty"`
	Score        *float64 `json:"score,omitempty"`
	Names        struct {
		Long   string `json:"long,omitempty"`
		Medium string `json:"medium,omitempty"`
		Short  string `json:"short,omitempty"`
	} `json:"names"`
}

// Name is the longest name the team has.
func (t Team) Name() string {
	switch {
	case t.Names.Long != "":
		return t.Names.Long
	case t.Names.Medium != "":
		return t.Names.Medium
	case t.Names.Short != "":
		return t.Names.Short
	}
	return t.TeamID
}

// Results are nested {periodID}.{statEntityID}.{statID} → number.
type Results map[string]map[string]map[string]float64

// StreamInfo is the answer of GET /v2/stream/events.
type StreamInfo struct {
	Success       bool            `json:"success"`
	Data          []Event         `json:"data"`
	PusherKey     string          `json:"pusherKey"`
	PusherOptions PusherOptions   `json:"pusherOptions"`
	Channel       string          `json:"channel"`
	User          json.RawMessage `json:"user,omitempty"`
	Error         string          `json:"error,omitempty"`
}

// PusherOptions are the pusher-js constructor options the stream endpoint
// returns. Timeouts are in milliseconds, as pusher-js takes them.
type PusherOptions struct {
	Cluster              string         `json:"cluster,omitempty"`
	WSHost               string         `json:"wsHost,omitempty"`
	WSPort               int            `json:"wsPort,omitempty"`
	WSSPort              int            `json:"wssPort,omitempty"`
	WSPath               string         `json:"wsPath,omitempty"`
	ForceTLS             *bool          `json:"forceTLS,omitempty"`
	ActivityTimeout      int            `json:"activityTimeout,omitempty"`
	PongTimeout          int            `json:"pongTimeout,omitempty"`
	ChannelAuthorization *Authorization `json:"channelAuthorization,omitempty"`
	// AuthEndpoint and Auth are the older pusher-js spellings.
	AuthEndpoint string         `json:"authEndpoint,omitempty"`
	Auth         *Authorization `json:"auth,omitempty"`
}

// Authorization is pusher-js channelAuthorization.
type Authorization struct {
	Endpoint string            `json:"endpoint,omitempty"`
	Headers  map[string]string `json:"headers,omitempty"`
	Params   map[string]string `json:"params,omitempty"`
}

// EventsPage is the answer of GET /v2/events.
type EventsPage struct {
	Success    bool    `json:"success"`
	Data       []Event `json:"data"`
	NextCursor string  `json:"nextCursor,omitempty"`
	Error      string  `json:"error,omitempty"`
}

// Notification is one entry of a "data" channel event.
type Notification struct {
	EventID string `json:"eventID"`
}
