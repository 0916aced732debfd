// Package testserver starts a real Hookline server for tests: the whole program, wired by the
// server package, on a fresh SQLite file in the test's temporary directory and a free loopback
// port. Nothing is mocked.
package testserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/server"
	"github.com/hookline/hookline/signature"
)

// OperatorToken is the operator token every test server accepts.
const OperatorToken = "hlo_test_operator_token_0123456789"

// Instance is a running test server.
type Instance struct {
	Server *server.Server
	URL    string
	Token  string
	Config config.Config
	T      testing.TB
}

// Options change the default test configuration.
type Options struct {
	// Configure edits the configuration before the server opens.
	Configure func(*config.Config)
	// DataDir reuses a data directory (to test restarts); empty makes a new one.
	DataDir string
	// Clock replaces the system clock (see the clocktest package).
	Clock hookline.Clock
}

// Config returns the default test configuration: dev mode (loopback receivers allowed), a free
// port, the fixed operator token, SQLite in dir.
func Config(dir string) config.Config {
	return config.Config{
		Listen:            "127.0.0.1:0",
		DataDir:           dir,
		Dev:               true,
		OperatorToken:     OperatorToken,
		MaxBodySize:       1 << 20,
		SecretGracePeriod: 24 * time.Hour,
		LogLevel:          "debug",
		LogFormat:         "text",
		SQLiteSynchronous: "NORMAL",
		ShutdownTimeout:   5 * time.Second,

		DeliveryTimeout:      5 * time.Second,
		RetrySchedule:        []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour},
		RetryJitter:          0.2,
		Workers:              32,
		EndpointConcurrency:  8,
		DisableAfterFailures: 10,
		DisableAfterPeriod:   time.Hour,
		SignatureProfile:     signature.Standard(),
		Retention:            720 * time.Hour,
		PollInterval:         time.Second,
		Role:                 "all",
	}
}

// Start opens and starts a server and stops it when the test ends.
func Start(t testing.TB, opts Options) *Instance {
	t.Helper()
	dir := opts.DataDir
	if dir == "" {
		dir = t.TempDir()
	}
	cfg := Config(dir)
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var sopts []server.Option
	if opts.Clock != nil {
		sopts = append(sopts, server.WithClock(opts.Clock))
	}
	srv, err := server.Open(context.Background(), cfg, logger, sopts...)
	if err != nil {
		t.Fatalf("open server: %v", err)
	}
	if err := srv.Start(); err != nil {
		srv.Close()
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return &Instance{Server: srv, URL: srv.URL(), Token: OperatorToken, Config: cfg, T: t}
}

// testWriter sends server logs to the test log, so they show only when a test fails.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Response is a decoded API response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode response %d %s: %v", r.Status, r.Body, err)
	}
}

// Code returns the "code" of an error body, or "".
func (r *Response) Code() string {
	var e struct {
		Code string `json:"code"`
	}
	json.Unmarshal(r.Body, &e)
	return e.Code
}

// Do sends a request with the given token ("" for none) and body (a string or []byte is sent
// as is, anything else as JSON).
func (in *Instance) Do(method, path, token string, body any) *Response {
	in.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			in.T.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, in.URL+path, rd)
	if err != nil {
		in.T.Fatalf("new request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		in.T.Fatalf("read response: %v", err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// Op sends a request with the operator token and fails the test unless the status is want.
func (in *Instance) Op(method, path string, body any, want int) *Response {
	in.T.Helper()
	r := in.Do(method, path, in.Token, body)
	if r.Status != want {
		in.T.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}
