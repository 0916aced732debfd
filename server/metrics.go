package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookline/hookline/sqlite"
)

// walSyncCollector exports the SQLite store's WAL fsync times: every API request waits for
// one, so when the API's latency rises on SQLite, this tells whether the disk is the cause.
type walSyncCollector struct {
	db   *sqlite.DB
	desc *prometheus.Desc
}

func newWALSyncCollector(db *sqlite.DB) *walSyncCollector {
	return &walSyncCollector{db: db, desc: prometheus.NewDesc("hookline_sqlite_wal_sync_duration_seconds",
		"Time of each fsync of the SQLite WAL that made commits durable (synchronous=FULL); each API request waits for one.", nil, nil)}
}

// Describe implements prometheus.Collector.
func (c *walSyncCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *walSyncCollector) Collect(ch chan<- prometheus.Metric) {
	st, ok := c.db.WALSyncStats()
	if !ok {
		return
	}
	buckets := make(map[float64]uint64, len(st.Buckets))
	for i, n := range st.Buckets {
		buckets[sqlite.SyncBounds[i].Seconds()] = n
	}
	ch <- prometheus.MustNewConstHistogram(c.desc, st.Count, st.Sum.Seconds(), buckets)
}
