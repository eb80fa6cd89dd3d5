package system_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	neturl "net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/litepaste/litepaste/test/kit"
)

// s3Server is a versitygw process serving a POSIX directory on 127.0.0.1:
// each bucket is a directory, each object a file, so tests can look at what
// litestream stored without going through S3.
type s3Server struct {
	t         *testing.T
	bin       string
	root      string // one directory per bucket
	addr      string
	accessLog string
	log       string
	gw        *kit.VersityGW // nil while stopped
}

func startS3(t *testing.T, ts *toolset) *s3Server {
	t.Helper()
	dir := t.TempDir()
	s := &s3Server{
		t:         t,
		bin:       ts.versitygw,
		root:      filepath.Join(dir, "buckets"),
		addr:      fmt.Sprintf("127.0.0.1:%d", kit.FreePort(t)),
		accessLog: filepath.Join(dir, "access.log"),
		log:       filepath.Join(dir, "versitygw.log"),
	}
	if err := os.Mkdir(s.root, 0o755); err != nil {
		t.Fatal(err)
	}
	s.start()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			if b, err := os.ReadFile(s.log); err == nil && len(b) > 0 {
				t.Logf("versitygw log:\n%s", b)
			}
		}
	})
	return s
}

// mirror starts a second versitygw over the same directory, with its own
// address and access log: the requests of a client sent to it (such as a
// replica's follower) are counted apart from the writer's.
func (s *s3Server) mirror() *s3Server {
	s.t.Helper()
	dir := s.t.TempDir()
	m := &s3Server{
		t:         s.t,
		bin:       s.bin,
		root:      s.root,
		addr:      fmt.Sprintf("127.0.0.1:%d", kit.FreePort(s.t)),
		accessLog: filepath.Join(dir, "access.log"),
		log:       filepath.Join(dir, "versitygw.log"),
	}
	m.start()
	s.t.Cleanup(m.stop)
	return m
}

// start runs versitygw (again) on the same address and directory.
func (s *s3Server) start() {
	s.t.Helper()
	lf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer lf.Close()
	if s.gw, err = kit.StartVersityGW(s.bin, s.addr, s.root, s3Key, s3Secret, lf, "--access-log", s.accessLog); err != nil {
		s.t.Fatal(err)
	}
}

// stop ends versitygw: the address then refuses connections.
func (s *s3Server) stop() {
	if s.gw == nil {
		return
	}
	s.gw.Stop()
	s.gw = nil
}

// bucket creates an empty bucket and returns the replica URL of path in it.
func (s *s3Server) bucket(name string) string {
	s.t.Helper()
	if err := os.Mkdir(filepath.Join(s.root, name), 0o755); err != nil {
		s.t.Fatal(err)
	}
	return s.replicaURL(name, "litepaste")
}

func (s *s3Server) replicaURL(bucket, path string) string {
	return fmt.Sprintf("s3://%s/%s?endpoint=http://%s&region=us-east-1", bucket, path, s.addr)
}

// credentials is the environment litestream needs for this server.
func (s *s3Server) credentials() []string {
	return []string{"LITESTREAM_ACCESS_KEY_ID=" + s3Key, "LITESTREAM_SECRET_ACCESS_KEY=" + s3Secret}
}

// objects lists the bucket's objects as "key size mtime" lines, sorted: two
// equal listings mean nothing was written or deleted in between.
func (s *s3Server) objects(bucket string) []string {
	s.t.Helper()
	var out []string
	root := filepath.Join(s.root, bucket)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, fmt.Sprintf("%s %d %d", rel, fi.Size(), fi.ModTime().UnixNano()))
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// hasMarker reports whether the bucket holds a marker made by marker().
// Litestream compresses pages with LZ4: random text stays literal, except
// where a few bytes happen to repeat earlier data, so any of the four
// 16-character quarters of the random part found verbatim will do.
func (s *s3Server) hasMarker(bucket string, m []byte) bool {
	return s.hasMarkerUnder(bucket, "", m)
}

// hasMarkerUnder is hasMarker for the objects under a prefix directory of
// the bucket, such as "litepaste/ltx/9" (the snapshots).
func (s *s3Server) hasMarkerUnder(bucket, dir string, m []byte) bool {
	random := m[bytes.LastIndexByte(m, ':')+1:]
	var parts [][]byte
	for i := 0; i+16 <= len(random); i += 16 {
		parts = append(parts, random[i:i+16])
	}
	found := false
	_ = filepath.WalkDir(filepath.Join(s.root, bucket, dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for _, part := range parts {
			if bytes.Contains(b, part) {
				found = true
			}
		}
		return nil
	})
	return found
}

// requests counts the S3 operations on bucket in the access log, by name,
// from line `from` on; it also returns the number of lines read.
func (s *s3Server) requests(bucket string, from int) (map[string]int, int) {
	s.t.Helper()
	counts := map[string]int{}
	n := s.scanAccessLog(bucket, from, func(op, _ string) { counts[op]++ })
	return counts, n
}

// levelLists counts, from line `from` on, the LISTs of one level of the
// replica at path in bucket (its objects are under PATH/%04x/).
func (s *s3Server) levelLists(bucket, path string, level, from int) int {
	s.t.Helper()
	prefix := "prefix=" + neturl.QueryEscape(fmt.Sprintf("%s/%04x/", path, level))
	n := 0
	s.scanAccessLog(bucket, from, func(op, uri string) {
		if strings.HasPrefix(op, "List") && strings.Contains(uri, prefix) {
			n++
		}
	})
	return n
}

// scanAccessLog calls fn with the operation (without "s3_") and the request
// URI of each request on bucket from line `from` on, and returns the number
// of lines read.
func (s *s3Server) scanAccessLog(bucket string, from int, fn func(op, uri string)) int {
	s.t.Helper()
	f, err := os.Open(s.accessLog)
	if os.IsNotExist(err) {
		return 0
	} else if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		n++
		if n <= from {
			continue
		}
		// owner bucket [date zone] ip requester request-id operation key request-uri ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[1] != bucket {
			continue
		}
		fn(strings.TrimPrefix(fields[7], "s3_"), fields[9])
	}
	return n
}
