package delivery

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/egress"
)

// hostileReceiver is a TCP server on loopback that reads a request's head and then answers with
// respond, which may write anything, as slowly as it likes. It counts the bytes respond managed
// to write, so a test can see where the client stopped reading.
type hostileReceiver struct {
	ln      net.Listener
	written atomic.Int64
}

func startHostile(t *testing.T, respond func(w io.Writer) error) *hostileReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hostileReceiver{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				io.Copy(io.Discard, req.Body)
				respond(&countingWriter{w: c, n: &h.written})
			}()
		}
	}()
	return h
}

func (h *hostileReceiver) url() string { return "http://" + h.ln.Addr().String() + "/" }

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// repeat writes line n times, stopping at the first error (the client hung up).
func repeat(w io.Writer, line string, n int) error {
	for range n {
		if _, err := io.WriteString(w, line); err != nil {
			return err
		}
	}
	return nil
}

func testSender(timeout time.Duration) *Sender {
	return NewSender(egress.Policy{AllowHTTP: true, AllowPrivate: true}, timeout, 0)
}

func send(s *Sender, url string) Result {
	return s.Send(context.Background(), url, http.Header{"Content-Type": {"application/json"}}, []byte(`{}`), time.Now())
}

// TestSenderBoundsResponseHeaders: a receiver that answers with megabytes of headers, or one
// endless header line, or an endless status line, or thousands of tiny headers, is cut off after
// DefaultMaxResponseHeaderBytes, and the attempt says so.
func TestSenderBoundsResponseHeaders(t *testing.T) {
	want := fmt.Sprintf("response headers exceeded %d bytes", DefaultMaxResponseHeaderBytes)
	pad := strings.Repeat("a", 1000)
	for name, respond := range map[string]func(io.Writer) error{
		"12 MB of headers": func(w io.Writer) error {
			io.WriteString(w, "HTTP/1.1 200 OK\r\n")
			return repeat(w, "X-Pad: "+pad+"\r\n", 12_000)
		},
		"one endless header line": func(w io.Writer) error {
			io.WriteString(w, "HTTP/1.1 200 OK\r\nX-Endless: ")
			return repeat(w, pad, 12_000)
		},
		"an endless status line": func(w io.Writer) error {
			io.WriteString(w, "HTTP/1.1 200 ")
			return repeat(w, pad, 12_000)
		},
		"a million tiny headers": func(w io.Writer) error {
			io.WriteString(w, "HTTP/1.1 200 OK\r\n")
			return repeat(w, "a: b\r\n", 1_000_000)
		},
	} {
		t.Run(name, func(t *testing.T) {
			rc := startHostile(t, respond)
			res := send(testSender(30*time.Second), rc.url())
			if res.OK() || res.StatusCode != 0 || res.Body != want {
				t.Fatalf("result %+v, want no status and %q", res, want)
			}
		})
	}
}

// TestSenderBoundsResponseBody: an endless body is read only up to MaxResponseBytes kept plus
// drainBytes thrown away; then the connection is closed, and the receiver's writes fail.
func TestSenderBoundsResponseBody(t *testing.T) {
	chunk := strings.Repeat("b", 1<<10)
	done := make(chan error, 1)
	rc := startHostile(t, func(w io.Writer) error {
		io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n") // no length: until close
		err := repeat(w, chunk, 1<<20)                                           // 1 GiB
		done <- err
		return err
	})
	res := send(testSender(30*time.Second), rc.url())
	if !res.OK() || len(res.Body) != MaxResponseBytes {
		t.Fatalf("status %d, body of %d bytes; want 200 and %d bytes", res.StatusCode, len(res.Body), MaxResponseBytes)
	}
	if err := <-done; err == nil {
		t.Fatal("the receiver wrote its whole 1 GiB body: the sender kept reading")
	}
	// What the kernel buffers between the two sockets comes on top of what was read.
	if n := rc.written.Load(); n > 64<<20 {
		t.Errorf("the receiver wrote %d bytes before the sender hung up", n)
	}
}

