package postgres

import (
	"context"
	"time"

	"github.com/hookline/hookline"
)

// ExpireTokens makes the application's tokens of the given kinds expire at at, unless they are
// revoked or expire sooner; with sessionIDs, only those of these sessions.
func (db *DB) ExpireTokens(ctx context.Context, appID string, kinds []hookline.TokenKind, sessionIDs []string, at time.Time) (int, error) {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE tokens SET expires_at = $1
		WHERE app_id = $2 AND kind = ANY($3) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)
			AND (cardinality($4::text[]) = 0 OR session_id = ANY($4::text[]))`,
		micros(at), appID, names, append([]string{}, sessionIDs...))
	if err != nil {
		return 0, dbErr(err, "expire tokens of %q", appID)
	}
	return int(tag.RowsAffected()), nil
}
