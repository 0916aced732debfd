// Package transform runs endpoints' transformations: a small JavaScript function, Svix's
// `function handler(webhook) { … return webhook; }`, that may change a delivery's payload,
// method and URL, add headers, or cancel it.
//
// The JavaScript runs in goja, a pure-Go ECMAScript 5.1+ engine, with nothing but the language's
// own built-ins: no require, no timers, no network, no file system, no console. Each call gets a
// fresh goja.Runtime (nothing leaks from one delivery to the next) running a goja.Program that
// is compiled once per endpoint and transformation version (Engine.Program caches it). Each call
// is bounded:
//
//   - Time: the call is interrupted when it has run for Limits.CPU (wall-clock time of the call,
//     checked by a watchdog every millisecond).
//   - Memory: the watchdog also reads the bytes the Go heap has allocated since the call
//     started (runtime/metrics /gc/heap/allocs:bytes) and interrupts the call when they pass
//     Limits.Memory. goja has no heap limit of its own, and Go does not count allocations per
//     goroutine, so the figure is the whole process's. Calls run side by side, up to one per
//     CPU (gate.go); a call stopped at its cap while others ran beside it runs again alone, so
//     a call fails for memory only when its own allocations broke the cap (what else the
//     process allocates meanwhile, HTTP and the database, is counted too: the cap is an upper
//     bound on what the function allocated, never a lower one).
//     Built-ins that allocate a large result in one step (String.prototype.repeat, padStart,
//     padEnd, Array.prototype.fill and join, Array.from) are checked before they run, since a
//     single native call cannot be interrupted half-way; the binary built-ins (ArrayBuffer,
//     typed arrays, DataView) are not there at all.
//   - Stack: at most MaxCallStack nested calls.
//   - Result: the payload, serialised as JSON, is at most MaxPayloadBytes; at most MaxHeaders
//     headers of valid names and values.
//
// A call that breaks a bound, throws, or returns something that is not a webhook object fails
// with an *Error whose text says why, for the attempt log.
package transform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// Defaults for Limits.
const (
	DefaultCPU    = 50 * time.Millisecond
	DefaultMemory = 64 << 20
)

// Bounds on a call and its result.
const (
	// MaxCodeBytes is the longest transformation accepted (Svix's maxLength).
	MaxCodeBytes = 51200
	// MinCodeBytes is the shortest (Svix's minLength).
	MinCodeBytes = 10
	// MaxCallStack is how deep JavaScript calls may nest.
	MaxCallStack = 1000
	// MaxPayloadBytes bounds the transformed payload, serialised as JSON.
	MaxPayloadBytes = 1 << 20
	// MaxHeaders bounds the headers a transformation adds; MaxHeaderBytes their total size.
	MaxHeaders     = 64
	MaxHeaderBytes = 16 << 10
	// MaxURLBytes bounds the transformed URL (Svix's maxLength).
	MaxURLBytes = 65536
)

// Limits bound one call; zero fields take the defaults.
type Limits struct {
	// CPU is the longest a call may run.
	CPU time.Duration
	// Memory is the most the Go heap may allocate while a call runs.
	Memory int64
}

func (l Limits) withDefaults() Limits {
	if l.CPU <= 0 {
		l.CPU = DefaultCPU
	}
	if l.Memory <= 0 {
		l.Memory = DefaultMemory
	}
	return l
}

// Methods are the HTTP methods a transformation may choose (Svix's TransformationHttpMethod).
var Methods = []string{http.MethodPost, http.MethodPut, http.MethodPatch}

// Webhook is the request a transformation receives: what Hookline would send without it.
type Webhook struct {
	Method    string
	URL       string
	EventType string
	Payload   json.RawMessage
}

// Result is the request a transformation returns: what a delivery sends.
type Result struct {
	// Cancel says the delivery is not to be sent at all.
	Cancel  bool
	Method  string
	URL     string
	Payload []byte // JSON
	// Headers are added to the request; they take precedence over the endpoint's headers.
	Headers map[string]string
}

// Error is a transformation that could not be compiled or run, or whose result is not a
// webhook; its text is for people (the attempt log, the API's 422).
type Error struct {
	Reason string
	// Ran is how long the call ran (zero when it did not start).
	Ran time.Duration
}

func (e *Error) Error() string { return e.Reason }

func failf(format string, args ...any) error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// Program is a compiled transformation.
type Program struct {
	prg *goja.Program
}

// Compile compiles code, which must declare a function named handler.
func Compile(code string) (*Program, error) {
	if len(code) > MaxCodeBytes {
		return nil, failf("transformation is %d bytes long; at most %d are allowed", len(code), MaxCodeBytes)
	}
	// The script's completion value is its handler; each call runs it in a fresh runtime.
	prg, err := goja.Compile("transformation.js", code+"\n;(typeof handler === 'function' ? handler : undefined)", false)
	if err != nil {
		return nil, failf("transformation does not compile: %s", compileMessage(err))
	}
	return &Program{prg: prg}, nil
}

