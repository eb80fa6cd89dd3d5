package web

import (
	"bytes"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/litepaste/litepaste/app/paste"
	"golang.org/x/sync/semaphore"
)

// Outcomes of a request a replica passed to the writer.
const (
	// ForwardAnswered: the writer answered (whatever its status).
	ForwardAnswered = "answered"
	// ForwardUnreachable: no answer within the retry time; the client got 503.
	ForwardUnreachable = "unreachable"
	// ForwardGone: the client left before the writer answered.
	ForwardGone = "client_gone"
	// ForwardRefused: a read not passed on, over the bound of reads at once.
	ForwardRefused = "refused"
)

// ForwardOutcomes lists them, for an Observer that shows them up front.
func ForwardOutcomes() []string {
	return []string{ForwardAnswered, ForwardUnreachable, ForwardGone, ForwardRefused}
}

// viaReplica names a replica in the Via header of what it passes on, so
// that a replica whose PRIMARY_URL leads to replicas (a Service of the
// replicas, itself) refuses the request instead of passing it round.
const viaReplica = "litepaste-replica"

// statusClientClosed is the status logged for a request whose client left
// before the writer answered.
const statusClientClosed = 499

// Bounds of the reads a replica passes to the writer at once, in all and per
// client, so that reads of pastes the copy has not seen yet cannot pile up
// at the writer: past them a read gets 503 at once.
const (
	forwardedReads          = 16
	forwardedReadsPerClient = 2
)

// forwarder passes a replica's writes, and reads of pastes its copy has not
// seen yet, to the writer through httputil.ReverseProxy. Not Echo's proxy
// middleware: it builds on ReverseProxy's Director, which appends the peer
// to X-Forwarded-For, so behind a proxy of our own the writer would take
// that proxy for the client; Rewrite sends the client as our trust computed it.
type forwarder struct {
	target    *url.URL
	transport http.RoundTripper
	retry     time.Duration
	copy      Copy
	proxies   proxyTrust
	obs       Observer
	log       *slog.Logger
	errorLog  *log.Logger // ReverseProxy's, into log
	reads     *semaphore.Weighted
	perClient *uploadSlots
}

func newForwarder(target *url.URL, retry time.Duration, cp Copy, proxies proxyTrust, obs Observer, log *slog.Logger) *forwarder {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	// An answer that does not come is no answer: past this the request is
	// retried while retry time remains, and otherwise answered 503.
	t.ResponseHeaderTimeout = 30 * time.Second
	return &forwarder{
		target:    target,
		transport: &retryTransport{next: t, within: retry},
		retry:     retry,
		copy:      cp,
		proxies:   proxies,
		obs:       obs,
		log:       log,
		errorLog:  slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		reads:     semaphore.NewWeighted(forwardedReads),
		perClient: newUploadSlots(forwardedReadsPerClient),
	}
}

// forwardUpload receives an upload as the writer would (the same rate and
// per-client limits, size limit and memory budget), so that it can be sent
// again while the writer cannot be reached, then passes it on whole.
func (s *Server) forwardUpload(form bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		client := clientKey(c.RealIP())
		if err := s.admit(client); err != nil {
			return err
		}
		share := budgetShare{budget: s.uploads, ctx: c.Request().Context(), wait: s.busyWait}
		defer share.releaseAll()
		body, err := s.receive(c, client, form, true, &share)
		if err != nil {
			return err
		}
		return s.fwd.pass(c, "write", body)
	}
}

// forwardWrite passes a write without a body (DELETE) to the writer.
func (s *Server) forwardWrite(c echo.Context) error {
	return s.fwd.pass(c, "write", nil)
}

// unseen says whether a read of id that the copy cannot answer goes to the
// writer.
func (f *forwarder) unseen(c echo.Context, id paste.ID) bool {
	ok, err := f.copy.Unseen(c.Request().Context(), id)
	if err != nil {
		f.log.Warn("check for an unseen paste", "err", err)
	}
	return ok && err == nil
}

