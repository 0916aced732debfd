// Package api serves Hookline's REST API under /api/v1: the routes and JSON shapes of Svix's
// public API, so the official Svix SDKs work against it, plus Hookline's own token routes. Every
// route is declared once, in routeTable (routes.go), with the description the OpenAPI document
// is built from.
//
// Nothing a client sends is silently dropped (fields.go). A route's Request and Query types are
// the lists of the body fields and query parameters it honours: before the handler runs, wrap
// refuses every body member (at any depth of nested objects; maps, json.RawMessage and payloads
// are free-form) and every query parameter those types do not name, with a 422 whose detail
// items have type "unsupported" and the field's loc. decode only decodes into the route's
// declared Request type. So, for a new route: declare its Request and Query types in
// routeTable, decode with decode(r, &in), read query parameters only if they are fields of the
// Query type; to honour a Svix field, add it to the type and use it; to refuse one, leave it
// out. TestSvixRequestFieldsHonouredOrRefused checks every route against Svix's document.
//
// Errors (errors.go): a 422 is Svix's HTTPValidationError, {"code", "detail": [{"loc", "msg",
// "type"}]}; every other error is {"code", "detail": "<sentence>"}. Handlers return
// *hookline.Error with Fields for per-field problems (fieldError builds one).
//
// Two generations of Svix's models are spoken at once (generations.go): requests take the 1.x
// and the current name of a renamed field (alias); responses carry both, and a field only the
// current models have is tagged svix:"v2", which the 1.x SDKs, whose models refuse unknown
// fields, do not get.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/auth"
	"github.com/hookline/hookline/openapi"
	"github.com/hookline/hookline/service"
)

// Config holds the API's settings.
type Config struct {
	// MaxBodyBytes caps request bodies; larger ones get 413.
	MaxBodyBytes int64
	// Version is reported by the health route and the OpenAPI document.
	Version string
	// PublicURL is the externally visible base URL of portal links; empty: derived per request.
	PublicURL string
	// TokenRateLimit caps requests per second per application token; 0 turns it off.
	TokenRateLimit int
}

// DefaultMaxBodyBytes is the default request size limit: 1 MiB, as Svix's.
const DefaultMaxBodyBytes = 1 << 20

// API is the HTTP API.
type API struct {
	svc     *service.Service
	store   hookline.Store
	cfg     Config
	logger  *slog.Logger
	routes  []route
	openapi []byte
	limiter *tokenLimiter
}

// handlerFunc is a route's handler: it writes a success response or returns an error, which
// writeError turns into the client's error response.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

type route struct {
	op      openapi.Operation
	handler handlerFunc
	// noReplay marks POSTs whose responses carry a token's text: they ignore Idempotency-Key,
	// because a stored response would keep the token in clear for a day.
	noReplay bool
	// portal marks the routes a portal session token may call (logout, whoami); every other
	// route refuses them, as the dashboard is what they are for.
	portal bool
}

// messageTokenRoute is the one route a message token (create-message-token) may call.
const messageTokenRoute = "v1.message.create"

// New returns the API over svc.
func New(svc *service.Service, cfg Config, logger *slog.Logger) (*API, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &API{svc: svc, store: svc.Store(), cfg: cfg, logger: logger, limiter: newTokenLimiter(cfg.TokenRateLimit)}

	a.routes = a.routeTable()
	ops := make([]openapi.Operation, len(a.routes))
	for i, rt := range a.routes {
		ops[i] = rt.op
	}
	doc, err := openapi.Build(openapi.Info{
		Title:       "Hookline API",
		Version:     cfg.Version,
		Description: "Hookline's webhook sending API. Routes and shapes follow Svix's public API, so the Svix SDKs work against it.",
	}, ops)
	if err != nil {
		return nil, fmt.Errorf("api: build OpenAPI document: %w", err)
	}
	a.openapi = doc
	return a, nil
}

// OpenAPI returns the OpenAPI 3.1 document of the API.
func (a *API) OpenAPI() []byte { return a.openapi }

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range a.routes {
		mux.Handle(rt.op.Method+" "+rt.op.Path, a.wrap(rt))
	}
	serveDoc := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(a.openapi)
	}
	mux.HandleFunc("GET /api/v1/openapi.json", serveDoc)
	mux.HandleFunc("GET /openapi.json", serveDoc)
	// Unknown /api/ paths answer in the API's error format, not with the mux's text 404.
	mux.Handle("/api/", a.wrap(route{op: openapi.Operation{Public: true}, handler: func(w http.ResponseWriter, r *http.Request) error {
		return hookline.Errorf(hookline.ENOTFOUND, "no route %s %s", r.Method, r.URL.Path)
	}}))
}

type ctxKey int

const tokenKey ctxKey = 0

// tokenFrom returns the authenticated token of the request.
func tokenFrom(ctx context.Context) *hookline.Token {
	t, _ := ctx.Value(tokenKey).(*hookline.Token)
	return t
}

