package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// The operator's commands reach the running server over a Unix socket
// beside the database, never over a TCP port: whoever can connect can take
// any paste down, and the socket's file mode (this user only) is what keeps
// everyone else out.

// adminSocketPath is where the admin socket lives: setting, or beside the
// database when it is empty; "off" means none.
func adminSocketPath(dbPath, setting string) string {
	switch setting {
	case "off":
		return ""
	case "":
		return dbPath + "-admin.sock"
	}
	return setting
}

// serveAdmin serves h on a Unix socket at path until the returned stop.
func serveAdmin(path string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	if err := clearStaleSocket(path); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = ln.Close()
		return nil, err
	}
	s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	log.Info("admin socket listening", "socket", path)
	go func() {
		if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin socket", "err", err)
		}
	}()
	// Closing the listener removes the socket file.
	return func() { _ = s.Close() }, nil
}

// clearStaleSocket removes a socket left by a server that is gone (killed);
// one a server still answers on, or a file that is not a socket, stays.
func clearStaleSocket(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		_ = c.Close()
		return fmt.Errorf("another server answers on %s", path)
	}
	return os.Remove(path)
}

// runDelete is `litepaste delete ID...`: it asks the running server to
// take each paste down, whatever its delete token.
func runDelete(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("litepaste delete", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &envFlags{fs: fs, getenv: getenv, envOf: map[string]string{}}
	var dbPath, socket string
	f.String(&dbPath, "db", "DB_PATH", defaultDBPath, "the running server's database (its admin socket lies beside it)")
	f.String(&socket, "adminsocket", "ADMIN_SOCKET", "", "the running server's admin socket, if not beside its database")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: litepaste delete [flags] ID...\n\nTakes each paste down on the running server: from then on it answers 404.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(f.errs) > 0 {
		return f.errs[0]
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("delete: give the ID of each paste to take down")
	}
	path := adminSocketPath(dbPath, socket)
	if path == "" {
		return errors.New("delete: ADMIN_SOCKET is off, so the server takes no operator commands")
	}
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}},
	}
	failed := 0
	for _, id := range fs.Args() {
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, "http://litepaste/pastes/"+url.PathEscape(id), nil)
		if err != nil {
			return err
		}
		res, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("delete: no server answers on %s (is it running, with this DB_PATH or ADMIN_SOCKET?): %w", path, err)
		}
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
		res.Body.Close()
		if res.StatusCode == http.StatusNoContent {
			fmt.Fprintf(stdout, "%s: taken down\n", id)
			continue
		}
		failed++
		fmt.Fprintf(stderr, "%s: %s\n", id, strings.TrimSpace(string(msg)))
	}
	if failed > 0 {
		return fmt.Errorf("delete: %d of %d pastes not taken down", failed, fs.NArg())
	}
	return nil
}
