// Package postgres implements hookline.Store on PostgreSQL with pgx, so that any number of
// Hookline processes can share one database.
//
// Processes coordinate through the database alone: they claim due deliveries, and new
// messages to fan out, with FOR UPDATE SKIP LOCKED under leases, the unique index on
// (app_id, event_id) decides which of two concurrent duplicates is stored and the one on
// (msg_id, endpoint_id) that a message fanned out twice keeps one delivery per endpoint, the
// statements that make messages or deliveries due send a NOTIFY on DeliveriesChannel so idle
// processes wake at once (Listen), and TryLeader elects one process for maintenance with an
// advisory lock.
//
// The schema mirrors the SQLite store's (times as unix microseconds, payloads byte for byte),
// and both pass the same conformance suite (storetest).
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
	"github.com/hookline/hookline/migrate"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the embedded schema migrations, for tools that inspect them.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic("postgres: embedded migrations: " + err.Error()) // cannot happen: the directory is embedded
	}
	return sub
}

// Options configures Open.
type Options struct {
	// SecretBox seals endpoint signing secrets before they are stored. Required.
	SecretBox hookline.SecretBox
	// Logger receives the store's diagnostics; nil discards them.
	Logger *slog.Logger
	// Clock stamps UpdatedAt in the Update methods and fills zero creation times; nil is the
	// system clock.
	Clock hookline.Clock
	// MaxConns caps the connection pool; zero keeps the URL's pool_max_conns or pgxpool's
	// default (the larger of 4 and the number of CPUs). Listen and TryLeader use connections
	// of their own, outside the pool.
	MaxConns int32
	// Expunge says how ReclaimExpunged removes expunged content from the files: ExpungeDeferred
	// (the default, also for ""), ExpungeRewrite or ExpungeVacuum.
	Expunge ExpungeMode
	// PartitionInterval is how much time one partition of messages and attempts holds:
	// PartitionHourly or PartitionDaily (the default, also for zero). It shapes the partitions
	// created from now on; existing ones keep their range.
	PartitionInterval time.Duration
}

// DB is a Hookline store in a PostgreSQL database. It is safe for concurrent use, also by
// several processes at once.
type DB struct {
	pool  *pgxpool.Pool
	sqlDB *sql.DB // the pool seen through database/sql, for the migration runner only
	box   hookline.SecretBox
	log   *slog.Logger
	clock hookline.Clock
	// expunge is Options.Expunge.
	expunge ExpungeMode
	// partitionInterval is Options.PartitionInterval.
	partitionInterval time.Duration
	// fanHint learns how many deliveries a message fans out to, so that ClaimDeliveries leases
	// about as many messages as fill its batch.
	fanHint sqlcodec.FanOutHint

	// bg ends when the DB closes; listeners run under it.
	bg      context.Context
	stop    context.CancelFunc
	workers sync.WaitGroup // Listen goroutines

	mu      sync.Mutex
	leaders map[*pgx.Conn]int64 // connections holding TryLeader's advisory lock, and its key
	closed  bool
}

var _ hookline.Store = (*DB)(nil)

// Open connects to the PostgreSQL database at url (postgres://user@host:port/db?...) and
// checks that it answers. It does not migrate: call Migrate before using a new or upgraded
// database. An unreachable server is an error wrapping hookline.ErrUnavailable.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	if opts.SecretBox == nil {
		return nil, errors.New("postgres: Options.SecretBox is required")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse database URL: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "hookline"
	}
	db := &DB{box: opts.SecretBox, log: opts.Logger, clock: opts.Clock, leaders: map[*pgx.Conn]int64{}, expunge: opts.Expunge}
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	if db.clock == nil {
		db.clock = hookline.SystemClock{}
	}
	switch opts.PartitionInterval {
	case 0:
		db.partitionInterval = PartitionDaily
	case PartitionHourly, PartitionDaily:
		db.partitionInterval = opts.PartitionInterval
	default:
		return nil, fmt.Errorf("postgres: Options.PartitionInterval must be an hour or a day, not %s", opts.PartitionInterval)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", wrapUnavailable(err))
	}
	// The pool connects lazily; a ping makes a wrong URL or a dead server fail here.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, wrapUnavailable(err))
	}
	db.pool = pool
	db.sqlDB = stdlib.OpenDBFromPool(pool)
	db.bg, db.stop = context.WithCancel(context.Background())
	db.log.Debug("postgres: opened", "host", cfg.ConnConfig.Host, "database", cfg.ConnConfig.Database, "max_conns", cfg.MaxConns)
	return db, nil
}

