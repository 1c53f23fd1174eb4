// Package cricsheettest finds the shared test data that lives beside the
// repository rather than in it: the real Cricsheet match files of
// shared/data/cricsheet/dev, or the directory named by BALLCAST_CRICSHEET_DIR.
// A missing directory fails the test; it is never skipped.
package cricsheettest
