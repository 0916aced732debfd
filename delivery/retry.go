package delivery

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultSchedule is the delay before each retry after a failed attempt: the first attempt
// goes at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h later (Svix's schedule).
var DefaultSchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// RetryPolicy decides whether and when a failed attempt is tried again.
type RetryPolicy struct {
	// Schedule holds the delays before the 1st, 2nd, ... retry; after the last the message is
	// exhausted at that endpoint.
	Schedule []time.Duration
	// Jitter spreads each delay uniformly by up to this fraction either way (0.2: ±20 %), so
	// endpoints that failed together do not all retry in the same instant.
	Jitter float64
	// ThrottleFactor multiplies the delay after a 429 or a timeout: an endpoint that says it is
	// overloaded, or is too slow to answer, gets more air than one that answered with an error.
	ThrottleFactor float64
	// MaxRetryAfter bounds how long a Retry-After header may push a retry out.
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy returns the default policy.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Schedule: DefaultSchedule, Jitter: 0.2, ThrottleFactor: 2, MaxRetryAfter: 24 * time.Hour}
}

// Attempts is the total number of attempts: the first and one per scheduled retry.
func (p RetryPolicy) Attempts() int { return len(p.Schedule) + 1 }

// Next returns the delay before the next attempt, given how many attempts were made (this one
// included) and how this one failed; retry is false when the message is exhausted or must not
// be retried (410 Gone). rnd returns a float in [0, 1).
func (p RetryPolicy) Next(attemptsMade int, r Result, rnd func() float64) (delay time.Duration, retry bool) {
	if r.StatusCode == http.StatusGone || attemptsMade > len(p.Schedule) || attemptsMade < 1 {
		return 0, false
	}
	delay = p.Schedule[attemptsMade-1]
	if r.StatusCode == http.StatusTooManyRequests || r.Kind == FailTimeout {
		if p.ThrottleFactor > 1 {
			delay = time.Duration(float64(delay) * p.ThrottleFactor)
		}
	}
	if p.Jitter > 0 && delay > 0 {
		if rnd == nil {
			rnd = rand.Float64
		}
		delay = time.Duration(float64(delay) * (1 + p.Jitter*(2*rnd()-1)))
	}
	if r.RetryAfter > 0 {
		// The receiver knows best when it will be back, within reason: never sooner than the
		// schedule, never later than MaxRetryAfter.
		ra := r.RetryAfter
		if p.MaxRetryAfter > 0 && ra > p.MaxRetryAfter {
			ra = p.MaxRetryAfter
		}
		delay = max(delay, ra)
	}
	return delay, true
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(365*24*time.Hour/time.Second) {
			secs = int64(365 * 24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
