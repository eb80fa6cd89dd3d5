package paste

import (
	"crypto/rand"
	"fmt"
)

// IDLength is the number of characters in every paste ID (LogPaste's format).
const IDLength = 8

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// ID names a paste. Values of this type only ever hold valid IDs: build them
// with NewID or ParseID.
type ID string

// NewID draws a fresh random ID from crypto/rand, without modulo bias.
func NewID() (ID, error) {
	var out [IDLength]byte
	var buf [16]byte
	n := 0
	for n < IDLength {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("read random bytes: %w", err)
		}
		for _, b := range buf {
			// 248 is the largest multiple of 62 below 256: bytes above it would
			// make the first letters likelier.
			if b >= 248 {
				continue
			}
			out[n] = idAlphabet[int(b)%len(idAlphabet)]
			n++
			if n == IDLength {
				break
			}
		}
	}
	return ID(out[:]), nil
}

// ParseID accepts exactly IDLength characters of [A-Za-z0-9].
func ParseID(s string) (ID, error) {
	if len(s) != IDLength {
		return "", ErrInvalidID
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return "", ErrInvalidID
		}
	}
	return ID(s), nil
}

func (id ID) String() string { return string(id) }
