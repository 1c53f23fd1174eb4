package access

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
)

// hashPrefix marks the hash scheme in a keys file. SHA-256 is enough
// because API keys are random (at least 128 bits, see docs/access.md): a
// slow password hash only helps against guessable secrets.
const hashPrefix = "sha256:"

// HashKey returns the stored form of an API key, "sha256:" followed by the
// lower-case hex SHA-256 of the key. It is what a keys file holds.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hashPrefix + hex.EncodeToString(sum[:])
}

// KeyLine returns a keys-file line for a key: its name, its hash and its
// matches ("*" when matches is empty). It is what `ballcast` prints for an
// operator to append to the keys file.
func KeyLine(name, key string, matches []string) string {
	m := "*"
	if len(matches) > 0 {
		m = strings.Join(matches, ",")
	}
	return name + " " + HashKey(key) + " " + m
}

// apiKey is one parsed keys-file entry.
type apiKey struct {
	name    string
	hash    [sha256.Size]byte
	matches matchSet
}

// matchSet is the set of matches a credential may follow; nil means all.
type matchSet map[string]struct{}

func (m matchSet) allows(match string) bool {
	if m == nil {
		return true
	}
	_, ok := m[match]
	return ok
}

// maxNameLen and maxMatchLen bound the fields of a keys line; match IDs
// follow docs/protocol.md (1–128 bytes).
const (
	maxNameLen  = 64
	maxMatchLen = 128
)

// parseKeys parses keys-file text: one entry a line (";" also ends a line,
// so a whole set fits in one environment variable), fields separated by
// spaces or tabs:
//
//	name sha256:<64 hex digits> [match,match,...|*]
//
// Blank lines and lines starting with "#" are ignored. A missing matches
// field means every match. src names the source in errors ("keys.txt",
// "$BALLCAST_KEYS"); errors never quote a hash.
func parseKeys(src, text string) ([]apiKey, error) {
	var keys []apiKey
	names := map[string]int{}
	hashes := map[[sha256.Size]byte]int{}
	lineNo := 0
	for rawLine := range strings.SplitSeq(text, "\n") {
		lineNo++
		for part := range strings.SplitSeq(rawLine, ";") {
			line := strings.TrimSpace(strings.TrimSuffix(part, "\r"))
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, err := parseKeyLine(line)
			if err != nil {
				return nil, fmt.Errorf("access: %s:%d: %w", src, lineNo, err)
			}
			if prev, ok := names[k.name]; ok {
				return nil, fmt.Errorf("access: %s:%d: key name %q already used on line %d", src, lineNo, k.name, prev)
			}
			if prev, ok := hashes[k.hash]; ok {
				return nil, fmt.Errorf("access: %s:%d: key %q has the same hash as the key on line %d", src, lineNo, k.name, prev)
			}
			names[k.name] = lineNo
			hashes[k.hash] = lineNo
			keys = append(keys, k)
		}
	}
	return keys, nil
}

func parseKeyLine(line string) (apiKey, error) {
	f := strings.Fields(line)
	if len(f) < 2 || len(f) > 3 {
		return apiKey{}, fmt.Errorf("want \"name sha256:<hex> [matches]\", got %d fields", len(f))
	}
	var k apiKey
	k.name = f[0]
	if err := checkName(k.name); err != nil {
		return apiKey{}, err
	}
	h, ok := strings.CutPrefix(f[1], hashPrefix)
	if !ok {
		if looksLikeHash(f[1]) {
			return apiKey{}, fmt.Errorf("key %q: hash must start with %q", k.name, hashPrefix)
		}
		// Never echo the field: it may be a plaintext key pasted by mistake.
		return apiKey{}, fmt.Errorf("key %q: second field must be %q and 64 hex digits (a hashed key, never the key itself)", k.name, hashPrefix)
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return apiKey{}, fmt.Errorf("key %q: hash must be %q and 64 hex digits", k.name, hashPrefix)
	}
	copy(k.hash[:], b)
	if len(f) == 3 && f[2] != "*" {
		k.matches = matchSet{}
		for m := range strings.SplitSeq(f[2], ",") {
			if m == "" || len(m) > maxMatchLen {
				return apiKey{}, fmt.Errorf("key %q: match IDs must be 1-%d bytes, comma-separated", k.name, maxMatchLen)
			}
			if m == "*" {
				return apiKey{}, fmt.Errorf("key %q: \"*\" must stand alone", k.name)
			}
			k.matches[m] = struct{}{}
		}
	}
	return k, nil
}

func checkName(name string) error {
	if len(name) > maxNameLen {
		return fmt.Errorf("key name longer than %d bytes", maxNameLen)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '-' || r == '_' || r == '.' || r == '@'
		if !ok {
			return fmt.Errorf("key name %q: want letters, digits and -_.@", name)
		}
	}
	return nil
}

func looksLikeHash(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && len(s) == 2*sha256.Size
}

// lookupKey returns the key whose hash matches presented, comparing in
// constant time against every stored hash so that timing reveals neither
// which key matched nor how much of a hash did.
func lookupKey(keys []apiKey, presented string) (apiKey, bool) {
	sum := sha256.Sum256([]byte(presented))
	found := -1
	for i := range keys {
		if subtle.ConstantTimeCompare(sum[:], keys[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return apiKey{}, false
	}
	return keys[found], true
}
