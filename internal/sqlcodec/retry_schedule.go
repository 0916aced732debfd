package sqlcodec

import (
	"encoding/json"
	"fmt"
	"time"
)

// EncodeRetrySchedule writes an event type's retry schedule as the column holds it: a JSON array
// of nanoseconds, or NULL (nil) for none. An empty schedule is "[]", not NULL: it means no
// retries, where NULL means the default.
func EncodeRetrySchedule(schedule []time.Duration) (*string, error) {
	if schedule == nil {
		return nil, nil
	}
	ns := make([]int64, len(schedule))
	for i, d := range schedule {
		ns[i] = int64(d)
	}
	b, err := json.Marshal(ns)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

// DecodeRetrySchedule reads the column back: nil for NULL, a non-nil slice otherwise.
func DecodeRetrySchedule(col *string) ([]time.Duration, error) {
	if col == nil {
		return nil, nil
	}
	var ns []int64
	if err := json.Unmarshal([]byte(*col), &ns); err != nil {
		return nil, fmt.Errorf("retry schedule %q: %w", *col, err)
	}
	out := make([]time.Duration, len(ns))
	for i, n := range ns {
		out[i] = time.Duration(n)
	}
	return out, nil
}
