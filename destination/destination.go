// Package destination publishes deliveries to message brokers instead of HTTP receivers. Each
// broker type is one file that implements Type and registers itself under its name; the
// delivery engine keeps one Publisher per endpoint (built by Open, keyed by the endpoint's
// version) and calls Publish for every attempt.
package destination

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"

	"github.com/hookline/hookline"
)

// EventTypeHeader carries the message's event type in every broker message.
const EventTypeHeader = "event-type"

// Message is what one attempt publishes.
type Message struct {
	// Body is the payload, published byte for byte.
	Body []byte
	// Headers are the signature headers (webhook-id, webhook-timestamp, webhook-signature, or
	// the configured profile's), event-type, content-type and the endpoint's custom headers,
	// with lower-case names: they go into the broker's headers or properties.
	Headers map[string]string
}

// HeaderNames returns the message's header names in order, for brokers that list them.
func (m Message) HeaderNames() []string {
	names := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Result is the broker's answer to a publish it accepted, for the attempt log (a stream
// entry's id, a confirmed delivery tag, a stream sequence).
type Result struct {
	Answer string
}

// Publisher publishes the messages of one endpoint. It owns its connection: it dials on first
// use and again after the connection was lost (a broker restart). It must be safe for
// concurrent use.
type Publisher interface {
	// Publish sends msg and returns once the broker has accepted it (acknowledged, confirmed),
	// or with the reason it did not. The context bounds the whole attempt.
	Publish(ctx context.Context, msg Message) (Result, error)
	// Close releases the connection.
	Close() error
}

// DialFunc opens a network connection; the delivery engine's checks the egress policy at dial
// time. Publishers make every connection with it.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Type is a kind of broker.
type Type interface {
	// Check reports what is wrong with d's URL and options, as errors naming the field
	// ("url", or the option's name); none when d can be saved. It does not connect.
	Check(d hookline.Destination) []FieldError
	// Open returns the Publisher of d (already checked). It need not connect yet.
	Open(d hookline.Destination, dial DialFunc) (Publisher, error)
}

// FieldError is one thing wrong with a destination: Field is "url" or an option's name.
type FieldError struct {
	Field, Message string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

var types = map[string]Type{}

// Register makes t the type called name. Types register themselves in their init function.
func Register(name string, t Type) {
	if _, dup := types[name]; dup || name == hookline.EndpointTypeHTTP {
		panic("destination: type registered twice: " + name)
	}
	types[name] = t
}

// Lookup returns the type called name.
func Lookup(name string) (Type, bool) {
	t, ok := types[name]
	return t, ok
}

// Names lists the registered types, sorted.
func Names() []string {
	names := make([]string, 0, len(types))
	for n := range types {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Check checks d against its type: an unknown type, or what the type finds wrong.
func Check(d hookline.Destination) []FieldError {
	t, ok := Lookup(d.Type)
	if !ok {
		return []FieldError{{"type", fmt.Sprintf("unknown destination type %q; one of %s, %s", d.Type,
			hookline.EndpointTypeHTTP, strings.Join(Names(), ", "))}}
	}
	return t.Check(d)
}

// Open returns the Publisher of d.
func Open(d hookline.Destination, dial DialFunc) (Publisher, error) {
	t, ok := Lookup(d.Type)
	if !ok {
		return nil, fmt.Errorf("unknown destination type %q", d.Type)
	}
	return t.Open(d, dial)
}

// Redacted is d's URL without its password, for the attempt log and the API.
func Redacted(d hookline.Destination) string {
	u, err := url.Parse(d.URL)
	if err != nil {
		return d.Type + "://(invalid URL)"
	}
	return u.Redacted()
}

// checkURL parses raw and checks its scheme is one of schemes and that it names a host.
func checkURL(raw string, schemes ...string) (*url.URL, []FieldError) {
	if strings.TrimSpace(raw) == "" {
		return nil, []FieldError{{"url", "is required"}}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, []FieldError{{"url", "is not a valid URL"}}
	}
	ok := false
	for _, s := range schemes {
		ok = ok || u.Scheme == s
	}
	if !ok {
		return nil, []FieldError{{"url", "scheme must be " + strings.Join(schemes, " or ")}}
	}
	if u.Hostname() == "" {
		return nil, []FieldError{{"url", "must name a host"}}
	}
	return u, nil
}

// unknownOptions reports the options of d not among known.
func unknownOptions(d hookline.Destination, known ...string) []FieldError {
	var errs []FieldError
	for _, k := range sortedKeys(d.Options) {
		found := false
		for _, n := range known {
			found = found || k == n
		}
		if !found {
			errs = append(errs, FieldError{k, fmt.Sprintf("is not an option of %s destinations (%s)", d.Type, strings.Join(known, ", "))})
		}
	}
	return errs
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// tlsDial returns dial with a TLS handshake over every connection it makes: the outbound address
// policy applies to the TCP dial, TLS runs on top. config (nil for the defaults: TLS 1.2 or later,
// the system roots) is cloned, and its ServerName, when empty, is the host dialled.
func tlsDial(dial DialFunc, config *tls.Config) DialFunc {
	if config == nil {
		config = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c := config.Clone()
		if c.ServerName == "" {
			c.ServerName, _, _ = net.SplitHostPort(addr)
		}
		tc := tls.Client(conn, c)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		return tc, nil
	}
}
