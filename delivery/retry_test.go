package delivery

import (
	"net/http"
	"testing"
	"time"
)

// fixed returns an rnd that always returns v.
func fixed(v float64) func() float64 { return func() float64 { return v } }

// sequence returns an rnd that walks through vs, round and round.
func sequence(vs ...float64) func() float64 {
	i := 0
	return func() float64 {
		v := vs[i%len(vs)]
		i++
		return v
	}
}

var serverError = Result{StatusCode: http.StatusInternalServerError}

func TestDefaultRetryPolicy(t *testing.T) {
	p := DefaultRetryPolicy()
	want := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	if len(p.Schedule) != len(want) {
		t.Fatalf("schedule %v, want %v", p.Schedule, want)
	}
	for i, d := range want {
		if p.Schedule[i] != d {
			t.Errorf("schedule[%d] = %s, want %s", i, p.Schedule[i], d)
		}
	}
	if p.Attempts() != 8 {
		t.Errorf("Attempts() = %d, want 8 (the first and 7 retries)", p.Attempts())
	}
	if p.Jitter != 0.2 || p.ThrottleFactor <= 1 || p.MaxRetryAfter != 24*time.Hour {
		t.Errorf("defaults: jitter %v, throttle factor %v, max Retry-After %s", p.Jitter, p.ThrottleFactor, p.MaxRetryAfter)
	}
}

func TestNextFollowsTheScheduleInOrder(t *testing.T) {
	p := DefaultRetryPolicy()
	for i, want := range p.Schedule {
		// rnd 0.5 is the middle of the jitter range: no jitter at all.
		got, retry := p.Next(i+1, serverError, fixed(0.5))
		if !retry || got != want {
			t.Errorf("after attempt %d: %s, %v; want %s, true", i+1, got, retry, want)
		}
	}
}

func TestNextJitterStaysWithinTwentyPercentAndVaries(t *testing.T) {
	p := DefaultRetryPolicy()
	for i, base := range p.Schedule {
		lo, hi := time.Duration(float64(base)*0.8), time.Duration(float64(base)*1.2)
		// The extremes of rnd's range give the extremes of the jitter.
		if got, _ := p.Next(i+1, serverError, fixed(0)); got != lo {
			t.Errorf("attempt %d, rnd 0: %s, want %s", i+1, got, lo)
		}
		if got, _ := p.Next(i+1, serverError, fixed(0.999999)); got < base || got >= hi {
			t.Errorf("attempt %d, rnd ~1: %s, want in [%s, %s)", i+1, got, base, hi)
		}
		// Spread over its range, rnd gives different delays, each within ±20 %.
		rnd := sequence(0.05, 0.3, 0.5, 0.71, 0.93)
		seen := map[time.Duration]bool{}
		for range 5 {
			got, retry := p.Next(i+1, serverError, rnd)
			if !retry || got < lo || got > hi {
				t.Errorf("attempt %d: %s, %v; want within [%s, %s]", i+1, got, retry, lo, hi)
			}
			seen[got] = true
		}
		if len(seen) != 5 {
			t.Errorf("attempt %d: jitter gave %d distinct delays for 5 distinct random numbers", i+1, len(seen))
		}
	}
	// The real random source varies too and stays in bounds.
	seen := map[time.Duration]bool{}
	for range 50 {
		got, _ := p.Next(2, serverError, nil)
		if got < 4*time.Minute || got > 6*time.Minute {
			t.Fatalf("random jitter: %s outside 5 min ± 20 %%", got)
		}
		seen[got] = true
	}
	if len(seen) < 10 {
		t.Errorf("random jitter gave only %d distinct delays in 50 tries", len(seen))
	}
}

