package signature

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// DefaultMaxBodyBytes caps the body Middleware reads before verifying, so an unsigned client
// cannot make the receiver buffer an unbounded request.
const DefaultMaxBodyBytes = 1 << 20

// Option configures Middleware.
type Option func(*middleware)

// WithMaxBodyBytes sets the largest body Middleware accepts; larger requests get 413.
func WithMaxBodyBytes(n int64) Option { return func(m *middleware) { m.maxBody = n } }

// WithTolerance sets how far the timestamp may be from now, either way (DefaultTolerance if unset).
func WithTolerance(d time.Duration) Option { return func(m *middleware) { m.tolerance = d } }

// WithClock sets the clock the timestamp is checked against; hookline.SystemClock fits, and
// tests can pass a fixed one.
func WithClock(c interface{ Now() time.Time }) Option { return func(m *middleware) { m.clock = c } }

// WithLogger logs each rejected request at Info level, with the detailed reason that the client
// does not get.
func WithLogger(l *slog.Logger) Option { return func(m *middleware) { m.log = l } }

type middleware struct {
	profile   Profile
	secrets   []string
	maxBody   int64
	tolerance time.Duration
	clock     interface{ Now() time.Time }
	log       *slog.Logger
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Middleware verifies every request against profile p and secrets before calling the next
// handler. It reads the body (at most WithMaxBodyBytes, default 1 MiB; larger is 413), verifies
// it, and answers 401 with a short plain-text reason when verification fails. On success the
// next handler gets the verified body in r.Body, ready to read again.
//
// Middleware panics if p is invalid or secrets holds no non-empty secret: both are set-up
// mistakes that would reject every request, better caught at start-up.
func Middleware(p Profile, secrets []string, opts ...Option) func(http.Handler) http.Handler {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	m := &middleware{
		profile: p,
		// Copied so a caller reusing its slice cannot change the secrets under a running server.
		secrets: append([]string(nil), secrets...),
		maxBody: DefaultMaxBodyBytes,
		clock:   systemClock{},
	}
	usable := false
	for _, s := range m.secrets {
		usable = usable || s != ""
	}
	if !usable {
		panic(ErrNoSecrets)
	}
	for _, o := range opts {
		o(m)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, m.maxBody))
			if err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					m.reject(w, r, http.StatusRequestEntityTooLarge, "body too large", err)
					return
				}
				m.reject(w, r, http.StatusBadRequest, "cannot read body", err)
				return
			}
			if err := Verify(m.profile, r.Header, body, m.secrets, m.clock.Now(), m.tolerance); err != nil {
				m.reject(w, r, http.StatusUnauthorized, reason(err), err)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			next.ServeHTTP(w, r)
		})
	}
}

func (m *middleware) reject(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	if m.log != nil {
		m.log.Info("webhook rejected", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(msg)+1))
	w.WriteHeader(status)
	if _, werr := io.WriteString(w, msg+"\n"); werr != nil && m.log != nil {
		// The sender went away; there is no one left to tell.
		m.log.Debug("webhook rejection not written", "err", werr)
	}
}

// reason is the short text a rejected sender sees: which check failed, never which secret or
// what signature was expected.
func reason(err error) string {
	switch {
	case errors.Is(err, ErrMissingHeaders):
		return "missing signature headers"
	case errors.Is(err, ErrInvalidTimestamp):
		return "invalid timestamp"
	case errors.Is(err, ErrTimestampTooOld):
		return "timestamp too old"
	case errors.Is(err, ErrTimestampTooNew):
		return "timestamp too new"
	default:
		return "invalid signature"
	}
}