func compileMessage(err error) string {
	var ce *goja.CompilerSyntaxError
	if errors.As(err, &ce) {
		return ce.Error()
	}
	return err.Error()
}

// Engine runs transformations within its limits and caches their compiled programs.
type Engine struct {
	limits Limits

	mu    sync.Mutex
	cache map[cacheKey]*Program
}

type cacheKey struct {
	id      string
	version int64
	size    int
}

// maxCached bounds the cache; past it the cache starts over.
const maxCached = 4096

// New returns an Engine with the given limits.
func New(l Limits) *Engine {
	return &Engine{limits: l.withDefaults(), cache: map[cacheKey]*Program{}}
}

// Limits returns the engine's limits, defaults filled in.
func (e *Engine) Limits() Limits { return e.limits }

// Program returns the compiled code of the transformation identified by id at version
// (an endpoint's id and its transformation's update time), compiling it on first use.
func (e *Engine) Program(id string, version time.Time, code string) (*Program, error) {
	key := cacheKey{id: id, version: version.UnixNano(), size: len(code)}
	e.mu.Lock()
	p, ok := e.cache[key]
	e.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := Compile(code)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if len(e.cache) >= maxCached {
		clear(e.cache)
	}
	e.cache[key] = p
	e.mu.Unlock()
	return p, nil
}

// Run calls the program's handler with the webhook and returns the request it describes. Every
// failure is an *Error, except a canceled ctx.
func (e *Engine) Run(ctx context.Context, p *Program, in Webhook) (Result, error) {
	res, again, err := e.run(ctx, p, in, false)
	if again {
		// Stopped at the memory cap while other calls ran: alone, the allocations are its own.
		res, _, err = e.run(ctx, p, in, true)
	}
	return res, err
}

// run makes one call, beside other calls or alone. again says the call was stopped at its
// memory cap while other calls ran beside it, so it should run again alone.
func (e *Engine) run(ctx context.Context, p *Program, in Webhook, alone bool) (res Result, again bool, err error) {
	vm := goja.New()
	vm.SetMaxCallStackSize(MaxCallStack)
	guardBuiltins(vm, e.limits.Memory)

	if err := calls.enter(ctx, alone); err != nil {
		return Result{}, false, err
	}
	defer calls.leave(alone)
	w := watch(vm, e.limits)
	defer func() {
		if w.done() && !alone && ctx.Err() == nil {
			again = true
		}
	}()
	started := time.Now()
	defer func() {
		var te *Error
		if errors.As(err, &te) && te.Ran == 0 {
			te.Ran = time.Since(started)
		}
	}()
	stop := context.AfterFunc(ctx, func() { vm.Interrupt(ctx.Err()) })
	defer stop()
	defer func() {
		if r := recover(); r != nil {
			err = failf("transformation crashed the engine: %v", r)
		}
	}()

	handler, err := vm.RunProgram(p.prg)
	if err != nil {
		return Result{}, false, e.runError(ctx, w, err)
	}
	fn, ok := goja.AssertFunction(handler)
	if !ok {
		return Result{}, false, failf("transformation declares no function named handler")
	}
	obj, err := e.input(vm, in)
	if err != nil {
		return Result{}, false, err
	}
	out, err := fn(goja.Undefined(), obj)
	if err != nil {
		return Result{}, false, e.runError(ctx, w, err)
	}
	res, err = e.output(vm, out)
	if err != nil {
		return Result{}, false, e.runError(ctx, w, err)
	}
	return res, false, nil
}

// runError says why a run failed: the watchdog's reason when it interrupted the call.
func (e *Engine) runError(ctx context.Context, w *watched, err error) error {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if v, ok := ie.Value().(*Error); ok {
			return v
		}
		return failf("transformation was interrupted: %v", ie.Value())
	}
	var se *goja.StackOverflowError
	if errors.As(err, &se) {
		return failf("transformation exceeded the call stack limit of %d", MaxCallStack)
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		msg := ex.Value().String()
		if v, ok := ex.Value().Export().(*Error); ok { // a guarded built-in refused
			return v
		}
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		return failf("transformation threw: %s", msg)
	}
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	return failf("transformation failed: %v", err)
}

