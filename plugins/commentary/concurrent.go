package commentary

import "github.com/ballcast/ballcast/plugins/sdk"

// ConcurrentMatches implements sdk.ConcurrentStage: calls for different
// matches run at once, so one match waiting for the language model does
// not hold back another's lines. Each call holds only its own matches'
// state, and llm.max_concurrency still bounds the requests of the whole
// stage.
func (s *Stage) ConcurrentMatches() bool { return true }

var _ sdk.ConcurrentStage = (*Stage)(nil)
