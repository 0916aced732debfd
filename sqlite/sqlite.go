// Package sqlite implements hookline.Store on an SQLite database file, with the pure-Go
// modernc.org/sqlite driver, so the default Hookline binary needs no other server.
//
// The database runs in WAL mode with one writer connection and a separate pool of read-only
// connections: SQLite allows a single writer at a time anyway, and queueing writes in Go
// instead of in SQLite's busy handler keeps writers fair and avoids SQLITE_BUSY. Write
// transactions begin IMMEDIATE so they take the write lock up front rather than failing
// half-way when a read turns into a write.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
	"github.com/hookline/hookline/migrate"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the embedded schema migrations, for tools that inspect them.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic("sqlite: embedded migrations: " + err.Error()) // cannot happen: the directory is embedded
	}
	return sub
}

// busyTimeout is how long a connection waits for a lock before SQLITE_BUSY. With one writer
// it only matters for checkpoints and for other processes (hookline migrate) using the file.
const busyTimeout = 10 * time.Second

// Options configures Open.
type Options struct {
	// SecretBox seals endpoint signing secrets before they are stored. Required.
	SecretBox hookline.SecretBox
	// Logger receives the store's diagnostics; nil discards them.
	Logger *slog.Logger
	// Synchronous is SQLite's synchronous setting: "FULL" (the default: a committed write
	// survives a power loss) or "NORMAL" (faster; in WAL mode a power loss may roll back the
	// last commits, but the database stays consistent). FULL is kept by syncing the WAL after
	// the writer lets go of each commit (see walSync), not inside the commit.
	Synchronous string
	// Clock stamps UpdatedAt in the Update methods and fills zero creation times; nil is the
	// system clock.
	Clock hookline.Clock
	// ReadConns is the size of the read pool; zero picks one from the number of CPUs.
	ReadConns int
}

// DB is a Hookline store in one SQLite file. It is safe for concurrent use.
type DB struct {
	w     *cachedDB // the single writer connection
	r     *cachedDB // read-only connections
	ck    *sql.DB   // the checkpointer's connection
	box   hookline.SecretBox
	log   *slog.Logger
	clock hookline.Clock
	path  string
	// batcher commits concurrent CreateMessage calls together.
	batcher *messageBatcher
	// targets caches the applications' fan-out targets.
	targets targetCache
	// fanHint is the average fan-out of the messages claims leased, to size the next lease.
	fanHint sqlcodec.FanOutHint
	// sync is the synchronous setting asked for; the connections run with NORMAL, and wal,
	// set for FULL, syncs the WAL after commits.
	sync string
	wal  *walSync
	// gate orders the transactions waiting for the writer (see commitTx).
	gate writeGate
	// lastCheckpoint is when checkpoint last ran, in Unix nanoseconds.
	lastCheckpoint atomic.Int64
}

// writeGate is a lock whose urgent holders go ahead of the others waiting.
type writeGate struct {
	mu      sync.Mutex
	cond    sync.Cond
	busy    bool
	pending int // urgent waiters
}

func (g *writeGate) lock(urgent bool) {
	g.mu.Lock()
	if urgent {
		g.pending++
	}
	for g.busy || (!urgent && g.pending > 0) {
		g.cond.Wait()
	}
	if urgent {
		g.pending--
	}
	g.busy = true
	g.mu.Unlock()
}

func (g *writeGate) unlock() {
	g.mu.Lock()
	g.busy = false
	g.mu.Unlock()
	g.cond.Broadcast()
}

var _ hookline.Store = (*DB)(nil)