// TestSenderBoundsTrailers: a chunked body followed by an endless trailer ends the read with an
// error instead of growing a header map; the attempt keeps its status and body.
func TestSenderBoundsTrailers(t *testing.T) {
	rc := startHostile(t, func(w io.Writer) error {
		io.WriteString(w, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n2\r\nok\r\n0\r\nX-T: ")
		return repeat(w, strings.Repeat("t", 1000), 12_000)
	})
	res := send(testSender(30*time.Second), rc.url())
	if res.StatusCode != 200 || res.Body != "ok" {
		t.Fatalf("result %+v, want 200 and body ok", res)
	}
	if n := rc.written.Load(); n > 64<<20 {
		t.Errorf("the receiver wrote %d bytes of trailer before the sender hung up", n)
	}
}

// TestSenderBoundsSlowReceivers: a receiver that drips its headers or its body a byte at a
// time, or never finishes a TLS handshake, is given up on as a timeout: the whole attempt is
// bounded by the delivery timeout, not only the wait for the first byte.
func TestSenderBoundsSlowReceivers(t *testing.T) {
	drip := func(w io.Writer, s string) error {
		for {
			for i := range len(s) {
				if _, err := w.Write([]byte{s[i]}); err != nil {
					return err
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	for name, respond := range map[string]func(io.Writer) error{
		"slow headers": func(w io.Writer) error {
			io.WriteString(w, "HTTP/1.1 200 OK\r\n")
			return drip(w, "X-Slow: a\r\n")
		},
		"slow body": func(w io.Writer) error {
			io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
			return drip(w, "b")
		},
	} {
		t.Run(name, func(t *testing.T) {
			rc := startHostile(t, respond)
			res := send(testSender(time.Second), rc.url())
			if res.Kind != FailTimeout {
				t.Fatalf("result %+v, want a timeout", res)
			}
		})
	}
	t.Run("TLS handshake never answered", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close() // read nothing, answer nothing
			}
		}()
		res := send(testSender(time.Second), "https://"+ln.Addr().String()+"/")
		if res.Kind != FailTimeout {
			t.Fatalf("result %+v, want a timeout", res)
		}
	})
}

// TestSenderBoundsHTTP2ResponseHeaders: over HTTP/2 the same bound applies to the header list
// (net/http advertises it in SETTINGS_MAX_HEADER_LIST_SIZE and enforces it).
func TestSenderBoundsHTTP2ResponseHeaders(t *testing.T) {
	pad := strings.Repeat("a", 1000)
	for name, n := range map[string]int{"just over the bound": 40, "far over the bound": 1000} {
		t.Run(name, func(t *testing.T) {
			rc := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for i := range n {
					w.Header().Set(fmt.Sprintf("X-Pad-%d", i), pad)
				}
				w.WriteHeader(200)
			}))
			rc.EnableHTTP2 = true
			rc.StartTLS()
			defer rc.Close()
			s := testSender(30 * time.Second)
			tr := s.client.Transport.(*http.Transport)
			tr.TLSClientConfig.RootCAs = rc.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
			res := send(s, rc.URL)
			if res.OK() || res.StatusCode != 0 {
				t.Fatalf("result %+v, want the response refused", res)
			}
			// A header block far over the bound is not even read: the connection ends.
			want := fmt.Sprintf("response headers exceeded %d bytes", DefaultMaxResponseHeaderBytes)
			if n == 40 && res.Body != want {
				t.Fatalf("result %+v, want %q", res, want)
			}
		})
	}
	// A response within the bound goes through, over HTTP/2.
	rc := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Proto", r.Proto)
		w.WriteHeader(204)
	}))
	rc.EnableHTTP2 = true
	rc.StartTLS()
	defer rc.Close()
	s := testSender(30 * time.Second)
	s.client.Transport.(*http.Transport).TLSClientConfig.RootCAs = rc.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	if res := send(s, rc.URL); res.StatusCode != 204 {
		t.Fatalf("a small HTTP/2 response: %+v", res)
	}
}