// read passes a read of a paste the copy has not seen yet to the writer,
// within the bounds of reads at once.
func (f *forwarder) read(c echo.Context) error {
	if !f.reads.TryAcquire(1) {
		f.obs.Forward("read", ForwardRefused)
		return retryError{errBusy, 1}
	}
	defer f.reads.Release(1)
	client := clientKey(c.RealIP())
	if !f.perClient.enter(c.Request().Context(), client, 0) {
		f.obs.Forward("read", ForwardRefused)
		return retryError{errBusy, 1}
	}
	defer f.perClient.leave(client)
	return f.pass(c, "read", nil)
}

// pass sends the request (with body, the bytes already received) to the
// writer and relays its answer unchanged: status, headers and body. The
// writer sees the client's address, host and scheme as this server's
// trust rules found them, and builds its links from them.
func (f *forwarder) pass(c echo.Context, kind string, body []byte) error {
	req := c.Request()
	if slices.ContainsFunc(req.Header.Values("Via"), func(v string) bool { return strings.Contains(v, viaReplica) }) {
		return errForwardLoop
	}
	req.TransferEncoding = nil
	req.Body, req.ContentLength, req.GetBody = http.NoBody, 0, nil
	if len(body) > 0 {
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.Body, _ = req.GetBody()
		req.ContentLength = int64(len(body))
	}
	client := c.RealIP()
	scheme, host, _ := strings.Cut(f.proxies.baseURL(req), "://")
	var failed error
	start := time.Now()
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(f.target)
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Set("X-Forwarded-For", client)
			pr.Out.Header.Set("X-Forwarded-Host", host)
			pr.Out.Header.Set("X-Forwarded-Proto", scheme)
			// The body is here already: no need to ask the writer first.
			pr.Out.Header.Del("Expect")
			pr.Out.Header.Add("Via", "1.1 "+viaReplica)
			if u := f.target.User; u != nil {
				pw, _ := u.Password()
				pr.Out.SetBasicAuth(u.Username(), pw)
			}
		},
		Transport: f.transport,
		// The writer's headers replace ours (its own security and CORS
		// headers among them) rather than adding to them.
		ModifyResponse: func(*http.Response) error {
			clear(c.Response().Header())
			return nil
		},
		ErrorHandler: func(_ http.ResponseWriter, _ *http.Request, err error) { failed = err },
		ErrorLog:     f.errorLog,
	}
	rp.ServeHTTP(c.Response(), req)
	switch {
	case failed == nil:
		f.obs.Forward(kind, ForwardAnswered)
		return nil
	case req.Context().Err() != nil:
		// Nobody reads the answer; the request log shows nginx's 499.
		f.obs.Forward(kind, ForwardGone)
		return echo.NewHTTPError(statusClientClosed)
	}
	f.obs.Forward(kind, ForwardUnreachable)
	f.log.Warn("writer unreachable", "kind", kind, "method", req.Method, "path", req.URL.Path,
		"after", time.Since(start).Round(time.Millisecond).String(), "err", failed.Error())
	return retryError{errWriterDown, ceilSeconds(f.retry)}
}

// retryTransport sends a request again while no answer came (the writer
// refused the connection, or dropped it before its response headers), with
// a short backoff, until within has passed since the first try: a writer
// restart of a second or two is invisible to uploaders. A request the writer
// answered, whatever the answer, is never sent again.
type retryTransport struct {
	next   http.RoundTripper
	within time.Duration
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	deadline := time.Now().Add(t.within)
	wait := 25 * time.Millisecond
	for {
		res, err := t.next.RoundTrip(req)
		left := time.Until(deadline)
		if err == nil || req.Context().Err() != nil || left <= 0 {
			return res, err
		}
		timer := time.NewTimer(min(wait, left))
		select {
		case <-req.Context().Done():
			timer.Stop()
			return nil, err
		case <-timer.C:
		}
		wait = min(2*wait, 400*time.Millisecond)
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
}