func TestNextBacksOffHarderAfterThrottlingAndTimeouts(t *testing.T) {
	p := DefaultRetryPolicy()
	cases := []struct {
		name   string
		result Result
		factor float64
	}{
		{"500", Result{StatusCode: 500}, 1},
		{"503 without Retry-After", Result{StatusCode: 503}, 1},
		{"connection refused", Result{Kind: FailConnection}, 1},
		{"429", Result{StatusCode: http.StatusTooManyRequests}, p.ThrottleFactor},
		{"timeout", Result{Kind: FailTimeout}, p.ThrottleFactor},
		{"timeout reading a 200", Result{StatusCode: 200, Kind: FailTimeout}, p.ThrottleFactor},
	}
	for _, c := range cases {
		for i, base := range p.Schedule {
			got, retry := p.Next(i+1, c.result, fixed(0.5))
			want := time.Duration(float64(base) * c.factor)
			if !retry || got != want {
				t.Errorf("%s after attempt %d: %s, %v; want %s", c.name, i+1, got, retry, want)
			}
			// The harder back-off is jittered like any other delay.
			if lo, _ := p.Next(i+1, c.result, fixed(0)); lo != time.Duration(float64(want)*0.8) {
				t.Errorf("%s after attempt %d with rnd 0: %s, want %s", c.name, i+1, lo, time.Duration(float64(want)*0.8))
			}
		}
	}
}

func TestNextHonoursRetryAfterWithinBounds(t *testing.T) {
	p := DefaultRetryPolicy()
	cases := []struct {
		name       string
		attempts   int
		status     int
		retryAfter time.Duration
		want       time.Duration
	}{
		{"later than the schedule", 1, 503, time.Hour, time.Hour},
		{"429 later than the throttled schedule", 1, 429, 90 * time.Second, 90 * time.Second},
		{"sooner than the schedule is ignored", 2, 503, 10 * time.Second, 5 * time.Minute},
		{"sooner than the throttled schedule is ignored", 2, 429, 6 * time.Minute, 10 * time.Minute},
		{"bounded by MaxRetryAfter", 1, 503, 72 * time.Hour, 24 * time.Hour},
		{"bounded, but the schedule is longer", 7, 503, 72 * time.Hour, 24 * time.Hour},
	}
	for _, c := range cases {
		got, retry := p.Next(c.attempts, Result{StatusCode: c.status, RetryAfter: c.retryAfter}, fixed(0.5))
		if !retry || got != c.want {
			t.Errorf("%s: %s, %v; want %s", c.name, got, retry, c.want)
		}
	}
	// The 10 h entries are still 10 h (±jitter) when Retry-After asks for less.
	if got, _ := p.Next(7, Result{StatusCode: 503, RetryAfter: time.Hour}, fixed(0.5)); got != 10*time.Hour {
		t.Errorf("Retry-After 1h after attempt 7: %s, want 10h", got)
	}
	// Without a bound, Retry-After is taken as it is.
	unbounded := p
	unbounded.MaxRetryAfter = 0
	if got, _ := unbounded.Next(1, Result{StatusCode: 503, RetryAfter: 72 * time.Hour}, fixed(0.5)); got != 72*time.Hour {
		t.Errorf("unbounded Retry-After 72h: %s", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{" 30 ", 30 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"1.5", 0},
		{"99999999999", 365 * 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(2 * time.Hour).Format(time.RFC850), 2 * time.Hour},
		{now.Add(3 * time.Hour).Format(time.ANSIC), 3 * time.Hour},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{now.Format(http.TimeFormat), 0},
	}
	for _, c := range cases {
		if got := parseRetryAfter(c.header, now); got != c.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", c.header, got, c.want)
		}
	}
}

func TestNextDoesNotRetryGone(t *testing.T) {
	p := DefaultRetryPolicy()
	for n := 1; n <= len(p.Schedule); n++ {
		if d, retry := p.Next(n, Result{StatusCode: http.StatusGone}, fixed(0.5)); retry {
			t.Errorf("410 after attempt %d: retry in %s", n, d)
		}
		if d, retry := p.Next(n, Result{StatusCode: http.StatusGone, RetryAfter: time.Minute}, fixed(0.5)); retry {
			t.Errorf("410 with Retry-After after attempt %d: retry in %s", n, d)
		}
	}
}

