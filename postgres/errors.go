package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/hookline/hookline"
	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE codes the store reacts to.
const (
	codeUniqueViolation       = "23505"
	codeForeignKeyViolation   = "23503"
	codeDuplicateTable        = "42P07"
	codeDuplicateObject       = "42710"
	codeDeadlockDetected      = "40P01"
	codeSerializationFailure  = "40001"
	codeAdminShutdown         = "57P01"
	codeCrashShutdown         = "57P02"
	codeCannotConnectNow      = "57P03"
	codeCharacterNotInRepert  = "22021" // e.g. a NUL byte in TEXT
	codeUntranslatableChar    = "22P05" // e.g. \u0000 in JSONB
	classConnectionException  = "08"
	classInsufficientResource = "53" // too many connections, disk full, out of memory
)

// sqlState returns the SQLSTATE of a server error, or "".
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// constraintName returns the constraint a server error names, or "".
func constraintName(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.ConstraintName
	}
	return ""
}

func isUniqueViolation(err error) bool { return sqlState(err) == codeUniqueViolation }

// isCatalogCollision reports whether err is what a concurrent CREATE ... IF NOT EXISTS of the
// same table gives the loser of the race.
func isCatalogCollision(err error) bool {
	switch sqlState(err) {
	case codeUniqueViolation, codeDuplicateTable, codeDuplicateObject:
		return true
	}
	return false
}

func isForeignKeyViolation(err error) bool { return sqlState(err) == codeForeignKeyViolation }

// isRetryable reports whether PostgreSQL aborted the transaction only to break a deadlock or
// a serialization conflict, so running it again may succeed.
func isRetryable(err error) bool {
	var re *retryError
	if errors.As(err, &re) {
		return true
	}
	switch sqlState(err) {
	case codeDeadlockDetected, codeSerializationFailure:
		return true
	}
	return false
}

// isUnavailable reports whether err means the database cannot be reached or is going away:
// a failed connect, a broken network connection, or the server refusing or ending sessions.
func isUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	switch code := sqlState(err); {
	case code == "":
	case strings.HasPrefix(code, classConnectionException), strings.HasPrefix(code, classInsufficientResource),
		code == codeAdminShutdown, code == codeCrashShutdown, code == codeCannotConnectNow:
		return true
	default:
		return false // any other server error came over a working connection
	}
	// The caller's own deadline or cancellation is not the database's fault (and
	// context.DeadlineExceeded would otherwise pass for a net.Error below).
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// The server closed the connection under a query.
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// wrapUnavailable marks errors that mean the database cannot be used right now with
// hookline.ErrUnavailable, so the API answers 503, not 500.
func wrapUnavailable(err error) error {
	if isUnavailable(err) {
		return fmt.Errorf("%w: %w", hookline.ErrUnavailable, err)
	}
	return err
}

// dbErr wraps an unexpected database error with what the store was doing. Text that
// PostgreSQL cannot store (a NUL character) is the client's problem, so it becomes EINVALID;
// SQLite would have stored it.
func dbErr(err error, format string, args ...any) error {
	switch sqlState(err) {
	case codeCharacterNotInRepert, codeUntranslatableChar:
		return &hookline.Error{Code: hookline.EINVALID, Message: "a text field contains a character that cannot be stored (such as NUL)"}
	}
	return fmt.Errorf("postgres: "+format+": %w", append(args, wrapUnavailable(err))...)
}
