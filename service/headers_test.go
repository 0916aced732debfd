package service

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHeaderRulesMatchNetHTTP: a custom header is accepted exactly when net/http's transport
// would send it. Every byte is tried in a value and in a name, each sent for real to a receiver
// on loopback; a header refused at send time could never be delivered, so it is refused when
// it is saved.
func TestHeaderRulesMatchNetHTTP(t *testing.T) {
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer rc.Close()
	sends := func(name, value string) bool {
		req, err := http.NewRequestWithContext(context.Background(), "POST", rc.URL, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header[name] = []string{value}
		resp, err := rc.Client().Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	}
	accepts := func(name, value string) bool {
		var f fieldErrors
		f.checkHeaders(map[string]string{name: value})
		return f.err() == nil
	}
	refusedValues := 0
	for b := range 256 {
		value := fmt.Sprintf("a%cb", b)
		if got, want := accepts("X-Custom", value), sends("X-Custom", value); got != want {
			t.Errorf("value %q: accepted %v, net/http sends it %v", value, got, want)
		}
		if !sends("X-Custom", value) {
			refusedValues++
		}
		name := fmt.Sprintf("X-A%cB", b)
		if got, want := accepts(name, "v"), sends(name, "v"); got != want {
			t.Errorf("name %q: accepted %v, net/http sends it %v", name, got, want)
		}
	}
	// NUL to US but tab, and DEL: the test would pass vacuously if nothing were refused.
	if refusedValues != 32 {
		t.Errorf("net/http refused %d of the 256 values, want 32", refusedValues)
	}
	// The error names the header.
	var f fieldErrors
	f.checkHeaders(map[string]string{"X-Bell": "ding\x07"})
	if err := f.err(); err == nil || !strings.Contains(fmt.Sprint(err), "X-Bell") {
		t.Errorf("error %v does not name X-Bell", err)
	}
}
