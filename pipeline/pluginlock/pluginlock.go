// Package pluginlock reads and writes plugins.lock, the record of the
// plugins installed with `ballcast plugin install`: for each one its name,
// version, protocol version, config schema and the SHA-256 its binary must
// have. The host starts an installed plugin only when its binary still has
// that hash.
//
// The file is JSON, indented, with the entries sorted by name and a format
// version, so that it reads well and diffs cleanly. It is written atomically
// (a temporary file in the same directory, synced, then renamed over the
// old one): a reader sees the old file or the new one, never a mix. Update
// also holds an advisory lock (flock) on a sidecar file across its read,
// change and write, so two concurrent installs cannot lose each other's
// entry. A File value is not safe for concurrent use; the functions are.
package pluginlock

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// FileName is the lock file's name inside the plugin directory.
const FileName = "plugins.lock"

// FormatVersion is the version of the file format this package writes. A
// file with a higher version was written by a newer ballcast and is refused
// rather than misread.
const FormatVersion = 1

// BinaryPrefix starts the file name of every installed plugin binary:
// ballcast-plugin-<name>.
const BinaryPrefix = "ballcast-plugin-"

// File is the content of plugins.lock.
type File struct {
	// Version is the file format version; FormatVersion when written by
	// this package.
	Version int `json:"version"`
	// Plugins are the installed plugins, sorted by name, names unique.
	Plugins []Entry `json:"plugins"`
}

// Entry records one installed plugin.
type Entry struct {
	// Name is the plugin's name, as written in a stage's `plugin:` key;
	// lower-case letters, digits, "_" and "-".
	Name string `json:"name"`
	// Version is the version the plugin reported at install time.
	Version string `json:"version"`
	// ProtocolVersion is the plugin wire protocol version negotiated in
	// the handshake at install time.
	ProtocolVersion int `json:"protocol_version"`
	// SHA256 is the hex SHA-256 of the installed binary; the host refuses
	// to start a binary with any other hash.
	SHA256 string `json:"sha256"`
	// File is the binary's file name in the plugin directory, normally
	// ballcast-plugin-<name>. Never a path.
	File string `json:"file"`
	// InstalledAt is when the plugin was installed, UTC.
	InstalledAt time.Time `json:"installed_at"`
	// Description is the plugin's own one-line description.
	Description string `json:"description,omitempty"`
	// ConfigSchema is the JSON Schema of the stage's `config:` block, as
	// the plugin reported it; absent when the plugin has none.
	ConfigSchema json.RawMessage `json:"config_schema,omitempty"`
}

// Checksum returns the decoded SHA-256.
func (e Entry) Checksum() ([]byte, error) {
	sum, err := hex.DecodeString(e.SHA256)
	if err != nil || len(sum) != 32 {
		return nil, fmt.Errorf("pluginlock: plugin %s: sha256 %q is not 64 hex digits", e.Name, e.SHA256)
	}
	return sum, nil
}

// Path returns the lock file's path in the plugin directory dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// Lookup returns the entry named name.
func (f *File) Lookup(name string) (Entry, bool) {
	i, ok := f.find(name)
	if !ok {
		return Entry{}, false
	}
	return f.Plugins[i], true
}

// Put adds e, or replaces the entry of the same name and returns it.
func (f *File) Put(e Entry) (old Entry, replaced bool) {
	i, ok := f.find(e.Name)
	if ok {
		old, f.Plugins[i] = f.Plugins[i], e
		return old, true
	}
	f.Plugins = slices.Insert(f.Plugins, i, e)
	return Entry{}, false
}

// Remove deletes the entry named name and returns it.
func (f *File) Remove(name string) (Entry, bool) {
	i, ok := f.find(name)
	if !ok {
		return Entry{}, false
	}
	old := f.Plugins[i]
	f.Plugins = slices.Delete(f.Plugins, i, i+1)
	return old, true
}

func (f *File) find(name string) (int, bool) {
	return slices.BinarySearchFunc(f.Plugins, name, func(e Entry, n string) int { return strings.Compare(e.Name, n) })
}

// Read reads the lock file at path. A missing file is an empty File (no
// plugin installed yet), not an error. A file that is not a valid lock file
// is an error naming the file and, for JSON syntax errors, the line.
func Read(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{Version: FormatVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pluginlock: %w", err)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("pluginlock: %s: %w", path, err)
	}
	return f, nil
}

