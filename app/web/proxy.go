package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// proxyTrust decides whose forwarding headers to believe: only peers inside
// the operator's trusted ranges. Everyone else's X-Forwarded-* is ignored, so
// a forged header changes nothing.
type proxyTrust struct {
	prefixes []netip.Prefix
}

func (t proxyTrust) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peerAddr(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	return a.Unmap(), err == nil
}

func (t proxyTrust) peerTrusted(r *http.Request) bool {
	a, ok := peerAddr(r)
	return ok && len(t.prefixes) > 0 && t.trusted(a)
}

// clientIP is the connection's address or, from a trusted proxy, the nearest
// address in X-Forwarded-For that is not itself a trusted proxy. A header
// that does not parse falls back to the peer: it never fails the request.
func (t proxyTrust) clientIP(r *http.Request) string {
	if len(t.prefixes) == 0 {
		// No proxy is trusted: the peer's address as the connection gave
		// it, without parsing (an IPv4 peer needs no normalizing).
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil && strings.IndexByte(host, ':') < 0 {
			return host
		}
	}
	peer, ok := peerAddr(r)
	if !ok {
		return r.RemoteAddr
	}
	if len(t.prefixes) == 0 || !t.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			continue
		}
		a, err := netip.ParseAddr(strings.Trim(hop, "[]"))
		if err != nil {
			return peer.String()
		}
		if !t.trusted(a) {
			return a.Unmap().String()
		}
		peer = a.Unmap()
	}
	return peer.String()
}

// baseURL is the scheme and host the client used: the forwarded ones when the
// request came through a trusted proxy.
func (t proxyTrust) baseURL(r *http.Request) string {
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if t.peerTrusted(r) {
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); validHost(h) {
			host = h
		}
	}
	if !validHost(host) {
		host = "localhost"
	}
	return scheme + "://" + host
}

func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.ToLower(strings.TrimSpace(first))
}

// validHost accepts host[:port] made of the characters a host name or an IP
// literal can hold, so nothing odd is echoed into answers.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_':
		default:
			return false
		}
	}
	return true
}
