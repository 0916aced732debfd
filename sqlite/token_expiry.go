package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/hookline/hookline"
)

// ExpireTokens makes the application's tokens of the given kinds expire at at, unless they are
// revoked or expire sooner; with sessionIDs, only those of these sessions.
func (db *DB) ExpireTokens(ctx context.Context, appID string, kinds []hookline.TokenKind, sessionIDs []string, at time.Time) (int, error) {
	if len(kinds) == 0 {
		return 0, nil
	}
	args := []any{micros(at), appID}
	for _, k := range kinds {
		args = append(args, string(k))
	}
	args = append(args, micros(at), len(sessionIDs), jsonArray(sessionIDs))
	res, err := db.w.ExecContext(ctx, `UPDATE tokens SET expires_at = ?
		WHERE app_id = ? AND kind IN (?`+strings.Repeat(", ?", len(kinds)-1)+`)
		AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
		AND (? = 0 OR session_id IN (SELECT value FROM json_each(?)))`, args...)
	if err != nil {
		return 0, dbErr(err, "expire tokens of %q", appID)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, dbErr(err, "expire tokens of %q", appID)
	}
	return int(n), nil
}
