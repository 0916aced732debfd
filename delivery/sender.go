package delivery

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/egress"
)

// MaxResponseBytes is how much of a response body an attempt keeps.
const MaxResponseBytes = 20 << 10

// DefaultMaxResponseHeaderBytes bounds the status line and headers of a response (HTTP/1 and
// HTTP/2 alike): a receiver that sends more is cut off, and the attempt says why. Go's own
// default, 10 MiB per connection, lets a few hostile receivers exhaust the server's memory.
const DefaultMaxResponseHeaderBytes = 32 << 10

// drainBytes is how much more of a response body is read (and thrown away) so the connection
// can be reused; beyond it the connection is closed instead.
const drainBytes = 64 << 10

// FailKind classifies why an attempt got no usable answer.
type FailKind int

// The failure kinds.
const (
	FailNone       FailKind = iota // a response came (its status may still be a failure)
	FailTimeout                    // no complete response within the timeout
	FailConnection                 // refused, reset, unreachable, DNS failure, TLS failure
	FailPolicy                     // the address is not allowed by the egress policy
	FailTransform                  // the endpoint's transformation failed: no request was made
)

// Result is what came of one HTTP request.
type Result struct {
	StatusCode int    // 0 when no response came
	Body       string // the first MaxResponseBytes of the response, or the error for people
	Duration   time.Duration
	Kind       FailKind
	RetryAfter time.Duration // from a Retry-After header, 0 when absent
}

// OK reports whether the attempt succeeded: a 2xx.
func (r Result) OK() bool { return r.Kind == FailNone && r.StatusCode >= 200 && r.StatusCode < 300 }

// Sender makes the HTTP requests of deliveries: connections are pooled and reused, redirects
// are not followed, every address is checked against the egress policy at dial time.
//
// Everything a receiver controls is bounded: the whole attempt (connecting, the TLS handshake,
// a slowly dripped status line, headers or body) by the timeout; the status line and headers
// together by maxHeaderBytes (which also bounds their number); the body kept by
// MaxResponseBytes and the body read at all by MaxResponseBytes+drainBytes; trailers by
// net/http's own 4 KB check.
type Sender struct {
	client         *http.Client
	transport      *http.Transport
	timeout        time.Duration
	maxHeaderBytes int64
	// receivers holds the clients and token sources of endpoints with receiver settings
	// (mutual TLS, a server CA, OAuth 2.0); plain endpoints never look into it.
	receivers endpointRoutes[*receiverRoute]
	// brokers holds the publishers of endpoints with a destination (a message broker).
	brokers endpointRoutes[*brokerRoute]
	// dial opens the connections to brokers, through the egress policy.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// refreshed, when set, stores the refresh token an endpoint's token server rotated to.
	refreshed func(ctx context.Context, ep *hookline.Endpoint, old, new string)
}

// NewSender returns a Sender with the given per-request timeout and bound on the response's
// status line and headers (0 picks DefaultMaxResponseHeaderBytes).
func NewSender(policy egress.Policy, timeout time.Duration, maxHeaderBytes int64) *Sender {
	if maxHeaderBytes <= 0 {
		maxHeaderBytes = DefaultMaxResponseHeaderBytes
	}
	handshake := min(10*time.Second, timeout)
	dialer := &net.Dialer{Timeout: handshake, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		// No proxy from the environment: a proxy would make the dial-time address check
		// meaningless (it would check the proxy, not the receiver).
		Proxy:                 nil,
		DialContext:           policy.DialContext(dialer),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1000,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   handshake,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: timeout,
		// Bounds the status line and headers, and on HTTP/2 the header list.
		MaxResponseHeaderBytes: maxHeaderBytes,
		// No Accept-Encoding: the request is exactly what was signed and configured, and the
		// attempt log keeps the response as the receiver sent it.
		DisableCompression: true,
		TLSClientConfig:    &tls.Config{MinVersion: tls.VersionTLS12},
	}
	return &Sender{
		transport: transport,
		client: &http.Client{
			Transport: transport,
			// A redirect is an answer, not an instruction: following it would let a receiver
			// point Hookline at any address, and a 3xx is not a 2xx.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout:        timeout,
		maxHeaderBytes: maxHeaderBytes,
		receivers:      endpointRoutes[*receiverRoute]{release: (*receiverRoute).close},
		brokers:        endpointRoutes[*brokerRoute]{release: (*brokerRoute).close},
		dial:           policy.DialContext(dialer),
	}
}

// Send POSTs body to url with the given headers and reports what happened. It never returns an
// error: every failure is a Result.
func (s *Sender) Send(ctx context.Context, url string, header http.Header, body []byte, now time.Time) Result {
	return s.SendMethod(ctx, http.MethodPost, url, header, body, now)
}

// SendMethod is Send with another method than POST (an endpoint's transformation may choose
// PUT or PATCH).
func (s *Sender) SendMethod(ctx context.Context, method, url string, header http.Header, body []byte, now time.Time) Result {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.do(ctx, s.client, method, url, header, body, now, time.Now())
}

// do makes the request with client; the attempt started at start.
func (s *Sender) do(ctx context.Context, client *http.Client, method, url string, header http.Header, body []byte, now, start time.Time) Result {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return Result{Kind: FailConnection, Body: "invalid request: " + err.Error()}
	}
	req.Header = header
	req.ContentLength = int64(len(body))
	resp, err := client.Do(req)
	if err != nil {
		return Result{Kind: classify(err), Body: s.describe(err), Duration: time.Since(start)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	res := Result{StatusCode: resp.StatusCode, Body: string(data), Duration: time.Since(start)}
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		res.Kind = FailTimeout
	}
	// Read a little more so the connection goes back to the pool; a huge body is cut off.
	io.Copy(io.Discard, io.LimitReader(resp.Body, drainBytes))
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		res.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return res
}

// isHeaderLimit reports whether err is net/http's refusal of a response whose status line and
// headers are longer than MaxResponseHeaderBytes (HTTP/1: "server response headers exceeded";
// HTTP/2: "response header list larger than advertised limit", or "header list too large" for
// informational responses). net/http exports no error value to compare with. (An HTTP/2 header
// block far over the limit ends the connection with a PROTOCOL_ERROR instead, before it is
// read: the attempt fails as a connection error.)
func isHeaderLimit(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "response headers exceeded") || strings.Contains(msg, "header list larger than") ||
		strings.Contains(msg, "header list too large")
}

func classify(err error) FailKind {
	var pe *egress.Error
	switch {
	case errors.As(err, &pe):
		return FailPolicy
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return FailTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return FailTimeout
	}
	return FailConnection
}

// describe turns a transport error into a short text for the attempt log, without the
// request URL that *url.Error repeats.
func (s *Sender) describe(err error) string {
	var pe *egress.Error
	switch {
	case isHeaderLimit(err):
		return fmt.Sprintf("response headers exceeded %d bytes", s.maxHeaderBytes)
	case errors.As(err, &pe):
		return "refused by egress policy: " + pe.Reason
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by peer"
	case classify(err) == FailTimeout:
		return "timed out waiting for a response"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "DNS lookup failed: " + dnsErr.Error()
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner.Error()
		}
	}
	return err.Error()
}
