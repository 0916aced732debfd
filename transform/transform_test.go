package transform

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func run(t *testing.T, e *Engine, code string) (Result, error) {
	t.Helper()
	p, err := Compile(code)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return e.Run(context.Background(), p, Webhook{Method: "POST", URL: "https://example.com/hook",
		EventType: "order.paid", Payload: json.RawMessage(`{"id":7,"items":[1,2]}`)})
}

func TestRunChangesTheRequest(t *testing.T) {
	e := New(Limits{})
	res, err := run(t, e, `function handler(webhook) {
		webhook.payload = {order: webhook.payload.id, type: webhook.eventType, n: webhook.payload.items.length};
		webhook.method = "PUT";
		webhook.url = webhook.url + "?from=" + webhook.eventType;
		webhook.headers["X-Order"] = String(webhook.payload.order);
		return webhook;
	}`)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Payload) != `{"order":7,"type":"order.paid","n":2}` || res.Method != "PUT" ||
		res.URL != "https://example.com/hook?from=order.paid" || res.Headers["X-Order"] != "7" || res.Cancel {
		t.Fatalf("result %+v (payload %s)", res, res.Payload)
	}
}

func TestRunUnchanged(t *testing.T) {
	res, err := run(t, New(Limits{}), `function handler(webhook) { return webhook; }`)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Payload) != `{"id":7,"items":[1,2]}` || res.Method != "POST" || res.URL != "https://example.com/hook" || len(res.Headers) != 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestRunCancel(t *testing.T) {
	res, err := run(t, New(Limits{}), `function handler(webhook) { webhook.cancel = webhook.payload.id === 7; return webhook; }`)
	if err != nil || !res.Cancel {
		t.Fatalf("result %+v, err %v", res, err)
	}
}

// Each bad function fails with a reason that says what was wrong.
func TestRunFailures(t *testing.T) {
	e := New(Limits{CPU: 50 * time.Millisecond, Memory: 32 << 20})
	for _, c := range []struct{ name, code, reason string }{
		{"loop", `function handler(w) { while (true) {} }`, "ran longer than its budget of 50ms"},
		{"alloc-string", `function handler(w) { var s = "x"; while (true) { s = s + s; } }`, "Invalid array or string length"},
		{"join", `function handler(w) { w.payload = new Array(1 << 28).join("xx"); return w; }`, "asked join for more"},
		{"from", `function handler(w) { w.payload = Array.from({length: 1e9}); return w; }`, "asked from for more"},
		{"repeat", `function handler(w) { w.payload = "x".repeat(1e9); return w; }`, "asked repeat for more than its memory cap"},
		{"throw", `function handler(w) { throw new Error("no such customer"); }`, "threw: Error: no such customer"},
		{"recursion", `function handler(w) { return handler(w); }`, "call stack limit"},
		{"no-handler", `function transform(w) { return w; }`, "no function named handler"},
		{"undefined", `function handler(w) { }`, "handler returned undefined"},
		{"number", `function handler(w) { return 42; }`, "handler returned the number 42"},
		{"method", `function handler(w) { w.method = "DELETE"; return w; }`, `webhook.method is "DELETE"`},
		{"url", `function handler(w) { w.url = "ftp://x"; return w; }`, "not an absolute http(s) URL"},
		{"header", `function handler(w) { w.headers = {"X-A": 1}; return w; }`, `webhook.headers["X-A"] is the number 1`},
		{"header-name", `function handler(w) { w.headers = {"X A": "1"}; return w; }`, "not a valid header name"},
		{"header-value", `function handler(w) { w.headers = {"X-A": "a\r\nB: c"}; return w; }`, "may not hold"},
		{"cancel", `function handler(w) { w.cancel = "yes"; return w; }`, "webhook.cancel is the string"},
		{"payload", `function handler(w) { w.payload = undefined; return w; }`, "webhook.payload is undefined"},
		{"big-payload", `function handler(w) { w.payload = "x".repeat(1 << 10).repeat(2 << 10); return w; }`, "at most 1048576"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := run(t, e, c.code)
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("err = %v (%T), want a *transform.Error", err, err)
			}
			if !strings.Contains(te.Reason, c.reason) {
				t.Fatalf("reason %q does not contain %q", te.Reason, c.reason)
			}
			t.Logf("%s after %v", te.Reason, time.Since(start))
		})
	}
}

