package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hookline/hookline"
)

// TouchToken sets the token's last use to at, unless it is within a minute before at already.
func (db *DB) TouchToken(ctx context.Context, id string, at time.Time) error {
	_, err := db.w.ExecContext(ctx, `UPDATE tokens SET last_used_at = ?1
		WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at <= ?1 - ?3)`,
		micros(at), id, hookline.TouchInterval.Microseconds())
	if err != nil {
		return dbErr(err, "touch token %q", id)
	}
	return nil
}

// UseToken marks a single-use token used, in one statement that only an unused, valid token
// passes: SQLite has one writer, so of concurrent calls one wins.
func (db *DB) UseToken(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE tokens SET used_at = ?1
		WHERE id = ?2 AND single_use = 1 AND used_at IS NULL AND revoked_at IS NULL
		AND (expires_at IS NULL OR expires_at > ?1)`, micros(at), id)
	if err != nil {
		return false, dbErr(err, "use token %q", id)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, dbErr(err, "use token %q", id)
	}
	if n == 1 {
		return true, nil
	}
	var single bool
	if err := db.r.QueryRowContext(ctx, `SELECT single_use FROM tokens WHERE id = ?`, id).Scan(&single); err != nil || !single {
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return false, dbErr(err, "use token %q", id)
		}
		return false, hookline.Errorf(hookline.ENOTFOUND, "single-use token %q not found", id)
	}
	return false, nil
}
