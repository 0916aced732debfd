package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis Streams: endpoint ep publishes to the stream prefix-ep. One consumer reads all the
// streams with XREAD (up to 1,000 entries a stream a call) and trims what it read (XTRIM MINID
// ~), so the shared Redis does not hold the run's entries; the streams are deleted at the end.
func init() { brokerTypes["redis"] = openRedis }

type redisBroker struct {
	url, prefix string
	opt         *redis.Options
	keys        []string
	consumer    *redis.Client
	stop        context.CancelFunc
	done        chan struct{}
}

func openRedis(ctx context.Context, rawURL, prefix string, endpoints int, s *sink) (broker, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	opt.DisableIdentity = true
	b := &redisBroker{url: rawURL, prefix: prefix, opt: opt, done: make(chan struct{})}
	for ep := range endpoints {
		b.keys = append(b.keys, destTarget(prefix, ep))
	}
	b.consumer = redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := b.consumer.Ping(pctx).Err(); err != nil {
		b.consumer.Close()
		return nil, err
	}
	cctx, stop := context.WithCancel(context.Background())
	b.stop = stop
	go b.consume(cctx, s)
	return b, nil
}

// consume reads every stream from its start until ctx ends.
func (b *redisBroker) consume(ctx context.Context, s *sink) {
	defer close(b.done)
	last := make(map[string]string, len(b.keys))
	args := make([]string, 2*len(b.keys))
	copy(args, b.keys)
	for i := range b.keys {
		args[len(b.keys)+i] = "0-0"
	}
	index := make(map[string]int, len(b.keys))
	for i, k := range b.keys {
		index[k] = i
	}
	for ctx.Err() == nil {
		streams, err := b.consumer.XRead(ctx, &redis.XReadArgs{Streams: args, Count: 1000, Block: 200 * time.Millisecond}).Result()
		if err != nil {
			if !errors.Is(err, redis.Nil) && ctx.Err() == nil {
				s.fail(fmt.Errorf("XREAD: %w", err))
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		clear(last)
		for _, st := range streams {
			i, ok := index[st.Stream]
			if !ok {
				continue
			}
			for _, m := range st.Messages {
				id, _ := m.Values["webhook-id"].(string)
				s.arrive(id, i)
				last[st.Stream] = m.ID
			}
			if n := len(st.Messages); n > 0 {
				args[len(b.keys)+i] = st.Messages[n-1].ID
			}
		}
		// Drop what was read: entries before the last one read of each stream (whole nodes
		// only, which costs Redis little).
		pipe := b.consumer.Pipeline()
		for k, id := range last {
			pipe.XTrimMinIDApprox(ctx, k, id, 0)
		}
		if _, err := pipe.Exec(ctx); err != nil && ctx.Err() == nil {
			s.fail(fmt.Errorf("XTRIM: %w", err))
		}
	}
}

func (b *redisBroker) destination(ep int) map[string]any {
	return map[string]any{"type": "redis", "url": b.url, "options": map[string]string{"stream": b.keys[ep]}}
}

func (b *redisBroker) describe() brokerInfo {
	return brokerInfo{
		targets:  fmt.Sprintf("%d streams %s-0…%d", len(b.keys), b.prefix, len(b.keys)-1),
		consumer: "one XREAD client reads them all, 1,000 entries a stream a call, and trims what it read",
		client:   "go-redis XADD",
	}
}

func (b *redisBroker) close(ctx context.Context) error {
	b.stop()
	<-b.done
	defer b.consumer.Close()
	var errs []error
	for i := 0; i < len(b.keys); i += 100 {
		if err := b.consumer.Del(ctx, b.keys[i:min(i+100, len(b.keys))]...).Err(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// redisClient is the baseline's: one go-redis client a lane, with the pool the server's
// publisher has (8 connections).
type redisClient struct {
	b       *redisBroker
	clients []*redis.Client
}

func (b *redisBroker) client(ctx context.Context, lanes int) (brokerClient, error) {
	c := &redisClient{b: b}
	for range lanes {
		opt := *b.opt
		opt.PoolSize = 8
		c.clients = append(c.clients, redis.NewClient(&opt))
	}
	return c, nil
}

func (c *redisClient) publish(ctx context.Context, ep int, body []byte, headers map[string]string) error {
	values := make([]any, 0, 2+2*len(headers))
	values = append(values, "body", body)
	for _, k := range sortedHeaderNames(headers) {
		values = append(values, k, headers[k])
	}
	return c.clients[ep%len(c.clients)].XAdd(ctx, &redis.XAddArgs{Stream: c.b.keys[ep], Values: values}).Err()
}

func (c *redisClient) close() {
	for _, cl := range c.clients {
		cl.Close()
	}
}
