package hostile

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testproc"
	"github.com/hookline/hookline/internal/testserver"
)

// headerBomb is a receiver on loopback that answers every request with a status line and then
// 12 MB of headers, as fast as the client reads them.
func headerBomb(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var b strings.Builder
	b.WriteString("HTTP/1.1 200 OK\r\n")
	line := "X-Bomb: " + strings.Repeat("a", 1000) + "\r\n"
	for b.Len() < 12_000_000 {
		b.WriteString(line)
	}
	answer := []byte(b.String())
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					if _, err := http.ReadRequest(br); err != nil {
						return
					}
					// The request's small JSON body stays unread: the answer does not wait for it.
					if _, err := c.Write(answer); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/"
}

// TestResponseHeadersCannotExhaustMemory: 8 endpoints whose receivers answer with 12 MB of
// headers get 30 messages each. The server, a separate process, keeps its peak resident set
// (VmHWM in /proc) under 150 MiB, and every attempt says why it failed. With Go's default
// bound of 10 MiB per response, the same load took the server past a gigabyte.
func TestResponseHeadersCannotExhaustMemory(t *testing.T) {
	const (
		endpoints = 8
		messages  = 30
		limit     = 150 << 20
	)
	// One attempt per delivery: no retry comes due during the test.
	s := startServer(t, "", "--retry-schedule", "1h", "--delivery-timeout", "10s")
	s.op(t, "POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "paid"}, 201, nil)
	var app struct{ ID string }
	s.op(t, "POST", "/api/v1/app", map[string]any{"name": "Hostile"}, 201, &app)
	epIDs := make([]string, endpoints)
	for i := range endpoints {
		var ep struct{ ID string }
		s.op(t, "POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": headerBomb(t)}, 201, &ep)
		epIDs[i] = ep.ID
	}
	before := s.peakRSS(t)
	for i := range messages {
		s.op(t, "POST", "/api/v1/app/"+app.ID+"/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{"n": i}}, 202, nil)
	}
	testserver.PollUntil(t, 3*time.Minute, "every delivery attempted", func() bool {
		return testproc.Metric(t, s.URL, "hookline_delivery_attempts_total") >= endpoints*messages
	})
	peak := s.peakRSS(t)
	t.Logf("peak RSS: %.1f MiB before the messages, %.1f MiB after %d attempts", float64(before)/(1<<20), float64(peak)/(1<<20), endpoints*messages)
	if peak > limit {
		t.Errorf("the server's peak RSS reached %.1f MiB, over the bound of %d MiB", float64(peak)/(1<<20), limit>>20)
	}
	want := fmt.Sprintf("response headers exceeded %d bytes", 32<<10)
	for _, id := range epIDs {
		var page struct {
			Data []struct {
				Response           string `json:"response"`
				ResponseStatusCode int    `json:"responseStatusCode"`
			} `json:"data"`
		}
		testserver.PollUntil(t, 30*time.Second, "the attempts of "+id+" recorded", func() bool {
			s.op(t, "GET", "/api/v1/app/"+app.ID+"/attempt/endpoint/"+id+"?limit=100", nil, 200, &page)
			return len(page.Data) >= messages
		})
		for _, a := range page.Data {
			if a.Response != want || a.ResponseStatusCode != 0 {
				t.Fatalf("an attempt of %s answered %d %q, want 0 %q", id, a.ResponseStatusCode, a.Response, want)
			}
		}
	}
}
