package access

import (
	"strings"
	"testing"
)

func TestHashKey(t *testing.T) {
	// sha256("test"), as `printf test | sha256sum` prints it.
	const want = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	if got := HashKey("test"); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if got := KeyLine("web", "test", []string{"m1", "m2"}); got != "web "+want+" m1,m2" {
		t.Fatalf("KeyLine: got %q", got)
	}
	if got := KeyLine("web", "test", nil); got != "web "+want+" *" {
		t.Fatalf("KeyLine: got %q", got)
	}
}

func TestParseKeys(t *testing.T) {
	h1, h2 := HashKey("one"), HashKey("two")
	tests := []struct {
		name    string
		text    string
		want    map[string]string // name → sorted matches joined by ",", "*" = all
		wantErr string
	}{
		{name: "empty", text: "", want: map[string]string{}},
		{name: "comments and blanks", text: "# c\n\n   \n\t# indented\n", want: map[string]string{}},
		{name: "all matches implied", text: "web " + h1, want: map[string]string{"web": "*"}},
		{name: "explicit star, tabs, CRLF", text: "web\t" + h1 + "\t*\r\napp " + h2 + " m1,m2\r\n", want: map[string]string{"web": "*", "app": "m1,m2"}},
		{name: "semicolons", text: "web " + h1 + ";app " + h2 + " m1", want: map[string]string{"web": "*", "app": "m1"}},
		{name: "upper-case hex", text: "web sha256:" + strings.ToUpper(h1[7:]), want: map[string]string{"web": "*"}},
		{name: "one field", text: "web", wantErr: ":1: want"},
		{name: "four fields", text: "web " + h1 + " m1 extra", wantErr: "4 fields"},
		{name: "plaintext key", text: "web ak_live_secretvalue", wantErr: "never the key itself"},
		{name: "bare hex", text: "web " + h1[7:], wantErr: `must start with "sha256:"`},
		{name: "short hash", text: "web sha256:abcd", wantErr: "64 hex digits"},
		{name: "bad name", text: "we/b " + h1, wantErr: "want letters"},
		{name: "long name", text: strings.Repeat("n", 65) + " " + h1, wantErr: "longer than"},
		{name: "empty match", text: "web " + h1 + " m1,,m2", wantErr: "1-128 bytes"},
		{name: "star in list", text: "web " + h1 + " m1,*", wantErr: "stand alone"},
		{name: "duplicate name", text: "web " + h1 + "\nweb " + h2, wantErr: `:2: key name "web" already used on line 1`},
		{name: "duplicate hash", text: "web " + h1 + "\napp " + h1, wantErr: "same hash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := parseKeys("keys.txt", tc.text)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "secretvalue") || strings.Contains(err.Error(), h1[7:]) {
					t.Fatalf("error quotes key material: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, k := range keys {
				got[k.name] = matchesString(k.matches)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for n, m := range tc.want {
				if got[n] != m {
					t.Errorf("key %s: got matches %q, want %q", n, got[n], m)
				}
			}
		})
	}
}

func matchesString(m matchSet) string {
	if m == nil {
		return "*"
	}
	var ids []string
	for id := range m {
		ids = append(ids, id)
	}
	// Small sets: a simple insertion sort keeps the helper dependency-free.
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	return strings.Join(ids, ",")
}

func TestLookupKey(t *testing.T) {
	keys, err := parseKeys("k", KeyLine("a", "key-a", nil)+"\n"+KeyLine("b", "key-b", []string{"m"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ presented, want string }{
		{"key-a", "a"}, {"key-b", "b"}, {"key-c", ""}, {"", ""}, {"key-a ", ""}, {HashKey("key-a"), ""},
	} {
		k, ok := lookupKey(keys, tc.presented)
		if ok != (tc.want != "") || k.name != tc.want {
			t.Errorf("lookupKey(%q) = %q, %v; want %q", tc.presented, k.name, ok, tc.want)
		}
	}
}
