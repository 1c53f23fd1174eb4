//go:build !unix

package bus

// lockDir is a no-op where flock is not available: do not point two
// ballcast processes at one data dir.
func lockDir(string) (func(), error) { return func() {}, nil }
