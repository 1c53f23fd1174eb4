// Package refscore is an independent reference scorer: it reads a raw
// Cricsheet JSON match file and derives its final scorecard with the rules
// of shared/data/cricsheet/SOURCES.md ("Deriving the scorecard"). Tests use it
// as the oracle for the stats stage, so it is written to be obviously right
// rather than fast, and shares no code with core/source/replay or
// plugins/stats.
package refscore
