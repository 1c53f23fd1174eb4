// Package testdata finds the shared test data that lives beside the
// repository rather than in it: the real Cricsheet match files of
// shared/data/cricsheet/dev.
//
// The go tool skips directories named testdata when expanding ./..., so
// `go vet ./...` does not visit this package; name it explicitly
// (`go vet ./internal/testdata`) to check it.
package testdata
