package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// checkpointInterval is how often the background checkpointer copies the WAL into the
// database file.
const checkpointInterval = 500 * time.Millisecond

// checkpointer moves WAL checkpoints off the writer. SQLite's automatic checkpoint runs inside
// the commit that crosses the threshold, so now and then one API request or one batch of
// attempts paid for copying thousands of pages (the tail of the API's latency). The writer's
// automatic checkpoint is off instead, and this goroutine runs PASSIVE checkpoints on a
// connection of its own: they never block the writer or readers, and once a checkpoint has
// caught up the writer starts the WAL over from its beginning, so it stays small.
type checkpointer struct {
	conn *sql.DB
	quit chan struct{}
	done chan struct{}
	once sync.Once
	err  error
}

func startCheckpointer(db *DB, conn *sql.DB) *checkpointer {
	c := &checkpointer{conn: conn, quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		t := time.NewTicker(checkpointInterval)
		defer t.Stop()
		for {
			select {
			case <-c.quit:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if _, err := c.conn.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
				db.log.Warn("sqlite: checkpoint", "err", err)
			}
			cancel()
		}
	}()
	return c
}

// close stops the checkpointer; calling it again does nothing.
func (c *checkpointer) close() error {
	c.once.Do(func() {
		close(c.quit)
		<-c.done
		// The last connection to close checkpoints the whole WAL itself.
		c.err = c.conn.Close()
	})
	return c.err
}
