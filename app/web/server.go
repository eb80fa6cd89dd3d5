// Package web is litepaste's HTTP face on Echo v4: the LogPaste-compatible
// API, the upload page, its JS client, and the health endpoints.
package web

import (
	"context"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/litepaste/litepaste/app/paste"
)

// Reads is what serving pastes needs from storage.
type Reads interface {
	// Lookup returns a paste without its body, and a reader over the body
	// that holds at most a chunk of it in memory.
	Lookup(ctx context.Context, id paste.ID, now time.Time) (p paste.Paste, body io.ReadSeeker, err error)
	Ready(ctx context.Context) error
}

// Store is what the writer needs from storage.
type Store interface {
	Reads
	// Insert stores p and returns it named (ID and ETag set).
	Insert(ctx context.Context, p paste.Paste) (paste.Paste, error)
	DeleteWithToken(ctx context.Context, id paste.ID, token string, now time.Time) error
}

// Copy is what a read replica needs from its copy of the writer's database.
type Copy interface {
	Reads
	// Unseen says whether id may name a paste the writer stored that the
	// copy has not received yet.
	Unseen(ctx context.Context, id paste.ID) (bool, error)
}

// Observer receives what the server wants counted (metrics live elsewhere).
type Observer interface {
	Upload(outcome string, size int)
	Lookup(found bool)
	Request(method, route string, status int, elapsed time.Duration)
	// Forward counts a request a replica passed to the writer: kind is
	// "write" or "read", outcome one of ForwardOutcomes.
	Forward(kind, outcome string)
}

// Upload outcomes reported to the Observer.
const (
	OutcomeStored      = "stored"
	OutcomeTooLarge    = "too_large"
	OutcomeEmpty       = "empty"
	OutcomeRateLimited = "rate_limited"
	OutcomeBusy        = "busy"
	OutcomeInvalid     = "invalid"
	OutcomeFailed      = "failed"
)

// Outcomes lists all of them, for an Observer that shows them up front.
func Outcomes() []string {
	return []string{OutcomeStored, OutcomeTooLarge, OutcomeEmpty, OutcomeRateLimited, OutcomeBusy, OutcomeInvalid, OutcomeFailed}
}

// Config is everything the operator can set that the web layer uses.
type Config struct {
	Title    string
	Subtitle string
	// FooterHTML is operator-supplied HTML, shown as is (the page's CSP
	// still forbids any script in it).
	FooterHTML string
	ShowDocs   bool
	// MaxSize is the largest accepted paste in bytes.
	MaxSize int64
	// UploadMemory bounds the bytes of upload bodies held at once; uploads
	// beyond it wait briefly, then get 503.
	UploadMemory int64
	// UploadIdle cuts off a body from which no byte arrived for this long;
	// UploadMinRate, in bytes a second, one that arrives slower on average
	// (after a few seconds' grace). 0 turns either off, leaving the
	// http.Server's read timeout in charge.
	UploadIdle    time.Duration
	UploadMinRate int64
	// UploadsPerClient is how many bodies one client (an address, an IPv6
	// /64) may send at once; more wait briefly, then get 429. 0 is no limit.
	UploadsPerClient int
	// PerMinuteLimit is uploads per client per minute; 0 disables the limit.
	PerMinuteLimit int
	// TrustedProxies are the peers whose X-Forwarded-* headers are believed.
	TrustedProxies []netip.Prefix
	Expiry         paste.Policy
	// Primary is the writer's URL on a read replica (NewReplica), nil on the
	// writer; WriteRetry, how long a replica retries a request the writer
	// did not answer.
	Primary    *url.URL
	WriteRetry time.Duration
}

// Server is the HTTP handler.
type Server struct {
	cfg      Config
	reads    Reads
	store    Store      // nil on a replica
	fwd      *forwarder // nil on the writer
	now      func() time.Time
	log      *slog.Logger
	requests *requestLog
	obs      Observer
	e        *echo.Echo
	proxies  proxyTrust
	limiter  *rateLimiter
	slots    *uploadSlots
	uploads  *byteSemaphore
	pace     bodyPace
	pages    map[string]*template.Template // by file name
	static   staticFiles
	choices  []expiryChoice
	statuses []errorStatus // statusOf's table
	gzip     func(http.Handler) http.HandlerFunc
	// busyWait is how long an upload waits for upload memory; slotWait,
	// for one of its client's upload slots.
	busyWait time.Duration
	slotWait time.Duration
}

// New builds the server; now is the clock (tests inject their own); logs
// receives JSON log lines, one per request and one per notable event, from
// concurrent goroutines.
func New(cfg Config, store Store, now func() time.Time, logs io.Writer, obs Observer) (*Server, error) {
	return newServer(cfg, store, store, nil, now, logs, obs)
}

// NewReplica builds a read replica's server: it serves pastes from copy and
// passes writes, and reads of pastes the copy has not seen yet, to the
// writer at cfg.Primary.
func NewReplica(cfg Config, cp Copy, now func() time.Time, logs io.Writer, obs Observer) (*Server, error) {
	if cfg.Primary == nil {
		return nil, errors.New("a replica needs the writer's URL")
	}
	return newServer(cfg, cp, nil, cp, now, logs, obs)
}

func newServer(cfg Config, reads Reads, store Store, cp Copy, now func() time.Time, logs io.Writer, obs Observer) (*Server, error) {
	if obs == nil {
		obs = nopObserver{}
	}
	if cfg.UploadMemory < cfg.MaxSize {
		cfg.UploadMemory = cfg.MaxSize
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	static, err := loadStatic()
	if err != nil {
		return nil, err
	}
	gzip, err := newGzip()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		reads:    reads,
		store:    store,
		now:      now,
		log:      slog.New(slog.NewJSONHandler(logs, nil)),
		requests: newRequestLog(logs),
		obs:      obs,
		proxies:  proxyTrust{prefixes: cfg.TrustedProxies},
		uploads:  newByteSemaphore(cfg.UploadMemory),
		pages:    pages,
		static:   static,
		choices:  expiryChoices(cfg.Expiry),
		gzip:     gzip,
		pace:     bodyPace{idle: cfg.UploadIdle, grace: 5 * time.Second, minRate: cfg.UploadMinRate},
		busyWait: 10 * time.Second,
		slotWait: 2 * time.Second,
	}
	if cfg.UploadsPerClient > 0 {
		s.slots = newUploadSlots(cfg.UploadsPerClient)
	}
	if cfg.PerMinuteLimit > 0 {
		s.limiter = newRateLimiter(cfg.PerMinuteLimit, time.Minute, now)
	}
	if cp != nil {
		s.fwd = newForwarder(cfg.Primary, cfg.WriteRetry, cp, s.proxies, s.obs, s.log)
	}
	s.statuses = s.errorStatuses()
	s.e = s.routes()
	return s, nil
}

// Handler is the root http.Handler.
func (s *Server) Handler() *echo.Echo { return s.e }

type nopObserver struct{}

func (nopObserver) Upload(string, int)                         {}
func (nopObserver) Lookup(bool)                                {}
func (nopObserver) Request(string, string, int, time.Duration) {}
func (nopObserver) Forward(string, string)                     {}

// textPlain is the type of every plain answer, pastes included.
const textPlain = "text/plain; charset=utf-8"

// text answers msg as textPlain: Echo's String would say charset=UTF-8,
// and pastes and every plain answer share one spelling.
func text(c echo.Context, code int, msg string) error {
	return c.Blob(code, textPlain, []byte(msg))
}