// wrap applies, in order: panic recovery, the body size limit, authentication, the refusal of
// unsupported fields (fields.go), idempotency keys for POSTs, and error rendering.
func (a *API) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				a.logger.Error("panic in handler", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				a.writeError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		r.Body = http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes)
		if !rt.op.Public {
			tok, err := auth.Authenticate(r.Context(), a.store, r.Header.Get("Authorization"), a.svc.Now())
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="hookline"`)
				a.writeError(w, r, err)
				return
			}
			if err := auth.Touch(r.Context(), a.store, tok, a.svc.Now()); err != nil {
				// The last-use time is for people reading the token list; a request does not
				// fail for it.
				a.logger.Warn("could not record a token's use", "token", tok.ID, "error", err)
			}
			if tok.Kind == hookline.TokenPortal && !rt.portal {
				// Portal sessions are for the dashboard, which checks them itself.
				a.writeError(w, r, hookline.Errorf(hookline.EUNAUTHORIZED, "portal session tokens cannot call the API"))
				return
			}
			if tok.Kind == hookline.TokenMessage && rt.op.ID != messageTokenRoute {
				a.writeError(w, r, hookline.Errorf(hookline.EFORBIDDEN, "this token may only create messages (POST /api/v1/app/{app_id}/msg)"))
				return
			}
			if tok.Kind != hookline.TokenOperator {
				if ok, wait := a.limiter.allow(tok.ID, time.Now()); !ok {
					w.Header().Set("Retry-After", retryAfterSeconds(wait))
					a.writeError(w, r, hookline.Errorf(hookline.ERATELIMITED, "too many requests for this token; retry in %s", wait.Round(time.Millisecond)))
					return
				}
			}
			r = r.WithContext(context.WithValue(r.Context(), tokenKey, tok))
		}
		r = r.WithContext(withRoute(r.Context(), &rt))
		if err := a.checkFields(r, rt); rt.op.ID != "" && err != nil {
			a.writeError(w, r, err)
			return
		}
		out := w
		if rt.op.Response != nil && legacyClient(r) {
			// A 1.x Svix SDK gets the 1.x model (generations.go).
			lw := &legacyWriter{ResponseWriter: w, typ: bodyTypeOf(rt.op.Response), expanded: r.URL.Query().Get("expanded_statuses") == "true"}
			defer lw.flush()
			out = lw
		}
		if key := r.Header.Get("Idempotency-Key"); key != "" && r.Method == http.MethodPost && !rt.op.Public && !rt.noReplay {
			a.serveIdempotent(out, r, key, rt.handler)
			return
		}
		if err := rt.handler(out, r); err != nil {
			a.writeError(out, r, err)
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v == nil {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// readBody reads the request body; one over the limit is EPAYLOADTOOLARGE.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, hookline.Errorf(hookline.EPAYLOADTOOLARGE, "request body is larger than the limit of %d bytes", mbe.Limit)
		}
		return nil, hookline.Errorf(hookline.EINVALIDJSON, "could not read the request body")
	}
	return body, nil
}

// decode reads a JSON body into dst, which must be of the route's Request type. A body that is
// not JSON is EINVALIDJSON (400); a field of the wrong type is EINVALID (422) naming the field;
// a member dst does not decode is EINVALID naming it as unsupported (wrap has refused those
// already; this is the second line); a body over the limit is EPAYLOADTOOLARGE.
func decode(r *http.Request, dst any) error {
	if err := checkDecodeType(r, dst); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return hookline.Errorf(hookline.EINVALIDJSON, "request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return hookline.Errorf(hookline.EINVALIDJSON, "request body is not valid JSON: data after the JSON value")
		}
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		msg := fmt.Sprintf("must be of type %s, not %s", jsonTypeName(te.Type.Kind().String()), te.Value)
		return &hookline.Error{Code: hookline.EINVALID, Message: te.Field + ": " + msg,
			Fields: []hookline.FieldError{{Loc: append([]string{"body"}, strings.Split(te.Field, ".")...), Msg: msg, Type: "type"}}}
	}
	if errors.As(err, &te) {
		return hookline.Errorf(hookline.EINVALIDJSON, "request body must be a JSON object, not %s", te.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if fields := unsupportedFields(body, bodyTypeOf(dst), []string{"body"}); len(fields) > 0 {
			return unsupportedError(fields)
		}
		name, _ = strconv.Unquote(name)
		return unsupportedError([]hookline.FieldError{{Loc: []string{"body", name}, Msg: unsupportedMsg, Type: "unsupported"}})
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return hookline.Errorf(hookline.EINVALIDJSON, "request body is not valid JSON: %s at byte %d", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return hookline.Errorf(hookline.EINVALIDJSON, "request body is not valid JSON: it ends too early")
	}
	return hookline.Errorf(hookline.EINVALIDJSON, "request body is not valid JSON: %s", err.Error())
}

func jsonTypeName(kind string) string {
	switch kind {
	case "int", "int32", "int64", "uint", "uint16", "uint32", "uint64":
		return "integer"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "map", "struct":
		return "object"
	}
	return kind
}

func sortStrings(s []string) { sort.Strings(s) }
