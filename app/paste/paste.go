// Package paste holds litepaste's domain: what a paste is, how it is named and
// validated, and the errors every adapter speaks. It imports nothing of ours.
package paste

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// Paste is one stored upload. Its body never changes once stored.
type Paste struct {
	ID      ID
	Body    []byte
	Created time.Time
	// Expires is the zero time when the paste lives until it is deleted.
	Expires time.Time
	// DeleteTokenHash is the SHA-256 of the delete token handed to the uploader.
	DeleteTokenHash []byte
	// ETag is a strong entity tag of Body.
	ETag string
}

// New builds a paste from an accepted upload; it has no ID (nor ETag) until
// the store names it (see Named).
func New(body []byte, created time.Time, lifetime time.Duration, tokenHash []byte) Paste {
	p := Paste{Body: body, Created: created.UTC(), DeleteTokenHash: tokenHash}
	if lifetime != Never {
		p.Expires = p.Created.Add(lifetime)
	}
	return p
}

// Expired reports whether p can no longer be served at instant now.
func (p Paste) Expired(now time.Time) bool {
	return !p.Expires.IsZero() && !now.Before(p.Expires)
}

// ETag is a strong entity tag for fixed bytes (the page's static files): the
// same bytes give the same tag.
func ETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// The domain's errors. Adapters return these (wrapped or not); the web layer
// maps each to one status code and one fixed message. Errors of the HTTP
// transport alone (a body too large or malformed, a client over its rate,
// a server out of upload memory) are the web layer's own.
var (
	ErrNotFound      = errors.New("paste not found")
	ErrInvalidID     = errors.New("invalid paste id")
	ErrEmpty         = errors.New("paste is empty")
	ErrForbidden     = errors.New("delete token does not match")
	ErrInvalidExpiry = errors.New("invalid expiry")
	ErrIDsExhausted  = errors.New("no paste ids left")
	ErrStorageFull   = errors.New("storage is full")
	ErrStoreReadOnly = errors.New("storage is read-only")
	// ErrStoreNotReady is a read replica whose copy of the database cannot
	// be read yet (not restored, or not a schema this server reads).
	ErrStoreNotReady = errors.New("storage is not ready")
)

// CheckBody rejects bodies that hold nothing worth sharing.
func CheckBody(body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return ErrEmpty
	}
	return nil
}