// Migrate applies the embedded migrations that the database has not run yet and returns the
// names of those it applied. Several processes may migrate at once: an advisory lock lets
// each migration run once.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	var applied []string
	var err error
	for try := 0; ; try++ {
		var names []string
		names, err = migrate.Up(ctx, db.sqlDB, Migrations(), migrate.WithDialect(migrate.Postgres),
			migrate.WithStep(8, sqlcodec.SealHeadersStep(db.box)),
			migrate.WithStep(16, db.partitionStep),
			migrate.WithStep(17, db.deliveriesPartitionStep))
		applied = append(applied, names...)
		// Two runners creating schema_migrations at once can collide in the catalogue
		// (CREATE TABLE IF NOT EXISTS is not atomic in PostgreSQL: the loser gets a unique
		// violation, or "relation" or "type already exists"); the second try finds it.
		if err == nil || try > 0 || !isCatalogCollision(err) {
			break
		}
	}
	for _, name := range applied {
		db.log.Debug("postgres: applied migration", "name", name)
	}
	if err != nil {
		return applied, fmt.Errorf("postgres: %w", wrapUnavailable(err))
	}
	// A process that starts after a long stop finds the partitions behind its clock.
	if _, err := db.EnsurePartitions(ctx); err != nil {
		return applied, err
	}
	return applied, nil
}

// MigrationStatus lists the embedded migrations and whether each has been applied.
func (db *DB) MigrationStatus(ctx context.Context) ([]migrate.Migration, error) {
	st, err := migrate.Status(ctx, db.sqlDB, Migrations(), migrate.WithDialect(migrate.Postgres))
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", wrapUnavailable(err))
	}
	return st, nil
}

// Pool returns the connection pool, for queries that live outside the Store contract.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", wrapUnavailable(err))
	}
	return nil
}

// Close stops the listeners, gives up the leader locks TryLeader took and closes the pool.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	leaders := maps.Clone(db.leaders)
	clear(db.leaders)
	db.mu.Unlock()

	db.stop()
	db.workers.Wait()
	var errs []error
	for c, key := range leaders {
		errs = append(errs, unlockAndClose(c, key))
	}
	errs = append(errs, db.sqlDB.Close())
	db.pool.Close()
	return errors.Join(errs...)
}

// closeConn closes a dedicated connection, waiting a little for the server to hear of it.
func closeConn(c *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Close(ctx)
}

// inTx runs fn in a transaction, committing when it returns nil. A deadlock or serialization
// failure, which PostgreSQL resolves by aborting one of the transactions involved, reruns fn
// (a few times): fn must therefore be safe to run again.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return db.retrying(func() error { return db.tryTx(ctx, fn) })
}

// retrying runs fn, a transaction or a statement that is one, and runs it again (a few times)
// after a deadlock, a serialization failure or a retryError.
func (db *DB) retrying(fn func() error) error {
	for try := 1; ; try++ {
		err := fn()
		if err == nil || try == 3 || !isRetryable(err) {
			return err
		}
		db.log.Debug("postgres: retrying transaction", "err", err, "try", try)
	}
}

func (db *DB) tryTx(ctx context.Context, fn func(tx pgx.Tx) error) (err error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", wrapUnavailable(err))
	}
	defer func() {
		if err != nil {
			if rbErr := tx.Rollback(context.WithoutCancel(ctx)); rbErr != nil && !errors.Is(rbErr, pgx.ErrTxClosed) {
				db.log.Debug("postgres: rollback failed", "err", rbErr)
			}
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", wrapUnavailable(err))
	}
	return nil
}

// now returns the clock's time at the precision the database keeps.
func (db *DB) now() time.Time { return normTime(db.clock.Now()) }
