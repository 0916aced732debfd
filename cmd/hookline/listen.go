package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/signature"
)

const listenSummary = `Receive webhooks locally: verify each delivery's signature and print it.

hookline listen serves POST on every path. With --secret it checks each request with the
signature package (the same checks a production receiver should make) and answers 401 with the
reason when one fails; without a secret it prints every request but checks nothing. Verified or
unchecked requests get --status (default 200, any 2xx counts as delivered).

To point a Hookline endpoint at it, the server must run in dev mode, which allows http:// and
loopback URLs (never use dev mode in production):

    hookline serve --dev
    curl -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
        -d '{"url":"http://127.0.0.1:9876/webhooks"}' $HOOKLINE/api/v1/app/$APP/endpoint
    curl -H "Authorization: Bearer $TOKEN" $HOOKLINE/api/v1/app/$APP/endpoint/$EP/secret
    hookline listen --secret whsec_...

Then send a message, or POST .../endpoint/$EP/send-example, and watch it arrive. Use the
same --profile as the server's --signature-profile.`

// listenMaxBody caps the body read from one request; deliveries are JSON objects of at most
// the server's max-body-size, 1 MiB by default.
const listenMaxBody = 4 << 20

// listenOptions are the settings of one `hookline listen`.
type listenOptions struct {
	addr      string
	secrets   []string
	profile   signature.Profile
	tolerance time.Duration
	status    int
	json      bool
}

func runListen(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "listen", "[flags]", listenSummary)
	o := listenOptions{}
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9876", "address to listen on; :0 picks a free port")
	fs.Func("secret", "signing secret to verify with (whsec_...); repeat the flag or separate with commas to accept several, as during a rotation (env HOOKLINE_LISTEN_SECRET)", func(v string) error {
		o.secrets = append(o.secrets, splitSecrets(v)...)
		return nil
	})
	profile := fs.String("profile", "standard", "signature profile: a preset ("+strings.Join(signature.PresetNames(), ", ")+"), a JSON profile, or @path to a JSON file")
	fs.DurationVar(&o.tolerance, "tolerance", signature.DefaultTolerance, "how far a delivery's timestamp may be from this machine's clock, either way")
	fs.IntVar(&o.status, "status", http.StatusOK, "HTTP status to answer deliveries that verify (or are not checked) with; a 4xx or 5xx makes Hookline retry")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per delivery on its own line (for jq) instead of a readable block")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if len(o.secrets) == 0 {
		o.secrets = splitSecrets(e.getenv("HOOKLINE_LISTEN_SECRET"))
	}
	var err error
	if o.profile, err = parseProfileFlag(*profile); err != nil {
		return fmt.Errorf("--profile: %w", err)
	}
	if o.status < 200 || o.status > 599 {
		return fmt.Errorf("--status %d must be an HTTP status from 200 to 599", o.status)
	}
	if o.tolerance <= 0 {
		return errors.New("--tolerance must be positive, such as 5m")
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	l := &listener{opts: o, out: e.stdout}
	srv := &http.Server{
		Handler:           l.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	fmt.Fprintf(e.stderr, "hookline listen: receiving webhooks on http://%s (profile %s)\n", ln.Addr(), profileName(*profile))
	if len(o.secrets) == 0 {
		fmt.Fprintln(e.stderr, "hookline listen: WARNING: no --secret given, so signatures are NOT checked; every request is accepted")
	}
	fmt.Fprintln(e.stderr, "hookline listen: press Ctrl-C to stop")

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	<-served
	fmt.Fprintln(e.stderr, "hookline listen: stopped")
	return nil
}

// splitSecrets splits a comma-separated list of secrets, dropping blanks. A whsec_ secret is
// base64, which has no commas.
func splitSecrets(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseProfileFlag reads --profile as the server reads --signature-profile: a preset name, a
// JSON profile, or @path to a JSON file.
func parseProfileFlag(v string) (signature.Profile, error) {
	v = strings.TrimSpace(v)
	if p, ok := signature.Preset(v); ok {
		return p, nil
	}
	data := []byte(v)
	if path, ok := strings.CutPrefix(v, "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return signature.Profile{}, err
		}
		data = b
	} else if !strings.HasPrefix(v, "{") {
		return signature.Profile{}, fmt.Errorf("unknown preset %q (known: %s); or give a JSON profile or @file.json", v, strings.Join(signature.PresetNames(), ", "))
	}
	return signature.ParseProfile(data)
}

func profileName(v string) string {
	if strings.HasPrefix(strings.TrimSpace(v), "{") {
		return "from JSON"
	}
	return v
}

// listener verifies and prints deliveries.
type listener struct {
	opts listenOptions
	mu   sync.Mutex // one delivery's output at a time
	out  io.Writer
}

func (l *listener) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", l.receive)
	return mux
}

// verdicts of a delivery.
const (
	verdictVerified   = "verified"
	verdictUnchecked  = "not checked (no --secret)"
	verdictBodyTooBig = "body too large"
)

