package paste

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
)

// NewDeleteToken returns a secret for the uploader and the hash to store.
// Only the hash is ever kept, so a leaked database cannot delete pastes.
func NewDeleteToken() (token string, hash []byte, err error) {
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, fmt.Errorf("read random bytes: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(raw[:])
	return token, HashToken(token), nil
}

// HashToken is the stored form of a delete token.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// TokenMatches compares in constant time, so response timing reveals nothing
// about how much of a guessed token was right.
func TokenMatches(hash []byte, token string) bool {
	if len(hash) == 0 || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare(hash, HashToken(token)) == 1
}