// A function that allocates without end is stopped at the memory cap, well before its time
// budget here.
func TestRunMemoryCap(t *testing.T) {
	e := New(Limits{CPU: 10 * time.Second, Memory: 32 << 20})
	for _, code := range []string{
		`function handler(w) { var s = "y".repeat(1 << 12), a = []; while (true) { a.push(s.repeat(1 << 10)); } }`,
		`function handler(w) { var a = []; while (true) { a.push({n: a.length, s: "abc" + a.length}); } }`,
	} {
		start := time.Now()
		_, err := run(t, e, code)
		if err == nil || !strings.Contains(err.Error(), "allocated more than its memory cap of 32 MiB") {
			t.Fatalf("err = %v", err)
		}
		t.Logf("%v after %v", err, time.Since(start))
	}
}

func TestCompileErrors(t *testing.T) {
	if _, err := Compile(`function handler(w) { return w`); err == nil || !strings.Contains(err.Error(), "does not compile") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Compile(strings.Repeat(" ", MaxCodeBytes+1)); err == nil {
		t.Fatal("an overlong transformation compiled")
	}
}

// The sandbox has the language and nothing else.
func TestSandbox(t *testing.T) {
	res, err := run(t, New(Limits{}), `function handler(w) {
		w.payload = [typeof require, typeof setTimeout, typeof setInterval, typeof fetch, typeof XMLHttpRequest,
			typeof process, typeof console, typeof globalThis.Deno, typeof ArrayBuffer, typeof Uint8Array];
		return w;
	}`)
	if err != nil {
		t.Fatal(err)
	}
	want := `["undefined","undefined","undefined","undefined","undefined","undefined","undefined","undefined","undefined","undefined"]`
	if string(res.Payload) != want {
		t.Fatalf("payload %s, want %s", res.Payload, want)
	}
}

func TestProgramCache(t *testing.T) {
	e := New(Limits{})
	v := time.Now()
	p1, _ := e.Program("ep_1", v, `function handler(w) { return w; }`)
	p2, _ := e.Program("ep_1", v, `function handler(w) { return w; }`)
	p3, _ := e.Program("ep_1", v.Add(time.Second), `function handler(w) { return w; }`)
	if p1 != p2 || p1 == p3 {
		t.Fatal("programs are not cached per endpoint version")
	}
}

// BenchmarkRun measures a call of a small transformation: a fresh runtime and the handler.
func BenchmarkRun(b *testing.B) {
	e := New(Limits{})
	p, _ := e.Program("ep", time.Time{}, `function handler(w) { w.payload = {wrapped: w.payload}; w.headers["X-T"] = "1"; return w; }`)
	in := Webhook{Method: "POST", URL: "https://example.com/", EventType: "a", Payload: json.RawMessage(`{"id":1,"name":"x"}`)}
	for b.Loop() {
		if _, err := e.Run(context.Background(), p, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunParallel is BenchmarkRun from GOMAXPROCS goroutines: calls run side by side, up to
// one per CPU, so on a machine with idle cores it does more calls a second than BenchmarkRun.
func BenchmarkRunParallel(b *testing.B) {
	e := New(Limits{})
	p, _ := e.Program("ep", time.Time{}, `function handler(w) { w.payload = {wrapped: w.payload}; w.headers["X-T"] = "1"; return w; }`)
	in := Webhook{Method: "POST", URL: "https://example.com/", EventType: "a", Payload: json.RawMessage(`{"id":1,"name":"x"}`)}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Run(context.Background(), p, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
