package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
	"github.com/jackc/pgx/v5"
)

// CreateToken inserts t. A zero CreatedAt is set from the clock; a hash already stored is
// ECONFLICT.
func (db *DB) CreateToken(ctx context.Context, t *hookline.Token) error {
	if t.ID == "" || len(t.Hash) == 0 {
		return errors.New("postgres: create token: ID and Hash are required")
	}
	db.stampCreated(&t.CreatedAt, nil)
	t.ExpiresAt, t.RevokedAt = normTimePtr(t.ExpiresAt), normTimePtr(t.RevokedAt)
	t.LastUsedAt, t.UsedAt = normTimePtr(t.LastUsedAt), normTimePtr(t.UsedAt)
	_, err := db.pool.Exec(ctx, `INSERT INTO tokens (`+sqlcodec.TokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		t.ID, t.Name, string(t.Kind), nullString(t.AppID), t.Hash, t.Prefix, micros(t.CreatedAt),
		nullMicros(t.ExpiresAt), nullMicros(t.RevokedAt), nullMicros(t.LastUsedAt), t.SingleUse, nullMicros(t.UsedAt), sqlcodec.TokenEndpointIDs(t), nullString(t.SessionID))
	if err != nil {
		return tokenWriteErr(err, t)
	}
	return nil
}

// firstTokenLockKey is the advisory lock that serialises CreateTokenIfNone across processes.
const firstTokenLockKey = 0x686c5f746f6b656e // "hl_token"

// CreateTokenIfNone inserts t unless an unrevoked token of its kind exists. The check and the
// insert run under a transaction-scoped advisory lock, and the insert is a statement of its own,
// so its snapshot (READ COMMITTED) sees a token that a concurrent call committed while this
// one waited for the lock: at most one is created, whichever process asks.
func (db *DB) CreateTokenIfNone(ctx context.Context, t *hookline.Token) (bool, error) {
	if t.ID == "" || len(t.Hash) == 0 {
		return false, errors.New("postgres: create token: ID and Hash are required")
	}
	db.stampCreated(&t.CreatedAt, nil)
	t.ExpiresAt, t.RevokedAt = normTimePtr(t.ExpiresAt), normTimePtr(t.RevokedAt)
	t.LastUsedAt, t.UsedAt = normTimePtr(t.LastUsedAt), normTimePtr(t.UsedAt)
	created := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(firstTokenLockKey)); err != nil {
			return dbErr(err, "create token: lock")
		}
		tag, err := tx.Exec(ctx, `INSERT INTO tokens (`+sqlcodec.TokenColumns+`)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14
			WHERE NOT EXISTS (SELECT 1 FROM tokens WHERE kind = $3 AND revoked_at IS NULL)`,
			t.ID, t.Name, string(t.Kind), nullString(t.AppID), t.Hash, t.Prefix, micros(t.CreatedAt),
			nullMicros(t.ExpiresAt), nullMicros(t.RevokedAt), nullMicros(t.LastUsedAt), t.SingleUse, nullMicros(t.UsedAt), sqlcodec.TokenEndpointIDs(t), nullString(t.SessionID))
		if err != nil {
			return tokenWriteErr(err, t)
		}
		created = tag.RowsAffected() == 1
		return nil
	})
	return created, err
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
	t, err := sqlcodec.ScanToken(db.pool.QueryRow(ctx, `SELECT `+sqlcodec.TokenColumns+` FROM tokens WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
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
	t, err := sqlcodec.ScanToken(db.pool.QueryRow(ctx, `SELECT `+sqlcodec.TokenColumns+` FROM tokens WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
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
	var a args
	cond, tail, reverse := pageQuery(&a, "id", opts)
	app := ""
	if appID != "" {
		app = "app_id = " + a.add(appID)
	}
	out, err := queryAll(ctx, db, `SELECT `+sqlcodec.TokenColumns+` FROM tokens`+where(cond, app)+tail, a, sqlcodec.ScanToken)
	if err != nil {
		return hookline.Page[hookline.Token]{}, dbErr(err, "list tokens")
	}
	return finishPage(out, opts, reverse), nil
}

// RevokeToken marks the token revoked at the given time. Revoking a revoked token keeps the
// first revocation time, so the audit trail does not move.
func (db *DB) RevokeToken(ctx context.Context, id string, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE tokens SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, micros(at), id)
	if err := mustAffect(tag, err, "revoke token %q", id); err != nil {
		if errors.Is(err, errNoRows) {
			return hookline.Errorf(hookline.ENOTFOUND, "token %q not found", id)
		}
		return err
	}
	return nil
}