// Open opens (creating if needed) the SQLite database at path. It does not migrate: call
// Migrate before using a new or upgraded database.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if opts.SecretBox == nil {
		return nil, errors.New("sqlite: Options.SecretBox is required")
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		// Separate writer and reader pools need a real file shared between connections.
		return nil, fmt.Errorf("sqlite: %q is not a database file path", path)
	}
	sync := strings.ToUpper(opts.Synchronous)
	switch sync {
	case "":
		sync = "FULL"
	case "FULL", "NORMAL":
	default:
		return nil, fmt.Errorf("sqlite: Synchronous must be FULL or NORMAL, not %q", opts.Synchronous)
	}
	db := &DB{box: opts.SecretBox, log: opts.Logger, clock: opts.Clock, path: path, sync: sync}
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	if db.clock == nil {
		db.clock = hookline.SystemClock{}
	}

	if err := restrictFiles(path, db.log); err != nil {
		return nil, err
	}

	// SQLite decodes the path as a URI, so the characters URIs give meaning to are escaped.
	name := "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	common := url.Values{}
	common.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	common.Set("_foreign_keys", "1")
	common.Set("_synchronous", "NORMAL")

	wq := url.Values{}
	for k, v := range common {
		wq[k] = v
	}
	wq.Set("_journal_mode", "WAL")
	wq.Set("_txlock", "immediate")
	// The delivery engine checkpoints between its transactions (see checkpoint); the writer
	// does so itself only when the WAL grows well past SQLite's usual 1,000 pages.
	wq.Add("_pragma", "wal_autocheckpoint(4000)")
	// A batch's savepoints journal the pages they change; kept in memory, that journal never
	// becomes a temporary file to create, write and delete in every transaction.
	wq.Add("_pragma", "temp_store(MEMORY)")
	// Every byte a write frees (an updated row's old copy, a purged message, an expunged
	// payload) is overwritten with zeros, so deleted content does not linger in free space or
	// on the freelist. A page freed and reused in one transaction is written once anyway.
	wq.Add("_pragma", "secure_delete(1)")
	w, err := sql.Open("sqlite", name+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// The writer connects first: it creates the file and switches it to WAL, which readers
	// then find in place.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, wrapUnavailable(err))
	}

	// The checkpointer copies the WAL back into the database beside the writer (see checkpoint).
	ck, err := sql.Open("sqlite", name+"?"+common.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ck.SetMaxOpenConns(1)
	ck.SetMaxIdleConns(1)

	rq := common
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", name+"?"+rq.Encode())
	if err != nil {
		w.Close()
		ck.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := opts.ReadConns
	if n <= 0 {
		n = max(4, runtime.NumCPU())
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		ck.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, wrapUnavailable(err))
	}
	db.w, db.r, db.ck = newCachedDB(w), newCachedDB(r), ck
	if sync == "FULL" {
		db.wal = newWALSync(path)
		db.w.afterExec = db.durable // a write outside a transaction commits at once
	}
	db.gate.cond.L = &db.gate.mu
	db.batcher = newMessageBatcher(db)
	db.w.warm(ctx, writerHotSQL)
	db.log.Debug("sqlite: opened", "path", path, "synchronous", sync, "read_conns", n)
	return db, nil
}

// Migrate applies the embedded migrations that the database has not run yet and returns the
// names of those it applied.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	applied, err := migrate.Up(ctx, db.w.DB, Migrations(), migrate.WithDialect(migrate.SQLite),
		migrate.WithStep(8, sqlcodec.SealHeadersStep(db.box)))
	for _, name := range applied {
		db.log.Debug("sqlite: applied migration", "name", name, "path", db.path)
	}
	if err != nil {
		return applied, fmt.Errorf("sqlite: %w", err)
	}
	if err := db.durable(ctx); err != nil {
		return applied, err
	}
	db.w.warm(ctx, writerHotSQL) // the tables they name exist now
	return applied, nil
}

// MigrationStatus lists the embedded migrations and whether each has been applied.
func (db *DB) MigrationStatus(ctx context.Context) ([]migrate.Migration, error) {
	st, err := migrate.Status(ctx, db.r.DB, Migrations(), migrate.WithDialect(migrate.SQLite))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return st, nil
}

// WriteDB returns the single writer connection pool, for the delivery engine's queries that
// live outside the Store contract. Write transactions on it begin IMMEDIATE.
func (db *DB) WriteDB() *sql.DB { return db.w.DB }

// ReadDB returns the read-only connection pool.
func (db *DB) ReadDB() *sql.DB { return db.r.DB }

// Ping checks that both the writer and the readers answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping writer: %w", wrapUnavailable(err))
	}
	var one int
	if err := db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping reader: %w", wrapUnavailable(err))
	}
	return nil
}

// Close closes both pools. It checkpoints the WAL on the way out (SQLite does so when the
// last connection closes), so the database is one file again.
func (db *DB) Close() error {
	db.batcher.close()
	if db.wal != nil {
		db.wal.close()
	}
	return errors.Join(db.r.Close(), db.ck.Close(), db.w.Close())
}

// checkpointEvery is how often, at most, the delivery engine's side of the writer copies the
// WAL back into the database (see checkpoint).
const checkpointEvery = 250 * time.Millisecond

