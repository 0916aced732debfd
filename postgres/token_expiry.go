package postgres

import (
	"context"
	"time"

	"github.com/hookline/hookline"
)

// ExpireTokens makes the application's tokens of the given kinds expire at at, unless they are
// revoked or expire sooner.
func (db *DB) ExpireTokens(ctx context.Context, appID string, kinds []hookline.TokenKind, at time.Time) (int, error) {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE tokens SET expires_at = $1
		WHERE app_id = $2 AND kind = ANY($3) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)`,
		micros(at), appID, names)
	if err != nil {
		return 0, dbErr(err, "expire tokens of %q", appID)
	}
	return int(tag.RowsAffected()), nil
}
