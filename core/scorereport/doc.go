// Package scorereport is the public JSON report of a final scorecard, as
// printed by `ballcast scorecard FILE --json`. Its shape is a stable
// contract: the JSON keys below do not change without a version bump.
package scorereport