// checkpoint copies the WAL back into the database, at most every checkpointEvery, with
// passive checkpoints on a connection of its own, beside the writer: the API's commits go on
// meanwhile. The first copies the bulk; the next ones what commits added meanwhile, until one
// catches up with the writer, which lets the next commit start the WAL over. Only when none
// catches up and the WAL has grown past walCatchUpFrames does a last checkpoint run on the
// writer, in the delivery engine's turn, which cannot be overtaken. Left to SQLite, the whole
// checkpoint would run inside whichever commit crosses 1,000 WAL pages, an API request's as
// likely as any, and hold it up for milliseconds; the writer still does so itself past
// wal_autocheckpoint's 4,000 pages, when the delivery engine is idle.
func (db *DB) checkpoint(ctx context.Context) {
	now := time.Now().UnixNano()
	last := db.lastCheckpoint.Load()
	if now-last < int64(checkpointEvery) || !db.lastCheckpoint.CompareAndSwap(last, now) {
		return
	}
	frames := 0
	for range checkpointRounds {
		var busy, copied int
		if err := db.ck.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
			db.log.Debug("sqlite: checkpoint", "err", err)
			return
		}
		if frames == copied {
			return // caught up
		}
	}
	if frames < walCatchUpFrames {
		return // the next checkpoint tries again
	}
	db.gate.lock(false)
	defer db.gate.unlock()
	if _, err := db.w.DB.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		db.log.Debug("sqlite: checkpoint", "err", err)
	}
}

// checkpointRounds bounds the checkpoints beside the writer that try to catch up with it.
const checkpointRounds = 3

// walCatchUpFrames is the WAL size (in frames, about 4 KiB each) from which a checkpoint that
// could not catch up beside the writer finishes on the writer.
const walCatchUpFrames = 3000

// inTx runs fn in a write transaction, committing when it returns nil, and returns once the
// commit is durable.
func (db *DB) inTx(ctx context.Context, fn func(tx *txn) error) error {
	if err := db.commitTx(ctx, false, fn); err != nil {
		return err
	}
	return db.durable(ctx)
}

// durable returns once every commit made before the call is on disk (at once with
// synchronous=NORMAL, which promises no more).
func (db *DB) durable(ctx context.Context) error {
	if db.wal == nil {
		return nil
	}
	return db.wal.wait(ctx)
}

// commitTx runs fn in a write transaction and commits it when fn returns nil, without waiting
// for the disk. An urgent transaction (the API's message commits, and claims) goes ahead of
// the delivery engine's others waiting for the writer, so an accepted message waits for at
// most the one transaction in progress.
func (db *DB) commitTx(ctx context.Context, urgent bool, fn func(tx *txn) error) (err error) {
	db.gate.lock(urgent)
	defer db.gate.unlock()
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", wrapUnavailable(err))
	}
	tx := &txn{Tx: sqlTx, c: db.w}
	defer func() {
		if err != nil {
			if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
				db.log.Error("sqlite: rollback failed", "err", rbErr)
			}
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", wrapUnavailable(err))
	}
	return nil
}

// inLeaseTx is commitTx for transactions that only take or move leases (claims, and the
// pending deliveries and finished dispatches that come with them): urgent, and not waiting for
// the disk. A single SQLite process takes back every lease when it starts, so a lease lost in a
// power cut costs nothing; and since the WAL is written in order, the next durable commit syncs
// this transaction's frames with its own.
func (db *DB) inLeaseTx(ctx context.Context, fn func(tx *txn) error) error {
	return db.commitTx(ctx, true, fn)
}

// now returns the clock's time at the precision the database keeps.
func (db *DB) now() time.Time { return normTime(db.clock.Now()) }

// sqliteCode returns the extended result code of an SQLite error, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY constraint failure.
func isUniqueViolation(err error) bool {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

// isForeignKeyViolation reports whether err is a FOREIGN KEY constraint failure.
func isForeignKeyViolation(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// wrapUnavailable marks errors that mean the database cannot be used right now (locked,
// unreadable, disk full) with hookline.ErrUnavailable, so the API answers 503, not 500.
func wrapUnavailable(err error) error {
	if err == nil {
		return nil
	}
	switch sqliteCode(err) & 0xff { // the primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY:
		return fmt.Errorf("%w: %w", hookline.ErrUnavailable, err)
	}
	return err
}

// dbErr wraps an unexpected database error with what the store was doing.
func dbErr(err error, format string, args ...any) error {
	return fmt.Errorf("sqlite: "+format+": %w", append(args, wrapUnavailable(err))...)
}