func TestNextExhaustsAfterTheSchedule(t *testing.T) {
	for _, p := range []RetryPolicy{
		DefaultRetryPolicy(),
		{Schedule: []time.Duration{time.Second, 2 * time.Second}, Jitter: 0.2, ThrottleFactor: 2},
		{Schedule: []time.Duration{}},
	} {
		for n := 1; n <= len(p.Schedule); n++ {
			if _, retry := p.Next(n, serverError, fixed(0.5)); !retry {
				t.Errorf("schedule %v: no retry after attempt %d", p.Schedule, n)
			}
		}
		for _, r := range []Result{serverError, {StatusCode: 429, RetryAfter: time.Second}, {Kind: FailTimeout}} {
			if d, retry := p.Next(len(p.Schedule)+1, r, fixed(0.5)); retry {
				t.Errorf("schedule %v: retry in %s after attempt %d (%+v), want exhausted", p.Schedule, d, len(p.Schedule)+1, r)
			}
		}
		if p.Attempts() != len(p.Schedule)+1 {
			t.Errorf("schedule %v: Attempts() = %d", p.Schedule, p.Attempts())
		}
	}
	if _, retry := DefaultRetryPolicy().Next(0, serverError, fixed(0.5)); retry {
		t.Error("Next(0) retries: no attempt was made")
	}
}

func TestBucket(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	t.Run("paced at the rate", func(t *testing.T) {
		b := newBucket(5)
		if ok, _ := b.take(t0); !ok {
			t.Fatal("a new bucket refuses its first request")
		}
		ok, wait := b.take(t0)
		if ok || wait <= 0 || wait > 200*time.Millisecond {
			t.Fatalf("second request at once: ok %v, wait %s; want a wait of at most 200ms", ok, wait)
		}
		if ok, _ := b.take(t0.Add(wait)); !ok {
			t.Fatalf("refused after waiting the %s it asked for", wait)
		}
	})

	t.Run("never more than the rate in any second", func(t *testing.T) {
		for _, rate := range []int{1, 5, 20, 100} {
			b := newBucket(rate)
			// Ask every millisecond for 10 s, after a long idle spell, and count the
			// requests let through in every 1 s window.
			var sent []time.Time
			for ms := range 10_000 {
				now := t0.Add(time.Duration(ms) * time.Millisecond)
				if ok, _ := b.take(now); ok {
					sent = append(sent, now)
				}
			}
			most := 0
			for i := range sent {
				n := 0
				for j := i; j < len(sent) && sent[j].Sub(sent[i]) < time.Second; j++ {
					n++
				}
				most = max(most, n)
			}
			if most > rate {
				t.Errorf("rate %d: %d requests within one second", rate, most)
			}
			if total := len(sent); total < 10*rate-1 || total > 10*rate+1 {
				t.Errorf("rate %d: %d requests in 10 s, want about %d", rate, total, 10*rate)
			}
		}
	})

	t.Run("refills to full and no further", func(t *testing.T) {
		b := newBucket(5)
		b.take(t0)
		if b.full(t0) {
			t.Error("full right after a request")
		}
		if !b.full(t0.Add(time.Hour)) {
			t.Error("not full after an hour")
		}
		// A long idle spell does not bank more than the bucket holds.
		now := t0.Add(2 * time.Hour)
		n := 0
		for {
			ok, _ := b.take(now)
			if !ok {
				break
			}
			n++
		}
		if n < 1 || n > 5 {
			t.Errorf("burst after an idle spell: %d requests, want 1 to 5", n)
		}
	})

	t.Run("clock going backwards", func(t *testing.T) {
		b := newBucket(5)
		b.take(t0)
		ok, wait := b.take(t0.Add(-time.Second))
		if ok || wait <= 0 {
			t.Errorf("earlier time: ok %v, wait %s", ok, wait)
		}
	})

	t.Run("rate changes", func(t *testing.T) {
		b := newBucket(100)
		b.setRate(1)
		if ok, _ := b.take(t0); !ok {
			t.Fatal("refused the first request after lowering the rate")
		}
		ok, wait := b.take(t0)
		if ok || wait < 900*time.Millisecond || wait > time.Second {
			t.Errorf("after lowering the rate to 1/s: ok %v, wait %s; want about 1s", ok, wait)
		}
		b.setRate(10)
		if ok, _ := b.take(t0.Add(100 * time.Millisecond)); !ok {
			t.Error("after raising the rate to 10/s, refused 100ms later")
		}
	})
}
