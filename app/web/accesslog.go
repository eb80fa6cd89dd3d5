package web

import (
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// requestLog writes the one JSON line per request that logRequests emits,
// in the same shape as the other log lines (log/slog's JSON handler):
//
//	{"time":...,"level":"INFO","msg":"request","method":...,"path":...,"status":...,"bytes":...,"duration":<ns>,"client":...}
//
// It is written by hand because it runs on every request: through slog it
// cost about a tenth of the server's CPU under load.
type requestLog struct {
	out   io.Writer
	bufs  sync.Pool
	stamp stamper
}

func newRequestLog(out io.Writer) *requestLog {
	return &requestLog{out: out, bufs: sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}}
}

func (l *requestLog) write(now time.Time, method, path string, status int, size int64, elapsed time.Duration, client string) {
	bp := l.bufs.Get().(*[]byte)
	b := append((*bp)[:0], `{"time":"`...)
	b = l.stamp.append(b, now)
	b = append(b, `","level":"`...)
	if status >= 500 {
		b = append(b, "WARN"...)
	} else {
		b = append(b, "INFO"...)
	}
	b = append(b, `","msg":"request","method":`...)
	b = appendJSONString(b, method)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, size, 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(elapsed), 10)
	b = append(b, `,"client":`...)
	b = appendJSONString(b, client)
	b = append(b, "}\n"...)
	// Nowhere is left to report a failing log stream to.
	_, _ = l.out.Write(b)
	if cap(b) <= 4<<10 {
		*bp = b
		l.bufs.Put(bp)
	}
}

// stamper formats times as time.RFC3339Nano does, reusing the text up to
// the second (and the zone) while the second lasts: formatting it anew for
// every request cost more than the rest of the line.
type stamper struct {
	last atomic.Pointer[stampSecond]
}

type stampSecond struct {
	unix   int64
	loc    *time.Location
	date   string // "2006-01-02T15:04:05"
	offset string // "Z" or "-07:00"
}

func (s *stamper) append(b []byte, t time.Time) []byte {
	sec := s.last.Load()
	if sec == nil || sec.unix != t.Unix() || sec.loc != t.Location() {
		sec = &stampSecond{
			unix:   t.Unix(),
			loc:    t.Location(),
			date:   t.Format("2006-01-02T15:04:05"),
			offset: t.Format("Z07:00"),
		}
		s.last.Store(sec)
	}
	b = append(b, sec.date...)
	if ns := t.Nanosecond(); ns != 0 {
		// Nine digits, trailing zeros dropped, as RFC3339Nano's ".999999999".
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, sec.offset...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD. By hand,
// not encoding/json, for the request log's cost (docs/performance.md, GET);
// FuzzAppendJSONString holds it to encoding/json's output.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript readers.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
			i += n
			start = i
			continue
		}
		i += n
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
