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
func (s *Server) SetUploadGrace(d time.Duration) { s.uploadGrace = d }

// Sweep drops idle rate-limiter state now (the limiter also does so by
// itself once per window).
func (s *Server) Sweep() {
	if s.limiter != nil {
		s.limiter.sweep()
	}
}

// NewGzip is the compression wrapper pastes are served through.
func NewGzip() (func(http.Handler) http.HandlerFunc, error) { return newGzip() }
