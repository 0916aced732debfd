package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

// CreateToken inserts t. A zero CreatedAt is set from the clock; a hash already stored is
// ECONFLICT.
func (db *DB) CreateToken(ctx context.Context, t *hookline.Token) error {
	if t.ID == "" || len(t.Hash) == 0 {
		return errors.New("sqlite: create token: ID and Hash are required")
	}
	db.stampCreated(&t.CreatedAt, nil)
	t.ExpiresAt, t.RevokedAt = normTimePtr(t.ExpiresAt), normTimePtr(t.RevokedAt)
	t.LastUsedAt, t.UsedAt = normTimePtr(t.LastUsedAt), normTimePtr(t.UsedAt)
	_, err := db.w.ExecContext(ctx, `INSERT INTO tokens (`+sqlcodec.TokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, string(t.Kind), nullString(t.AppID), t.Hash, t.Prefix, micros(t.CreatedAt),
		nullMicros(t.ExpiresAt), nullMicros(t.RevokedAt), nullMicros(t.LastUsedAt), t.SingleUse, nullMicros(t.UsedAt), sqlcodec.TokenEndpointIDs(t), nullString(t.SessionID))
	if err != nil {
		return tokenWriteErr(err, t)
	}
	return nil
}

// CreateTokenIfNone inserts t unless an unrevoked token of its kind exists: one statement, and
// SQLite has one writer, so concurrent calls create at most one.
func (db *DB) CreateTokenIfNone(ctx context.Context, t *hookline.Token) (bool, error) {
	if t.ID == "" || len(t.Hash) == 0 {
		return false, errors.New("sqlite: create token: ID and Hash are required")
	}
	db.stampCreated(&t.CreatedAt, nil)
	t.ExpiresAt, t.RevokedAt = normTimePtr(t.ExpiresAt), normTimePtr(t.RevokedAt)
	t.LastUsedAt, t.UsedAt = normTimePtr(t.LastUsedAt), normTimePtr(t.UsedAt)
	res, err := db.w.ExecContext(ctx, `INSERT INTO tokens (`+sqlcodec.TokenColumns+`)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14
		WHERE NOT EXISTS (SELECT 1 FROM tokens WHERE kind = ?3 AND revoked_at IS NULL)`,
		t.ID, t.Name, string(t.Kind), nullString(t.AppID), t.Hash, t.Prefix, micros(t.CreatedAt),
		nullMicros(t.ExpiresAt), nullMicros(t.RevokedAt), nullMicros(t.LastUsedAt), t.SingleUse, nullMicros(t.UsedAt), sqlcodec.TokenEndpointIDs(t), nullString(t.SessionID))
	if err != nil {
		return false, tokenWriteErr(err, t)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, dbErr(err, "create token")
	}
	return n == 1, nil
}

// tokenWriteErr says why a token could not be inserted.
func tokenWriteErr(err error, t *hookline.Token) error {
	switch {
	case isUniqueViolation(err):
		return hookline.Errorf(hookline.ECONFLICT, "token %q already exists", t.ID)
	case isForeignKeyViolation(err):
		return hookline.Errorf(hookline.ENOTFOUND, "application %q not found", t.AppID)
	}
	return dbErr(err, "create token")
}

// GetTokenByHash finds a token by the SHA-256 of its text, revoked and expired ones included.
func (db *DB) GetTokenByHash(ctx context.Context, hash []byte) (*hookline.Token, error) {
	t, err := sqlcodec.ScanToken(db.r.QueryRowContext(ctx, `SELECT `+sqlcodec.TokenColumns+` FROM tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		// The message never echoes the hash: it is derived from a credential.
		return nil, hookline.Errorf(hookline.ENOTFOUND, "token not found")
	}
	if err != nil {
		return nil, dbErr(err, "get token by hash")
	}
	return t, nil
}

// GetToken finds a token by id.
func (db *DB) GetToken(ctx context.Context, id string) (*hookline.Token, error) {
	t, err := sqlcodec.ScanToken(db.r.QueryRowContext(ctx, `SELECT `+sqlcodec.TokenColumns+` FROM tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "token %q not found", id)
	}
	if err != nil {
		return nil, dbErr(err, "get token %q", id)
	}
	return t, nil
}

// ListTokens lists tokens newest first, as the contract says, whatever opts.Descending holds;
// the iterator and Backward work in that order. appID "" lists every token.
func (db *DB) ListTokens(ctx context.Context, appID string, opts hookline.ListOptions) (hookline.Page[hookline.Token], error) {
	opts.Descending = true
	cond, cursorArgs, tail, reverse := pageQuery("id", opts)
	conds := []string{cond}
	var args []any
	if appID != "" {
		conds = append(conds, "app_id = ?")
		args = append(args, appID)
	}
	// The cursor condition comes first in conds, so its argument goes first too.
	args = append(cursorArgs, args...)
	rows, err := db.r.QueryContext(ctx, `SELECT `+sqlcodec.TokenColumns+` FROM tokens`+where(conds)+tail, args...)
	if err != nil {
		return hookline.Page[hookline.Token]{}, dbErr(err, "list tokens")
	}
	defer rows.Close()
	var out []hookline.Token
	for rows.Next() {
		t, err := sqlcodec.ScanToken(rows)
		if err != nil {
			return hookline.Page[hookline.Token]{}, dbErr(err, "list tokens")
		}
		out = append(out, *t)
	}
	if err := rows.Err(); err != nil {
		return hookline.Page[hookline.Token]{}, dbErr(err, "list tokens")
	}
	return finishPage(out, opts, reverse), nil
}

// RevokeToken marks the token revoked at the given time. Revoking a revoked token keeps the
// first revocation time, so the audit trail does not move.
func (db *DB) RevokeToken(ctx context.Context, id string, at time.Time) error {
	res, err := db.w.ExecContext(ctx, `UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, micros(at), id)
	if err := mustAffect(res, err, "revoke token %q", id); err != nil {
		if errors.Is(err, errNoRows) {
			return hookline.Errorf(hookline.ENOTFOUND, "token %q not found", id)
		}
		return err
	}
	return nil
}
