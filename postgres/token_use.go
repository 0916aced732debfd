package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/hookline/hookline"
	"github.com/jackc/pgx/v5"
)

// TouchToken sets the token's last use to at, unless it is within a minute before at already.
func (db *DB) TouchToken(ctx context.Context, id string, at time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE tokens SET last_used_at = $1
		WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $1 - $3::bigint)`,
		micros(at), id, hookline.TouchInterval.Microseconds())
	if err != nil {
		return dbErr(err, "touch token %q", id)
	}
	return nil
}

// UseToken marks a single-use token used. The UPDATE's condition is checked again on the row
// a concurrent UPDATE committed (READ COMMITTED), so of concurrent calls one wins.
func (db *DB) UseToken(ctx context.Context, id string, at time.Time) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE tokens SET used_at = $1
		WHERE id = $2 AND single_use AND used_at IS NULL AND revoked_at IS NULL
		AND (expires_at IS NULL OR expires_at > $1)`, micros(at), id)
	if err != nil {
		return false, dbErr(err, "use token %q", id)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	var single bool
	err = db.pool.QueryRow(ctx, `SELECT single_use FROM tokens WHERE id = $1`, id).Scan(&single)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !single) {
		return false, hookline.Errorf(hookline.ENOTFOUND, "single-use token %q not found", id)
	}
	if err != nil {
		return false, dbErr(err, "use token %q", id)
	}
	return false, nil
}
