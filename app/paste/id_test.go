package paste_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/litepaste/litepaste/app/paste"
)

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func mustNewID(t *testing.T) paste.ID {
	t.Helper()
	id, err := paste.NewID()
	if err != nil {
		t.Fatalf("NewID: %v", err)
	}
	return id
}

func TestNewIDShape(t *testing.T) {
	for range 1000 {
		id := mustNewID(t)
		s := id.String()
		if len(s) != paste.IDLength || paste.IDLength != 8 {
			t.Fatalf("NewID %q: got length %d, want 8", s, len(s))
		}
		for _, c := range s {
			if !strings.ContainsRune(alphabet, c) {
				t.Fatalf("NewID %q: character %q is outside [A-Za-z0-9]", s, c)
			}
		}
		if got, err := paste.ParseID(s); err != nil || got != id {
			t.Fatalf("ParseID(NewID() = %q): got %q, %v, want the same id", s, got, err)
		}
	}
}

func TestNewIDIsUnbiased(t *testing.T) {
	const n = 20000
	var counts [256]int
	var perPosition [paste.IDLength]map[byte]bool
	for i := range perPosition {
		perPosition[i] = map[byte]bool{}
	}
	seen := make(map[paste.ID]bool, n)
	for range n {
		id := mustNewID(t)
		if seen[id] {
			t.Fatalf("NewID repeated %q within %d draws", id, n)
		}
		seen[id] = true
		for i := 0; i < len(id); i++ {
			counts[id[i]]++
			perPosition[i][id[i]] = true
		}
	}
	// Pearson's chi-squared over the 62 symbols (61 degrees of freedom).
	// A fair draw stays under 150 except about once in 10^12 runs; taking
	// bytes modulo 62 without rejection (the usual mistake) scores near 1000.
	expected := float64(n*paste.IDLength) / float64(len(alphabet))
	chi2 := 0.0
	for i := 0; i < len(alphabet); i++ {
		d := float64(counts[alphabet[i]]) - expected
		chi2 += d * d / expected
	}
	t.Logf("chi-squared over %d characters: %.1f (61 degrees of freedom)", n*paste.IDLength, chi2)
	if chi2 > 150 {
		t.Errorf("character frequencies: chi-squared %.1f, want under 150 for a uniform draw", chi2)
	}
	for i, set := range perPosition {
		if len(set) != len(alphabet) {
			t.Errorf("position %d: got %d distinct characters in %d ids, want all %d", i, len(set), n, len(alphabet))
		}
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		desc  string
		in    string
		valid bool
	}{
		{desc: "letters and digits", in: "Ab3dEf9H", valid: true},
		{desc: "all digits", in: "01234567", valid: true},
		{desc: "all upper", in: "ZZZZZZZZ", valid: true},
		{desc: "empty", in: ""},
		{desc: "seven", in: "Ab3dEf9"},
		{desc: "nine", in: "Ab3dEf9H1"},
		{desc: "health path", in: "healthz"},
		{desc: "dash", in: "Ab3d-f9H"},
		{desc: "underscore", in: "Ab3d_f9H"},
		{desc: "space", in: "Ab3d f9H"},
		{desc: "slash", in: "Ab3d/f9H"},
		{desc: "dots", in: "..%2f..%"},
		{desc: "NUL", in: "Ab3dEf9\x00"},
		{desc: "eight bytes with a two-byte rune", in: "Ab3dEf\u00e9"},
		{desc: "eight runes, more bytes", in: "Ab3dEf9\u00e9"},
		{desc: "high byte", in: "Ab3dEf9\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			id, err := paste.ParseID(tt.in)
			if tt.valid {
				if err != nil || id.String() != tt.in {
					t.Errorf("ParseID(%q): got %q, %v, want the id", tt.in, id, err)
				}
				return
			}
			if !errors.Is(err, paste.ErrInvalidID) {
				t.Errorf("ParseID(%q): got %q, %v, want ErrInvalidID", tt.in, id, err)
			}
			if id != "" {
				t.Errorf("ParseID(%q): got id %q with the error, want none", tt.in, id)
			}
		})
	}
}

// FuzzParseID checks ParseID against the rule itself: exactly eight
// characters of [A-Za-z0-9], nothing else.
func FuzzParseID(f *testing.F) {
	f.Add("Ab3dEf9H")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := paste.ParseID(s)
		valid := len(s) == 8 && strings.Trim(s, alphabet) == ""
		if valid != (err == nil) {
			t.Fatalf("ParseID(%q): got %q, %v; valid by the rule: %v", s, id, err, valid)
		}
		if err != nil {
			if !errors.Is(err, paste.ErrInvalidID) || id != "" {
				t.Fatalf("ParseID(%q): got %q, %v, want \"\" and ErrInvalidID", s, id, err)
			}
			return
		}
		if id.String() != s {
			t.Fatalf("ParseID(%q): got %q, want the same text", s, id)
		}
	})
}
