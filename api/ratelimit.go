package api

import (
	"math"
	"strconv"
	"sync"
	"time"
)

// tokenLimiter rate-limits requests per application token (the keys platforms hand to their
// customers), so one customer's script cannot starve the others. Operator tokens are the
// platform's own and are not limited.
type tokenLimiter struct {
	rate  float64 // requests per second; 0 disables the limit
	burst float64

	mu      sync.Mutex
	buckets map[string]*tokenBucket
	swept   time.Time
}

type tokenBucket struct {
	tokens float64
	last   time.Time
}

func newTokenLimiter(perSecond int) *tokenLimiter {
	return &tokenLimiter{rate: float64(perSecond), burst: 2 * float64(perSecond), buckets: map[string]*tokenBucket{}}
}

// allow takes one request from the token's bucket, or returns how long to wait.
func (l *tokenLimiter) allow(tokenID string, now time.Time) (bool, time.Duration) {
	if l == nil || l.rate <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		// Forget buckets that have refilled: they hold no state worth keeping.
		for id, b := range l.buckets {
			if now.Sub(b.last).Seconds()*l.rate >= l.burst {
				delete(l.buckets, id)
			}
		}
		l.swept = now
	}
	b := l.buckets[tokenID]
	if b == nil {
		b = &tokenBucket{tokens: l.burst, last: now}
		l.buckets[tokenID] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}