// input builds the webhook object handed to the handler.
func (e *Engine) input(vm *goja.Runtime, in Webhook) (goja.Value, error) {
	parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
	payload, err := parse(goja.Undefined(), vm.ToValue(string(in.Payload)))
	if err != nil {
		return nil, failf("the payload is not JSON: %v", err)
	}
	obj := vm.NewObject()
	for _, kv := range []struct {
		k string
		v any
	}{{"method", in.Method}, {"url", in.URL}, {"eventType", in.EventType}, {"payload", payload},
		{"headers", vm.NewObject()}, {"cancel", false}} {
		if err := obj.Set(kv.k, kv.v); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// output reads and checks the handler's return value.
func (e *Engine) output(vm *goja.Runtime, v goja.Value) (Result, error) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return Result{}, failf("handler returned %v; it must return the webhook object", v)
	}
	obj, ok := v.(*goja.Object)
	if !ok || obj.ClassName() != "Object" {
		return Result{}, failf("handler returned %s; it must return the webhook object", describe(v))
	}
	var res Result
	if c := obj.Get("cancel"); c != nil && !goja.IsUndefined(c) && !goja.IsNull(c) {
		b, ok := c.Export().(bool)
		if !ok {
			return Result{}, failf("webhook.cancel is %s; it must be true or false", describe(c))
		}
		res.Cancel = b
	}
	method, err := stringField(obj, "method")
	if err != nil {
		return Result{}, err
	}
	if !validMethod(method) {
		return Result{}, failf("webhook.method is %q; it must be one of %s", method, strings.Join(Methods, ", "))
	}
	res.Method = method
	if res.URL, err = stringField(obj, "url"); err != nil {
		return Result{}, err
	}
	if len(res.URL) > MaxURLBytes {
		return Result{}, failf("webhook.url is %d bytes long; at most %d are allowed", len(res.URL), MaxURLBytes)
	}
	if u, err := url.Parse(res.URL); err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Result{}, failf("webhook.url %q is not an absolute http(s) URL", truncate(res.URL))
	}
	payload := obj.Get("payload")
	if payload == nil || goja.IsUndefined(payload) {
		return Result{}, failf("webhook.payload is undefined; it must be a JSON value")
	}
	stringify, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
	js, err := stringify(goja.Undefined(), payload)
	if err != nil {
		return Result{}, err
	}
	if goja.IsUndefined(js) {
		return Result{}, failf("webhook.payload is %s, which has no JSON form", describe(payload))
	}
	s := js.String()
	if len(s) > MaxPayloadBytes {
		return Result{}, failf("webhook.payload is %d bytes as JSON; at most %d are allowed", len(s), MaxPayloadBytes)
	}
	res.Payload = []byte(s)
	if res.Headers, err = headers(obj.Get("headers")); err != nil {
		return Result{}, err
	}
	return res, nil
}

func validMethod(m string) bool {
	for _, x := range Methods {
		if m == x {
			return true
		}
	}
	return false
}

func stringField(obj *goja.Object, name string) (string, error) {
	v := obj.Get(name)
	if v == nil {
		return "", failf("webhook.%s is missing; it must be a string", name)
	}
	s, ok := v.Export().(string)
	if !ok {
		return "", failf("webhook.%s is %s; it must be a string", name, describe(v))
	}
	return s, nil
}

func headers(v goja.Value) (map[string]string, error) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil, nil
	}
	obj, ok := v.(*goja.Object)
	if !ok || obj.ClassName() != "Object" {
		return nil, failf("webhook.headers is %s; it must be an object of header names and string values", describe(v))
	}
	keys := obj.Keys()
	if len(keys) > MaxHeaders {
		return nil, failf("webhook.headers has %d headers; at most %d are allowed", len(keys), MaxHeaders)
	}
	out := make(map[string]string, len(keys))
	size := 0
	for _, k := range keys {
		hv := obj.Get(k)
		s, ok := hv.Export().(string)
		if !ok {
			return nil, failf("webhook.headers[%q] is %s; header values must be strings", truncate(k), describe(hv))
		}
		if !validHeaderName(k) {
			return nil, failf("webhook.headers has %q, which is not a valid header name", truncate(k))
		}
		if !validHeaderValue(s) {
			return nil, failf("webhook.headers[%q] has a character a header value may not hold", k)
		}
		size += len(k) + len(s)
		if size > MaxHeaderBytes {
			return nil, failf("webhook.headers are larger than %d bytes", MaxHeaderBytes)
		}
		out[k] = s
	}
	return out, nil
}

func describe(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	if o, ok := v.(*goja.Object); ok {
		if o.ClassName() == "Array" {
			return "an array"
		}
		if _, ok := goja.AssertFunction(v); ok {
			return "a function"
		}
		return "an object of class " + o.ClassName()
	}
	switch v.Export().(type) {
	case string:
		return fmt.Sprintf("the string %q", truncate(v.String()))
	case bool:
		return "the boolean " + v.String()
	case int64, float64:
		return "the number " + v.String()
	}
	return "a " + v.ExportType().String()
}

func truncate(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s has no control character but tab.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