// Parse decodes and checks the content of a lock file. Errors do not name
// the file; Read adds it.
func Parse(data []byte) (*File, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
			return nil, fmt.Errorf("line %d: not valid JSON (%v); fix or delete the file and reinstall the plugins", line, se)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, errors.New("not valid JSON (the file is truncated); fix or delete the file and reinstall the plugins")
		}
		return nil, fmt.Errorf("not a plugins.lock file (%v); fix or delete the file and reinstall the plugins", err)
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the JSON object; fix or delete the file and reinstall the plugins")
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	// Written indented; kept compact in memory, as plugins report it.
	for i, e := range f.Plugins {
		if len(e.ConfigSchema) > 0 {
			var b bytes.Buffer
			if err := json.Compact(&b, e.ConfigSchema); err == nil {
				f.Plugins[i].ConfigSchema = json.RawMessage(b.Bytes())
			}
		}
	}
	return &f, nil
}

// check reports every problem with the entries at once.
func (f *File) check() error {
	switch {
	case f.Version == 0:
		return errors.New(`no "version": not a plugins.lock file`)
	case f.Version > FormatVersion:
		return fmt.Errorf("format version %d is newer than this ballcast understands (%d); upgrade ballcast", f.Version, FormatVersion)
	case f.Version < 0:
		return fmt.Errorf("format version %d is invalid", f.Version)
	}
	var errs []error
	seen := map[string]bool{}
	for i, e := range f.Plugins {
		at := fmt.Sprintf("plugins[%d]", i)
		if !ValidName(e.Name) {
			errs = append(errs, fmt.Errorf("%s: name %q is not a valid plugin name", at, e.Name))
		} else if seen[e.Name] {
			errs = append(errs, fmt.Errorf("%s: plugin %s is listed twice", at, e.Name))
		}
		seen[e.Name] = true
		if _, err := e.Checksum(); err != nil {
			errs = append(errs, fmt.Errorf("%s: sha256 %q is not 64 hex digits", at, e.SHA256))
		}
		if e.File == "" || e.File != filepath.Base(e.File) || e.File == "." || e.File == ".." {
			errs = append(errs, fmt.Errorf("%s: file %q must be a file name in the plugin directory, not a path", at, e.File))
		}
		if len(e.ConfigSchema) > 0 && !json.Valid(e.ConfigSchema) {
			errs = append(errs, fmt.Errorf("%s: config_schema is not valid JSON", at))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	slices.SortStableFunc(f.Plugins, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

// ValidName reports whether name is a valid plugin name: [a-z0-9_-]+, the
// same rule as a stage's `plugin:` value.
func ValidName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Write writes f to path atomically, with mode 0644, sorted by name and
// with Version set to FormatVersion. It does not lock; use Update to
// change an existing file.
func Write(path string, f *File) error {
	out := File{Version: FormatVersion, Plugins: slices.Clone(f.Plugins)}
	if out.Plugins == nil {
		out.Plugins = []Entry{}
	}
	if err := out.check(); err != nil {
		return fmt.Errorf("pluginlock: write %s: %w", path, err)
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("pluginlock: write %s: %w", path, err)
	}
	data = append(data, '\n')
	if err := WriteFileAtomic(path, data, 0o644); err != nil {
		return fmt.Errorf("pluginlock: %w", err)
	}
	return nil
}

// Update reads the lock file at path, calls change on it and writes the
// result back atomically, holding an exclusive advisory lock on
// path+".lck" throughout so that concurrent updates (two installs at once)
// are applied one after the other. If change returns an error, nothing is
// written and that error is returned. The directory must exist.
func Update(path string, change func(*File) error) error {
	unlock, err := lock(path + ".lck")
	if err != nil {
		return err
	}
	defer unlock()
	f, err := Read(path)
	if err != nil {
		return err
	}
	if err := change(f); err != nil {
		return err
	}
	return Write(path, f)
}

// lock takes an exclusive flock on the file at path, creating it.
func lock(path string) (unlock func(), err error) {
	lf, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pluginlock: %w", err)
	}
	for {
		err = syscall.Flock(int(lf.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		lf.Close()
		return nil, fmt.Errorf("pluginlock: lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
		lf.Close()
	}, nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory that is synced, given mode perm and renamed over path, then
// syncs the directory. Readers see the old content or the new, never a
// partial file; on error path is unchanged and the temporary file removed.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	done = true
	SyncDir(dir)
	return nil
}

// SyncDir flushes a directory's entries (a rename) to disk, best effort.
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