func (l *listener) receive(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, listenMaxBody))
	status, verdict, ok := l.opts.status, verdictUnchecked, true
	switch {
	case err != nil:
		status, verdict, ok = http.StatusRequestEntityTooLarge, verdictBodyTooBig, false
		var tooBig *http.MaxBytesError
		if !errors.As(err, &tooBig) {
			status, verdict = http.StatusBadRequest, "cannot read body: "+err.Error()
		}
	case len(l.opts.secrets) > 0:
		if verr := signature.Verify(l.opts.profile, r.Header, body, l.opts.secrets, now, l.opts.tolerance); verr != nil {
			status, verdict, ok = http.StatusUnauthorized, describeVerifyError(verr), false
		} else {
			verdict = verdictVerified
		}
	}
	l.print(now, r, body, verdict, ok)

	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	if status != http.StatusNoContent {
		reply := "ok"
		if !ok {
			reply = verdict
		}
		io.WriteString(w, "hookline listen: "+reply+"\n")
	}
}

// describeVerifyError names the failed check in words, with the detail that helps a developer
// (the receiver is their own; there is no one to hide it from).
func describeVerifyError(err error) string {
	switch {
	case errors.Is(err, signature.ErrInvalidSignature):
		return "invalid signature: no signature matches the given secret(s)"
	case errors.Is(err, signature.ErrMissingHeaders):
		return "missing signature headers: " + err.Error() + " (is --profile right?)"
	default:
		return "invalid signature: " + err.Error()
	}
}

// headerNames returns the id, timestamp and event type header names of the profile; empty
// when it has none.
func headerNames(p signature.Profile) (id, ts, event string) {
	if p.Kind == "" || p.Kind == signature.KindStandard {
		prefix := p.HeaderPrefix
		if prefix == "" {
			prefix = signature.DefaultHeaderPrefix
		}
		return prefix + "-id", prefix + "-timestamp", p.EventTypeHeader
	}
	return p.IDHeader, p.TimestampHeader, p.EventTypeHeader
}

// listenRecord is one delivery as --json prints it.
type listenRecord struct {
	Time      time.Time         `json:"time"`
	Method    string            `json:"method"`
	Path      string            `json:"path"`
	ID        string            `json:"id,omitempty"`
	EventType string            `json:"eventType,omitempty"`
	Timestamp string            `json:"timestamp,omitempty"`
	Verified  bool              `json:"verified"`
	Verdict   string            `json:"verdict"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body,omitempty"`
	BodyText  string            `json:"bodyText,omitempty"`
}

func (l *listener) print(now time.Time, r *http.Request, body []byte, verdict string, ok bool) {
	idH, tsH, evH := headerNames(l.opts.profile)
	get := func(name string) string {
		if name == "" {
			return ""
		}
		return r.Header.Get(name)
	}
	rec := listenRecord{Time: now.UTC(), Method: r.Method, Path: r.URL.RequestURI(), ID: get(idH),
		EventType: get(evH), Timestamp: get(tsH), Verified: verdict == verdictVerified, Verdict: verdict,
		Headers: map[string]string{}}
	if rec.EventType == "" {
		rec.EventType = eventTypeFromBody(body)
	}
	for k, vs := range r.Header {
		rec.Headers[textproto.CanonicalMIMEHeaderKey(k)] = strings.Join(vs, ", ")
	}
	if json.Valid(body) {
		rec.Body = body
	} else {
		rec.BodyText = string(body)
	}

	var b bytes.Buffer
	if l.opts.json {
		data, err := json.Marshal(rec)
		if err != nil {
			data = []byte(`{"error":` + strconv.Quote(err.Error()) + `}`)
		}
		b.Write(data)
		b.WriteByte('\n')
	} else {
		mark := "✔"
		if !ok {
			mark = "✘"
		} else if !rec.Verified {
			mark = "?"
		}
		fmt.Fprintf(&b, "── %s  %s %s\n", rec.Time.Format(time.RFC3339), rec.Method, rec.Path)
		row := func(k, v string) {
			if v != "" {
				fmt.Fprintf(&b, "   %-11s %s\n", k+":", v)
			}
		}
		row("id", rec.ID)
		row("event type", rec.EventType)
		if rec.Timestamp != "" {
			row("timestamp", rec.Timestamp+describeTimestamp(rec.Timestamp, now))
		}
		row("signature", mark+" "+verdict)
		b.WriteString("\n")
		var pretty bytes.Buffer
		switch {
		case len(body) == 0:
			b.WriteString("(empty body)")
		case rec.Body != nil && json.Indent(&pretty, body, "", "  ") == nil:
			b.Write(pretty.Bytes())
		default:
			b.Write(body)
		}
		b.WriteString("\n\n")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.out.Write(b.Bytes())
}

// describeTimestamp renders a unix-seconds header as " (2026-06-12T14:05:00Z, 3s ago)".
func describeTimestamp(v string, now time.Time) string {
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return " (not unix seconds)"
	}
	t := time.Unix(sec, 0).UTC()
	age := now.Sub(t).Round(time.Second)
	when := age.String() + " ago"
	if age < 0 {
		when = (-age).String() + " ahead"
	}
	return " (" + t.Format(time.RFC3339) + ", " + when + ")"
}

// eventTypeFromBody guesses the event type from the envelope fields platforms commonly use,
// for profiles that send no event-type header.
func eventTypeFromBody(body []byte) string {
	var env map[string]json.RawMessage
	if json.Unmarshal(body, &env) != nil {
		return ""
	}
	for _, k := range []string{"type", "eventType", "event_type", "event", "action"} {
		var s string
		if json.Unmarshal(env[k], &s) == nil && s != "" {
			return s
		}
	}
	return ""
}
