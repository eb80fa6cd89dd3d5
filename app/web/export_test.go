package web

import (
	"net/http"
	"time"
)

// Hooks for the external tests: state they must observe or shorten, and
// nothing else.

// RateLimitedClients is how many clients the rate limiter remembers.
func (s *Server) RateLimitedClients() int {
	if s.limiter == nil {
		return 0
	}
	return s.limiter.size()
}

// SetBusyWait shortens how long an upload waits for upload memory.
func (s *Server) SetBusyWait(d time.Duration) { s.busyWait = d }

// SetUploadGrace shortens how long a body may take before the minimum
// upload rate applies.
func (s *Server) SetUploadGrace(d time.Duration) { s.pace.grace = d }

// SetSlotWait shortens how long an upload waits for its client's slot.
func (s *Server) SetSlotWait(d time.Duration) { s.slotWait = d }

// UploadMemoryHeld is the upload memory budget taken now, in bytes.
func (s *Server) UploadMemoryHeld() int64 { return s.uploads.held.Load() }

// UploadsOfClient is how many uploads of the client with this address hold
// or await one of its upload slots.
func (s *Server) UploadsOfClient(ip string) int {
	s.slots.mu.Lock()
	defer s.slots.mu.Unlock()
	if c := s.slots.clients[clientKey(ip)]; c != nil {
		return c.refs
	}
	return 0
}

// UploadingClients is how many clients the upload slots remember.
func (s *Server) UploadingClients() int {
	if s.slots == nil {
		return 0
	}
	return s.slots.size()
}

// Sweep drops idle rate-limiter state now (the limiter also does so by
// itself once per window).
func (s *Server) Sweep() {
	if s.limiter != nil {
		s.limiter.sweep()
	}
}

// NewGzip is the compression wrapper pastes are served through.
func NewGzip() (func(http.Handler) http.HandlerFunc, error) { return newGzip() }
