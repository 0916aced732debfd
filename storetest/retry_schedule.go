package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// retrySchedules: an event type has no schedule until one is set; nil and an empty schedule
// stay apart (the default, and no retries); the event type's other writes keep it; unknown
// event types are ENOTFOUND; deleting the event type drops it.
func (suite) retrySchedules(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	at := now()
	et := &hookline.EventType{Name: "order.paid", CreatedAt: at, UpdatedAt: at}
	must(t, st.CreateEventType(ctx, et))
	must(t, st.CreateEventType(ctx, &hookline.EventType{Name: "order.refunded", CreatedAt: at, UpdatedAt: at}))

	got, err := st.GetRetrySchedule(ctx, "order.paid")
	if err != nil || got != nil {
		t.Fatalf("schedule of a new event type = %v, %v; want nil", got, err)
	}
	want := []time.Duration{1500 * time.Millisecond, time.Hour, 36*time.Hour + time.Nanosecond}
	must(t, st.SetRetrySchedule(ctx, "order.paid", want))
	if got, err = st.GetRetrySchedule(ctx, "order.paid"); err != nil || !slices.Equal(got, want) {
		t.Fatalf("schedule = %v, %v; want %v", got, err, want)
	}
	if other, err := st.GetRetrySchedule(ctx, "order.refunded"); err != nil || other != nil {
		t.Fatalf("another event type's schedule = %v, %v; want nil", other, err)
	}

	// Updating the event type keeps its schedule.
	et.Description = "paid"
	must(t, st.UpdateEventType(ctx, et))
	if got, err = st.GetRetrySchedule(ctx, "order.paid"); err != nil || !slices.Equal(got, want) {
		t.Fatalf("schedule after an update of the event type = %v, %v; want %v", got, err, want)
	}

	must(t, st.SetRetrySchedule(ctx, "order.paid", []time.Duration{}))
	if got, err = st.GetRetrySchedule(ctx, "order.paid"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("empty schedule read back as %#v, %v; want an empty, non-nil slice", got, err)
	}
	must(t, st.SetRetrySchedule(ctx, "order.paid", nil))
	if got, err = st.GetRetrySchedule(ctx, "order.paid"); err != nil || got != nil {
		t.Fatalf("removed schedule read back as %#v, %v; want nil", got, err)
	}

	_, err = st.GetRetrySchedule(ctx, "no.such.type")
	wantCode(t, err, hookline.ENOTFOUND)
	wantCode(t, st.SetRetrySchedule(ctx, "no.such.type", want), hookline.ENOTFOUND)

	must(t, st.SetRetrySchedule(ctx, "order.paid", want))
	must(t, st.DeleteEventType(ctx, "order.paid"))
	must(t, st.CreateEventType(ctx, &hookline.EventType{Name: "order.paid", CreatedAt: at, UpdatedAt: at}))
	if got, err = st.GetRetrySchedule(ctx, "order.paid"); err != nil || got != nil {
		t.Fatalf("schedule of an event type made again after a delete = %v, %v; want nil", got, err)
	}
}
