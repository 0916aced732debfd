package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// DeliveriesChannel is the notification channel on which the store announces that messages or
// deliveries became due: CreateMessage, RequeueDelivery, RequeueFailed and ClaimDeliveries
// (when it stores the deliveries a claim has no room for) notify it inside their transaction
// (so listeners wake when it commits, and never for a rollback), and ReleaseDeliveries and
// ReleaseExpiredLeases after their update.
const DeliveriesChannel = "hookline_deliveries"

// Notify sends a notification on channel to every process listening on it.
func (db *DB) Notify(ctx context.Context, channel string) error {
	if _, err := db.pool.Exec(ctx, `SELECT pg_notify($1, '')`, channel); err != nil {
		return dbErr(err, "notify %s", channel)
	}
	return nil
}

// Listen LISTENs on channel on a connection of its own and calls fn, from one goroutine, for
// every notification until ctx is done or the DB is closed. It returns once the first LISTEN
// is in place, so every notification committed after Listen returns reaches fn. When the
// connection drops, Listen reconnects with capped, jittered backoff and then calls fn once,
// since notifications sent meanwhile are lost. fn should return quickly (for example, make a
// non-blocking send on a channel): notifications wait while it runs.
func (db *DB) Listen(ctx context.Context, channel string, fn func()) error {
	conn, err := db.listenConn(ctx, channel)
	if err != nil {
		return err
	}
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		_ = closeConn(conn) // nothing was listening yet; the DB's state is the error
		return errors.New("postgres: listen: the database is closed")
	}
	db.workers.Add(1)
	db.mu.Unlock()

	lctx, cancel := context.WithCancel(ctx)
	stopOnClose := context.AfterFunc(db.bg, cancel)
	go func() {
		defer db.workers.Done()
		defer cancel()
		defer stopOnClose()
		db.listen(lctx, conn, channel, fn)
	}()
	return nil
}

// listenConn connects and LISTENs on channel.
func (db *DB) listenConn(ctx context.Context, channel string) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgres: listen %s: connect: %w", channel, wrapUnavailable(err))
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		_ = closeConn(conn) // the LISTEN error is the one to report
		return nil, dbErr(err, "listen %s", channel)
	}
	return conn, nil
}

// listen is the loop of one listener; it owns conn and closes it.
func (db *DB) listen(ctx context.Context, conn *pgx.Conn, channel string, fn func()) {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err == nil {
			if n.Channel == channel {
				fn()
			}
			continue
		}
		_ = closeConn(conn) // broken or no longer needed either way
		if ctx.Err() != nil {
			return
		}
		db.log.Warn("postgres: listener lost its connection; reconnecting", "channel", channel, "err", err)
		if conn = db.relisten(ctx, channel); conn == nil {
			return
		}
		db.log.Info("postgres: listener reconnected", "channel", channel)
		fn()
	}
}

// Listener reconnection backoff: from listenBackoffMin doubling to listenBackoffMax, ±20 %.
const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 10 * time.Second
)

// relisten reconnects until it succeeds or ctx is done (nil).
func (db *DB) relisten(ctx context.Context, channel string) *pgx.Conn {
	wait := listenBackoffMin
	for {
		jittered := time.Duration(float64(wait) * (0.8 + 0.4*rand.Float64()))
		t := time.NewTimer(jittered)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		conn, err := db.listenConn(ctx, channel)
		if err == nil {
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		db.log.Debug("postgres: listener reconnect failed", "channel", channel, "err", err, "retry_in", wait)
		wait = min(2*wait, listenBackoffMax)
	}
}

// TryLeader tries to take the session advisory lock key on a connection of its own and
// reports whether it did. The leader keeps the lock, and the connection, until it calls
// release or closes the DB; a process that dies loses it with its connection, so another can
// take over. release is never nil and may be called more than once. Other processes' calls
// fail (ok false) while the lock is held.
func (db *DB) TryLeader(ctx context.Context, key int64) (release func(), ok bool, err error) {
	noop := func() {}
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return noop, false, fmt.Errorf("postgres: leader: connect: %w", wrapUnavailable(err))
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		_ = closeConn(conn) // the lock query's error is the one to report
		return noop, false, dbErr(err, "leader: lock %d", key)
	}
	if !ok {
		return noop, false, closeConn(conn)
	}
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		_ = unlockAndClose(conn, key)
		return noop, false, errors.New("postgres: leader: the database is closed")
	}
	db.leaders[conn] = key
	db.mu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			db.mu.Lock()
			_, held := db.leaders[conn]
			delete(db.leaders, conn)
			db.mu.Unlock()
			if held { // else Close has released it
				if err := unlockAndClose(conn, key); err != nil {
					db.log.Warn("postgres: leader: release", "key", key, "err", err)
				}
			}
		})
	}
	return release, true, nil
}

// unlockAndClose gives up a leader lock and closes its connection. The explicit unlock makes
// the lock free when this returns; closing alone frees it only once the server has noticed.
func unlockAndClose(conn *pgx.Conn, key int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, key)
	return errors.Join(err, closeConn(conn))
}
