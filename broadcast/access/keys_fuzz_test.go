package access

import (
	"strings"
	"testing"
)

// FuzzParseKeys checks that the keys-file parser never panics, that every
// key it accepts is well formed, that accepted files survive a round trip
// through KeyLine-style lines, and that errors never quote the hash field.
func FuzzParseKeys(f *testing.F) {
	f.Add("web " + HashKey("k") + " m1,m2\n# comment\napp " + HashKey("j") + " *\n")
	f.Add("a " + HashKey("x") + ";b " + HashKey("y"))
	f.Add("web sha256:zz")
	f.Add("web ak_plaintext")
	f.Add("\r\n;;\t#\n")
	f.Add("x " + HashKey("x") + " ,")
	f.Fuzz(func(t *testing.T, text string) {
		keys, err := parseKeys("fuzz", text)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "access: fuzz:") {
				t.Fatalf("error without position: %v", err)
			}
			return
		}
		names := map[string]bool{}
		var b strings.Builder
		for _, k := range keys {
			if k.name == "" || names[k.name] || checkName(k.name) != nil {
				t.Fatalf("bad or duplicate name %q", k.name)
			}
			names[k.name] = true
			for m := range k.matches {
				if m == "" || m == "*" || strings.ContainsAny(m, ",; \t\n\r") {
					t.Fatalf("key %s: bad match %q", k.name, m)
				}
			}
			b.WriteString(k.name + " sha256:" + hexString(k.hash[:]) + " " + matchesString(k.matches) + "\n")
		}
		again, err := parseKeys("fuzz", b.String())
		if err != nil {
			t.Fatalf("round trip: %v\n%s", err, b.String())
		}
		if len(again) != len(keys) {
			t.Fatalf("round trip: %d keys, want %d", len(again), len(keys))
		}
		for i := range keys {
			if again[i].name != keys[i].name || again[i].hash != keys[i].hash || matchesString(again[i].matches) != matchesString(keys[i].matches) {
				t.Fatalf("round trip changed key %d", i)
			}
		}
	})
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
