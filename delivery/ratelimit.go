package delivery

import "time"

// bucket is a token bucket: rate tokens per second, holding at most one second's worth, so an
// endpoint with rateLimit n never gets more than about n requests in any second.
type bucket struct {
	rate   float64
	tokens float64
	last   time.Time
}

func newBucket(rate int, now time.Time) *bucket {
	return &bucket{rate: float64(rate), tokens: float64(rate), last: now}
}

func (b *bucket) refill(now time.Time) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(b.rate, b.tokens+el*b.rate)
		b.last = now
	}
}

// take uses a token if one is there; otherwise it returns how long until one will be.
func (b *bucket) take(now time.Time) (ok bool, wait time.Duration) {
	b.refill(now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

// full reports whether the bucket has refilled completely, so forgetting it changes nothing.
func (b *bucket) full(now time.Time) bool {
	b.refill(now)
	return b.tokens >= b.rate
}

// setRate follows a changed rate limit.
func (b *bucket) setRate(rate int) {
	if float64(rate) != b.rate {
		b.rate = float64(rate)
		b.tokens = min(b.tokens, b.rate)
	}
}
