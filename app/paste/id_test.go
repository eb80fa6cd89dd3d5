package paste_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/paste"
)

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func mustCodec(t testing.TB, key string) *paste.IDCodec {
	t.Helper()
	c, err := paste.NewIDCodec([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const testKey = "0123456789abcdef"

func TestIDCodecRoundTrips(t *testing.T) {
	c := mustCodec(t, testKey)
	numbers := []uint64{0, 1, 2, 61, 62, 1 << 24, 1<<24 - 1, paste.IDSpace / 2, paste.IDSpace - 2, paste.IDSpace - 1}
	base := paste.NextNumber(0, time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC))
	for i := range uint64(5000) {
		numbers = append(numbers, base+i, i*(paste.IDSpace/5000)+i)
	}
	seen := map[paste.ID]uint64{}
	for _, n := range numbers {
		id := c.Encode(n)
		if got, err := paste.ParseID(id.String()); err != nil || got != id {
			t.Fatalf("Encode(%d) = %q: not a valid id (%v)", n, id, err)
		}
		if back := c.Decode(id); back != n {
			t.Fatalf("Decode(Encode(%d) = %q) = %d", n, id, back)
		}
		if m, dup := seen[id]; dup && m != n {
			t.Fatalf("Encode(%d) and Encode(%d) are both %q", m, n, id)
		}
		seen[id] = n
	}
	// Every valid id names some number, and names it back.
	for _, s := range []string{"AAAAAAAA", "99999999", "Ab3dEf9H", "zzzzzzzz"} {
		id, _ := paste.ParseID(s)
		if n := c.Decode(id); n >= paste.IDSpace || c.Encode(n) != id {
			t.Errorf("Decode(%q) = %d, which encodes as %q", s, n, c.Encode(n))
		}
	}
}

func TestIDsUnderAnotherKeyDiffer(t *testing.T) {
	a, b := mustCodec(t, testKey), mustCodec(t, "fedcba9876543210")
	same := 0
	for n := range uint64(1000) {
		if a.Encode(n) == b.Encode(n) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d of 1000 numbers got the same id under two keys", same)
	}
	if _, err := paste.NewIDCodec([]byte("short")); err == nil {
		t.Error("NewIDCodec accepted a 5-byte key")
	}
}

// Consecutive numbers (what a busy server hands out) must give ids that look
// drawn at random: every character equally likely at every position, and no
// id telling anything about the next.
func TestConsecutiveIDsLookRandom(t *testing.T) {
	c := mustCodec(t, testKey)
	const n = 20000
	var counts [256]int
	var perPosition [paste.IDLength]map[byte]bool
	for i := range perPosition {
		perPosition[i] = map[byte]bool{}
	}
	base := paste.NextNumber(0, time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC))
	sharedPrefix := 0
	var prev paste.ID
	for i := range uint64(n) {
		id := c.Encode(base + i)
		for i := 0; i < len(id); i++ {
			counts[id[i]]++
			perPosition[i][id[i]] = true
		}
		if prev != "" && id[:2] == prev[:2] {
			sharedPrefix++
		}
		prev = id
	}
	// Pearson's chi-squared over the 62 symbols (61 degrees of freedom): a
	// uniform draw stays under 150 except about once in 10^12 runs.
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
	// Neighbours share their first two characters 1 time in 3844 by chance.
	if sharedPrefix > 30 {
		t.Errorf("%d of %d consecutive ids share their first two characters with the previous one", sharedPrefix, n)
	}
}

func TestNextNumberFollowsTheClock(t *testing.T) {
	at := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	floor := paste.NextNumber(0, at)
	if floor == 1 || paste.NextNumber(floor, at) != floor+1 {
		t.Fatalf("NextNumber: floor %d, then %d", floor, paste.NextNumber(floor, at))
	}
	// A restored database that lost its last numbers starts past them once
	// the clock has moved on by a millisecond per 64 lost pastes.
	lost := floor + 640
	if got := paste.NextNumber(floor, at.Add(10*time.Millisecond+time.Microsecond)); got <= lost-1 {
		t.Errorf("after 10 ms: got %d, want past %d", got, lost-1)
	}
	if end := paste.NextNumber(0, time.Date(2134, 1, 1, 0, 0, 0, 0, time.UTC)); end < paste.IDSpace-paste.IDSpace/100 {
		t.Errorf("the space should last about 108 years: %d of %d used by 2134", end, paste.IDSpace)
	}
	if got := paste.NextNumber(0, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)); got != 1 {
		t.Errorf("before the epoch: got %d, want 1", got)
	}
}

func TestNamedPasteETag(t *testing.T) {
	created := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	p := paste.New([]byte("body"), created, paste.Never, nil)
	a := p.Named("Ab3dEf9H")
	if a.ID != "Ab3dEf9H" || !strings.HasPrefix(a.ETag, `"Ab3dEf9H-`) || !strings.HasSuffix(a.ETag, `"`) {
		t.Errorf("Named: got id %q, etag %s", a.ID, a.ETag)
	}
	later := paste.New([]byte("body"), created.Add(time.Millisecond), paste.Never, nil).Named("Ab3dEf9H")
	if later.ETag == a.ETag || p.Named("Ab3dEf9I").ETag == a.ETag {
		t.Errorf("different pastes share an etag: %s", a.ETag)
	}
}

func BenchmarkIDCodecEncode(b *testing.B) {
	c := mustCodec(b, testKey)
	for i := range b.N {
		_ = c.Encode(uint64(i))
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

// FuzzIDCodec checks that every valid ID names exactly one number below
// IDSpace and that the number names it back.
func FuzzIDCodec(f *testing.F) {
	c := mustCodec(f, testKey)
	f.Add("Ab3dEf9H")
	f.Add("AAAAAAAA")
	f.Add("99999999")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := paste.ParseID(s)
		if err != nil {
			return
		}
		n := c.Decode(id)
		if n >= paste.IDSpace {
			t.Fatalf("Decode(%q) = %d, outside the id space", s, n)
		}
		if back := c.Encode(n); back != id {
			t.Fatalf("Encode(Decode(%q)) = %q", s, back)
		}
	})
}
