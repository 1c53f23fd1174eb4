//go:build unix

package bus

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive lock on dir so that two embedded servers never
// share a store, which would corrupt it. The kernel releases the lock when
// the process dies; release releases it earlier.
func lockDir(dir string) (release func(), err error) {
	path := filepath.Join(dir, "ballcast.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("bus: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("bus: data dir %s is in use by another ballcast (embedded NATS server)", dir)
		}
		return nil, fmt.Errorf("bus: lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
