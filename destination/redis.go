package destination

import (
	"context"
	"errors"
	"strconv"
	"sync"

	"github.com/hookline/hookline"
	"github.com/redis/go-redis/v9"
)

// Redis Streams: each attempt is one XADD to the stream, with a field "body" holding the
// payload and one field per header (webhook-id, webhook-timestamp, webhook-signature,
// event-type, ...). It succeeds when Redis answers with the entry's id, which the attempt log
// shows.
//
// URL: redis://[user:password@]host[:port][/db] or rediss:// (TLS). Options: stream (required),
// maxLen (trims the stream to about that many entries: XADD MAXLEN ~).
func init() { Register("redis", redisType{}) }

type redisType struct{}

func (redisType) Check(d hookline.Destination) []FieldError {
	errs := unknownOptions(d, "stream", "maxLen")
	if _, uerrs := checkURL(d.URL, "redis", "rediss"); uerrs != nil {
		errs = append(errs, uerrs...)
	} else if _, err := redis.ParseURL(d.URL); err != nil {
		errs = append(errs, FieldError{"url", err.Error()})
	}
	if d.Options["stream"] == "" {
		errs = append(errs, FieldError{"stream", "is required"})
	}
	if v, ok := d.Options["maxLen"]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 1 {
			errs = append(errs, FieldError{"maxLen", "must be a positive integer"})
		}
	}
	return errs
}

func (redisType) Open(d hookline.Destination, dial DialFunc) (Publisher, error) {
	opt, err := redis.ParseURL(d.URL)
	if err != nil {
		return nil, err
	}
	opt.Dialer = dial
	if opt.TLSConfig != nil { // rediss://: go-redis's own TLS settings, over the policy's dial
		opt.Dialer = tlsDial(dial, opt.TLSConfig)
	}
	opt.MaxRetries = -1   // one XADD per attempt: the retry schedule does the retrying
	opt.DialerRetries = 1 // likewise one dial: a dead broker is a failed attempt at once
	opt.DisableIdentity = true
	opt.PoolSize = 8
	maxLen, _ := strconv.ParseInt(d.Options["maxLen"], 10, 64)
	return &redisPublisher{opt: opt, client: redis.NewClient(opt), stream: d.Options["stream"], maxLen: maxLen}, nil
}

type redisPublisher struct {
	opt    *redis.Options
	stream string
	maxLen int64

	mu     sync.Mutex
	client *redis.Client
}

// current returns the client.
func (p *redisPublisher) current() *redis.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.client
}

// redial replaces c, whose connection failed, with a new client. go-redis's pool answers with its
// last dial error, without dialling, for up to a second after a run of failed dials (its circuit
// breaker): each attempt must dial, so one that comes once the broker is back succeeds.
func (p *redisPublisher) redial(c *redis.Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == c {
		p.client = redis.NewClient(p.opt)
		go c.Close()
	}
}

func (p *redisPublisher) Publish(ctx context.Context, msg Message) (Result, error) {
	c := p.current()
	values := make([]any, 0, 2+2*len(msg.Headers))
	values = append(values, "body", msg.Body)
	for _, k := range msg.HeaderNames() {
		values = append(values, k, msg.Headers[k])
	}
	id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: p.stream, MaxLen: p.maxLen, Approx: p.maxLen > 0, Values: values}).Result()
	if err != nil {
		if !errors.As(err, new(redis.Error)) { // not Redis's answer: no connection, or a broken one
			p.redial(c)
		}
		return Result{}, err
	}
	return Result{Answer: "XADD " + p.stream + " " + id}, nil
}

func (p *redisPublisher) Close() error { return p.current().Close() }

func (redisType) Describe() Description {
	return Description{Title: "Redis Streams", URLPlaceholder: "redis://redis.example.com:6379/0",
		URLHint: "redis:// or rediss:// (TLS); the path is the database number.",
		Options: []Option{
			{Name: "stream", Label: "Stream", Placeholder: "webhooks", Required: true, Hint: "The stream's key: every message is one XADD to it."},
			{Name: "maxLen", Label: "Maximum length", Placeholder: "100000", Hint: "Trim the stream to about this many entries on each XADD; empty keeps every entry."},
		}}
}
