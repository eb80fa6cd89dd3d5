package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

// ceilingReply is shaped like litepaste's answer to a PUT, so both send about the same bytes.
const ceilingReply = `{"id":"Ab3dEf9H","url":"http://127.0.0.1/Ab3dEf9H","deleteToken":"0123456789abcdef0123456789abcdef"}` + "\n"

// runCeiling is the "ceiling" subcommand: the least a Go HTTP server can do for the same
// requests. GET answers the paste's bytes from memory; PUT reads and discards the body.
// It logs its address the way litepaste does, so the bench finds both the same way.
func runCeiling(args []string) error {
	body, err := parseServerArgs("ceiling", args, nil)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	return serveUntilSignal(l, http.HandlerFunc(ceilingHandler(body)))
}

// parseServerArgs parses a server subcommand's flags: -body, the file whose bytes every
// GET answers (returned), and whatever more flags registers.
func parseServerArgs(name string, args []string, flags func(*flag.FlagSet)) ([]byte, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	bodyPath := fs.String("body", "", "file whose bytes every GET answers")
	if flags != nil {
		flags(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return os.ReadFile(*bodyPath)
}

// serveUntilSignal serves h on l until SIGTERM or SIGINT, then shuts down gracefully.
func serveUntilSignal(l net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	slog.New(slog.NewJSONHandler(os.Stderr, nil)).Info("listening", "addr", l.Addr().String())
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func ceilingHandler(body []byte) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write(body)
		case http.MethodPut, http.MethodPost:
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				http.Error(w, "read failed", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, ceilingReply)
		default:
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	}
}

// listenAddr finds the address in a `{"msg":"listening","addr":...}` log line, or "".
func listenAddr(line []byte) string {
	var rec struct {
		Msg  string `json:"msg"`
		Addr string `json:"addr"`
	}
	if json.Unmarshal(line, &rec) != nil || rec.Msg != "listening" {
		return ""
	}
	_, port, err := net.SplitHostPort(rec.Addr)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("127.0.0.1:%s", port)
}
