// Package commentary is the ballcast stage that writes live commentary: one
// line for every ball, and for the start and end of each innings and the
// match result. It runs after the stats stage and reads the live scorecard
// that stats attaches to every event.
//
// Two engines write the lines. The template engine (template.go) is always
// there: it picks from phrase banks embedded from phrases/, is deterministic
// for a given sequence of events (choices are seeded by the match and the
// ball's identity, never by time) and never repeats a line within an
// innings. When an OpenAI-compatible endpoint is configured (llm.go), the
// language model writes the line from a list of grounding facts, and the
// template line stands in whenever the model is slow, fails or replies with
// something unusable, or with a name or number not in the facts (the
// grounding check, grounding.go); the event's Commentary then says fallback
// and why. Personas and languages (persona.go) choose the voice of both
// engines: the LLM's prompt, and the template phrase banks (English and
// Hindi) with each persona's own variants.
//
// Every name and number in a line comes from the event and its scorecard
// (facts.go derives both engines' facts from them).
//
// Concurrency: Process and ProcessBatch may be called concurrently for
// different matches; the events of one match must arrive in order (the SDK
// and the pipeline's per-match lanes guarantee this). A batch holds the
// state of each of its matches for the whole call. Template lines are
// written in event order; the batch's LLM requests then run concurrently,
// at most llm.max_concurrency at once across the stage, each bounded by llm.timeout and by the
// caller's deadline; their lines are accepted in event order. Process sets
// ev.Commentary on the event it is given and returns that event.
package commentary
