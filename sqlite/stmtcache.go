package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// maxCachedStmts bounds the prepared statements kept per pool. Queries built from optional
// filters come in a limited number of shapes; beyond the bound they run unprepared.
const maxCachedStmts = 512

// cachedDB is a *sql.DB whose QueryContext, QueryRowContext and ExecContext prepare each
// distinct query once and reuse it. The driver would otherwise parse and plan the SQL on every
// call, which cost a fifth of the server's CPU in the ingest benchmark.
type cachedDB struct {
	*sql.DB
	stmts sync.Map // query → *sql.Stmt
	n     atomic.Int32
	// afterExec, when set, runs after each successful ExecContext (the writer's: to wait
	// until the write is durable).
	afterExec func(context.Context) error
}

func newCachedDB(db *sql.DB) *cachedDB { return &cachedDB{DB: db} }

// stmt returns the prepared statement of query, preparing it on first use; nil when the cache
// is full or the query does not prepare (running it unprepared then reports the error).
func (c *cachedDB) stmt(ctx context.Context, query string) *sql.Stmt {
	if s, ok := c.stmts.Load(query); ok {
		return s.(*sql.Stmt)
	}
	if c.n.Load() >= maxCachedStmts {
		return nil
	}
	s, err := c.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if prev, loaded := c.stmts.LoadOrStore(query, s); loaded {
		s.Close()
		return prev.(*sql.Stmt)
	}
	c.n.Add(1)
	return s
}

// QueryContext runs a query with a cached prepared statement.
func (c *cachedDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := c.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return c.DB.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query with a cached prepared statement.
func (c *cachedDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := c.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return c.DB.QueryRowContext(ctx, query, args...)
}

// ExecContext runs a statement with a cached prepared statement.
func (c *cachedDB) ExecContext(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	if s := c.stmt(ctx, query); s != nil {
		res, err = s.ExecContext(ctx, args...)
	} else {
		res, err = c.DB.ExecContext(ctx, query, args...)
	}
	if err == nil && c.afterExec != nil {
		err = c.afterExec(ctx)
	}
	return res, err
}

// inTxStmt returns query's cached statement bound to tx (which must be on the writer), or
// prepares it on tx alone when it is not cached. It never prepares on the pool: the writer
// pool has one connection, which tx holds, so that would wait forever. The writer's hot
// transaction statements are cached ahead by warm.
func (c *cachedDB) inTxStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if s, ok := c.stmts.Load(query); ok {
		return tx.StmtContext(ctx, s.(*sql.Stmt)), nil
	}
	return tx.PrepareContext(ctx, query)
}

// Close closes the cached statements and the pool.
func (c *cachedDB) Close() error {
	c.stmts.Range(func(_, s any) bool {
		s.(*sql.Stmt).Close()
		return true
	})
	return c.DB.Close()
}

// warm prepares queries on the pool ahead of use, so transactions find them cached. Queries
// that do not prepare yet (their tables are not migrated) are skipped and tried again later.
func (c *cachedDB) warm(ctx context.Context, queries []string) {
	for _, q := range queries {
		c.stmt(ctx, q)
	}
}

// txn is a write transaction whose statements come from the writer's statement cache.
type txn struct {
	*sql.Tx
	c *cachedDB
}

// QueryContext runs a query in the transaction with a cached prepared statement.
func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := t.c.inTxStmt(ctx, t.Tx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// QueryRowContext runs a query in the transaction with a cached prepared statement.
func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s, ok := t.c.stmts.Load(query); ok {
		return t.Tx.StmtContext(ctx, s.(*sql.Stmt)).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

// ExecContext runs a statement in the transaction with a cached prepared statement.
func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := t.c.inTxStmt(ctx, t.Tx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// PrepareContext returns the cached statement of query, bound to the transaction.
func (t *txn) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.c.inTxStmt(ctx, t.Tx, query)
}
