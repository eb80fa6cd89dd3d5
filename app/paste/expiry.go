package paste

import (
	"strconv"
	"strings"
	"time"
)

// Never is the lifetime of a paste that does not expire.
const Never time.Duration = 0

// ParseLifetime reads a requested lifetime: "never", a Go duration ("90m",
// "1h"), or a whole number of days or weeks ("1d", "30d", "1w").
func ParseLifetime(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	switch s {
	case "never", "0":
		return Never, nil
	case "":
		return 0, ErrInvalidExpiry
	}
	if unit := s[len(s)-1]; unit == 'd' || unit == 'w' {
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n <= 0 || n > 100*366 {
			return 0, ErrInvalidExpiry
		}
		day := 24 * time.Hour
		if unit == 'w' {
			return time.Duration(n) * 7 * day, nil
		}
		return time.Duration(n) * day, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, ErrInvalidExpiry
	}
	return d, nil
}

// Policy is the operator's rule for lifetimes.
type Policy struct {
	Default time.Duration // Never means pastes do not expire unless asked.
	Max     time.Duration // Never means no upper bound.
}

// Lifetime resolves a request: requested is "" when the uploader did not ask.
// Asking for more than the maximum (or for "never" when there is a maximum)
// is an error rather than a silent cut, so the uploader knows what they got.
func (p Policy) Lifetime(requested string) (time.Duration, error) {
	d := p.Default
	if requested != "" {
		var err error
		if d, err = ParseLifetime(requested); err != nil {
			return 0, err
		}
	}
	if p.Max != Never && (d == Never || d > p.Max) {
		if requested == "" {
			return p.Max, nil
		}
		return 0, ErrInvalidExpiry
	}
	return d, nil
}
