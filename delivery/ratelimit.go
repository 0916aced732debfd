package delivery

import "time"

// bucket paces an endpoint's requests at most rate per second: each request goes at least
// 1/rate after the one before, so an endpoint with rateLimit n never gets more than n requests
// in any second. (A token bucket holding a second's worth would let a full burst through and
// refill during the same second: up to 2n-1 requests in one second.)
type bucket struct {
	interval time.Duration // 1/rate, rounded up so that n intervals never fit in under a second
	last     time.Time     // when the last request went; zero before the first
}

func newBucket(rate int) *bucket {
	b := &bucket{}
	b.setRate(rate)
	return b
}

// take lets a request go now if the last one went at least an interval ago; otherwise it returns
// how long until the next may go.
func (b *bucket) take(now time.Time) (ok bool, wait time.Duration) {
	if !b.last.IsZero() {
		if el := now.Sub(b.last); el < b.interval {
			return false, b.interval - el
		}
	}
	b.last = now
	return true, 0
}

// full reports whether a request could go now, so forgetting the bucket changes nothing.
func (b *bucket) full(now time.Time) bool {
	return b.last.IsZero() || now.Sub(b.last) >= b.interval
}

// setRate follows a changed rate limit.
func (b *bucket) setRate(rate int) {
	rate = max(rate, 1)
	b.interval = (time.Second + time.Duration(rate) - 1) / time.Duration(rate)
}
