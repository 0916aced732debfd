package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/hookline/hookline"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestErrorClassification(t *testing.T) {
	t.Parallel()
	pg := func(code string) error { return fmt.Errorf("query: %w", &pgconn.PgError{Code: code}) }
	for _, tc := range []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"connection failure", pg("08006"), true},
		{"connection does not exist", pg("08003"), true},
		{"admin shutdown", pg("57P01"), true},
		{"crash shutdown", pg("57P02"), true},
		{"cannot connect now", pg("57P03"), true},
		{"too many connections", pg("53300"), true},
		{"network error", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, true},
		{"unexpected EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"connect error", &pgconn.ConnectError{}, true},
		{"unique violation", pg("23505"), false},
		{"syntax error", pg("42601"), false},
		{"query canceled", pg("57014"), false},
		{"caller's deadline", fmt.Errorf("timeout: %w", context.DeadlineExceeded), false},
		{"caller's cancellation", context.Canceled, false},
		{"other", errors.New("boom"), false},
	} {
		if got := errors.Is(wrapUnavailable(tc.err), hookline.ErrUnavailable); got != tc.unavailable {
			t.Errorf("%s: unavailable = %v, want %v", tc.name, got, tc.unavailable)
		}
		if got := errors.Is(dbErr(tc.err, "doing %s", "it"), hookline.ErrUnavailable); got != tc.unavailable {
			t.Errorf("%s: dbErr unavailable = %v, want %v", tc.name, got, tc.unavailable)
		}
	}
	if code := hookline.ErrorCode(dbErr(pg("22021"), "insert")); code != hookline.EINVALID {
		t.Errorf("NUL in text: code %q, want %q", code, hookline.EINVALID)
	}
	if !isRetryable(pg("40P01")) || !isRetryable(errConflictVanished) || isRetryable(pg("23505")) {
		t.Error("isRetryable misclassifies deadlocks, vanished conflicts or unique violations")
	}
}
