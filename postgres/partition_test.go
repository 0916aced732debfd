package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/clocktest"
	"github.com/hookline/hookline/internal/pgtest"
	"github.com/hookline/hookline/migrate"
	"github.com/hookline/hookline/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// openAt opens a store on url whose clock is clock, closed when the test ends.
func openAt(t testing.TB, url string, clock hookline.Clock, interval time.Duration) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, postgres.Options{SecretBox: testBox(t), MaxConns: 8,
		Clock: clock, PartitionInterval: interval})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// migratedAt opens a migrated store on url whose clock is clock.
func migratedAt(t testing.TB, url string, clock hookline.Clock, interval time.Duration) *postgres.DB {
	t.Helper()
	db := openAt(t, url, clock, interval)
	_, err := db.Migrate(context.Background())
	must(t, err)
	return db
}

// migrateBefore applies the embedded migrations numbered below version.
func migrateBefore(t testing.TB, db *postgres.DB, version string) {
	t.Helper()
	sqlDB := stdlib.OpenDBFromPool(db.Pool())
	defer sqlDB.Close()
	before := fstest.MapFS{}
	entries, err := fs.ReadDir(postgres.Migrations(), ".")
	must(t, err)
	for _, e := range entries {
		if e.Name() < version {
			data, err := fs.ReadFile(postgres.Migrations(), e.Name())
			must(t, err)
			before[e.Name()] = &fstest.MapFile{Data: data}
		}
	}
	_, err = migrate.Up(context.Background(), sqlDB, before, migrate.WithDialect(migrate.Postgres))
	must(t, err)
}

// seeded is what seedRows wrote.
type seeded struct {
	msgs, attempts []string
	eventIDs       map[string]string // message id -> eventId
}

// seedRows writes, with plain SQL (valid before and after migration 0016), n messages of app
// made from at on (one millisecond apart, ids from that time), each with a delivered delivery
// to ep and two attempts a second later; every third message has an eventId.
func seedRows(t testing.TB, db *postgres.DB, app, ep string, at time.Time, n int) seeded {
	t.Helper()
	ctx := context.Background()
	s := seeded{eventIDs: map[string]string{}}
	var eventTable bool // from migration 0016 on, eventIds have a table of their own
	must(t, db.Pool().QueryRow(ctx, `SELECT to_regclass('message_event_ids') IS NOT NULL`).Scan(&eventTable))
	for i := range n {
		made := at.Add(time.Duration(i) * time.Millisecond)
		msg := hookline.FirstIDAt(hookline.PrefixMessage, made)
		var eventID *string
		if i%3 == 0 {
			e := fmt.Sprintf("evt-%s-%d", at.Format("20060102T150405"), i)
			eventID = &e
			s.eventIDs[msg] = e
		}
		dlv := hookline.FirstIDAt(hookline.PrefixDelivery, made)
		_, err := db.Pool().Exec(ctx, `INSERT INTO messages (id, app_id, event_type, event_id, payload, created_at)
			VALUES ($1, $2, 'order.paid', $3, $4, $5)`, msg, app, eventID, []byte(fmt.Sprintf(`{"n":%d}`, i)), made.UnixMicro())
		must(t, err)
		if eventTable && eventID != nil {
			_, err = db.Pool().Exec(ctx, `INSERT INTO message_event_ids (app_id, event_id, msg_id) VALUES ($1, $2, $3)`, app, *eventID, msg)
			must(t, err)
		}
		_, err = db.Pool().Exec(ctx, `INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, attempt_count, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 0, 2, $5, $5)`, dlv, app, msg, ep, made.UnixMicro())
		must(t, err)
		for k := range 2 {
			atAttempt := made.Add(time.Second)
			id := hookline.FirstIDAt(hookline.PrefixAttempt, atAttempt)
			id = id[:len(id)-1] + fmt.Sprint(k) // two ids of one millisecond
			_, err = db.Pool().Exec(ctx, `INSERT INTO attempts (id, app_id, msg_id, endpoint_id, delivery_id, url,
				response_status_code, response, status, created_at) VALUES ($1, $2, $3, $4, $5, 'https://hooks.example/x', 200, 'ok', 0, $6)`,
				id, app, msg, ep, dlv, atAttempt.UnixMicro())
			must(t, err)
			s.attempts = append(s.attempts, id)
		}
		s.msgs = append(s.msgs, msg)
	}
	return s
}

func countRows(t testing.TB, db *postgres.DB, table string) int {
	t.Helper()
	var n int
	must(t, db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n))
	return n
}

// newAppEndpoint makes an application with one endpoint (disabled, so that nothing is
// dispatched) through the store.
func newAppEndpoint(t testing.TB, db *postgres.DB, at time.Time) (*hookline.Application, *hookline.Endpoint) {
	t.Helper()
	ctx := context.Background()
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "Acme", CreatedAt: at, UpdatedAt: at}
	must(t, db.CreateApplication(ctx, app))
	ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID, URL: "https://hooks.example/x",
		Version: 1, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Disabled: true}
	must(t, db.CreateEndpoint(ctx, ep))
	return app, ep
}

// TestMigratePartitionsKeepsEveryRow converts a database holding messages, deliveries and
// attempts written by the unpartitioned schema (three days of them, eventIds, and two stray
// ids past every range: one from a clock a month ahead, one not made by NewID) and finds every
// row, and every read of the API, still there; the old tables become the legacy partitions,
// the strays land in DEFAULT, an eventId stays unique, and new messages go to the partitions.
// deliveries (migration 0017) is partitioned by message alike.
func TestMigratePartitionsKeepsEveryRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now().UTC()
	db := openAt(t, pgtest.URL(t), clocktest.New(now), 0)
	migrateBefore(t, db, "0016")
	app, ep := newAppEndpoint(t, db, now)

	var all seeded
	all.eventIDs = map[string]string{}
	for day := 3; day >= 0; day-- {
		s := seedRows(t, db, app.ID, ep.ID, now.Add(-time.Duration(day)*24*time.Hour-time.Hour), 20)
		all.msgs = append(all.msgs, s.msgs...)
		all.attempts = append(all.attempts, s.attempts...)
		for k, v := range s.eventIDs {
			all.eventIDs[k] = v
		}
	}
	ahead := seedRows(t, db, app.ID, ep.ID, now.Add(30*24*time.Hour), 1)
	all.msgs = append(all.msgs, ahead.msgs...)
	all.attempts = append(all.attempts, ahead.attempts...)
	_, err := db.Pool().Exec(ctx, `INSERT INTO messages (id, app_id, event_type, payload, created_at) VALUES ('msg_zz-imported', $1, 'order.paid', '{}', $2)`,
		app.ID, now.UnixMicro())
	must(t, err)
	all.msgs = append(all.msgs, "msg_zz-imported")
	counts := map[string]int{}
	for _, table := range []string{"messages", "deliveries", "attempts"} {
		counts[table] = countRows(t, db, table)
	}

	applied, err := db.Migrate(ctx)
	must(t, err)
	if !slices.Contains(applied, "0016_partition_messages_attempts.sql") || !slices.Contains(applied, "0017_partition_deliveries.sql") {
		t.Fatalf("applied %v, want 0016 and 0017", applied)
	}
	for table, n := range counts {
		if got := countRows(t, db, table); got != n {
			t.Errorf("%s: %d rows after the migration, %d before", table, got, n)
		}
	}
	for _, table := range []string{"messages", "deliveries", "attempts"} {
		parts, err := db.Partitions(ctx, table)
		must(t, err)
		t.Logf("%s: %v", table, parts)
		if len(parts) < 3 || parts[0] != table+"_legacy" || parts[len(parts)-1] != table+"_default" {
			t.Errorf("%s partitions %v, want %s_legacy first, some ranges, %s_default last", table, parts, table, table)
		}
		if got, want := countRows(t, db, table+"_default"), map[string]int{"messages": 2, "deliveries": 1, "attempts": 2}[table]; got != want {
			t.Errorf("%s_default holds %d rows, want the strays", table, got)
		}
	}

	for _, id := range all.msgs {
		m, err := db.GetMessage(ctx, app.ID, id)
		must(t, err)
		if m.ID != id {
			t.Fatalf("GetMessage(%s) = %s", id, m.ID)
		}
		if e := all.eventIDs[id]; e != "" {
			byEvent, err := db.GetMessage(ctx, app.ID, e)
			must(t, err)
			if byEvent.ID != id || byEvent.EventID != e {
				t.Errorf("GetMessage(%s) = %s (%s), want %s", e, byEvent.ID, byEvent.EventID, id)
			}
		}
		if id == "msg_zz-imported" {
			continue
		}
		ds, err := db.ListDeliveries(ctx, app.ID, id)
		must(t, err)
		if len(ds) != 1 || ds[0].EndpointID != ep.ID {
			t.Errorf("ListDeliveries(%s) = %v", id, ds)
		}
		page, err := db.ListAttempts(ctx, app.ID, hookline.AttemptListOptions{ListOptions: hookline.ListOptions{Limit: 10}, MessageID: id})
		must(t, err)
		if len(page.Data) != 2 {
			t.Errorf("ListAttempts(msg %s): %d attempts, want 2", id, len(page.Data))
		}
	}
	for _, id := range all.attempts {
		a, err := db.GetAttempt(ctx, app.ID, id)
		must(t, err)
		if a.ID != id || a.ResponseStatusCode != 200 {
			t.Errorf("GetAttempt(%s) = %+v", id, a)
		}
	}
	var listed []string
	opts := hookline.MessageListOptions{ListOptions: hookline.ListOptions{Limit: 7}}
	for {
		page, err := db.ListMessages(ctx, app.ID, opts)
		must(t, err)
		for _, m := range page.Data {
			listed = append(listed, m.ID)
		}
		if page.Done {
			break
		}
		opts.Iterator = page.Data[len(page.Data)-1].ID
	}
	want := slices.Sorted(slices.Values(all.msgs))
	slices.Sort(listed)
	if !slices.Equal(listed, want) {
		t.Errorf("ListMessages paged through %d messages, want %d", len(listed), len(want))
	}

	// The eventId rule holds across the migration, and a new message lands in its partition.
	var old, e string
	for old, e = range all.eventIDs {
		break
	}
	dup := &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID, EventType: "order.paid", EventID: e,
		Payload: []byte(`{}`), CreatedAt: now}
	var herr *hookline.Error
	if err := db.CreateMessage(ctx, dup); !errors.As(err, &herr) || herr.Code != hookline.EDUPLICATEEVENT || herr.Existing != old {
		t.Errorf("a duplicate of eventId %q: %v, want EDUPLICATEEVENT naming %s", e, err, old)
	}
	// The legacy partition ends with the day of the migration; the next day has its own.
	tomorrow := now.Truncate(24 * time.Hour).Add(25 * time.Hour)
	fresh := &hookline.Message{ID: hookline.FirstIDAt(hookline.PrefixMessage, tomorrow), AppID: app.ID, EventType: "order.paid",
		EventID: "evt-fresh", Payload: []byte(`{}`), CreatedAt: now}
	must(t, db.CreateMessage(ctx, fresh))
	var part string
	must(t, db.Pool().QueryRow(ctx, `SELECT tableoid::regclass::text FROM messages WHERE id = $1`, fresh.ID).Scan(&part))
	if part != partitionNameAt(tomorrow.Truncate(24*time.Hour)) {
		t.Errorf("a new message is in %s, want a time partition", part)
	}
}

// TestPartitionRetention drives the clock of the maintenance leader: EnsurePartitions creates
// the partitions ahead of it, and Purge drops the messages and attempts partitions past the
// retention whole (with the partitions of the messages' deliveries, and their eventIds), keeps a
// partition that holds a
// message still being delivered, and leaves the newer rows.
func TestPartitionRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Date(2031, 3, 10, 12, 0, 0, 0, time.UTC)
	clock := clocktest.New(start)
	db := migratedAt(t, pgtest.URL(t), clock, postgres.PartitionDaily)
	parts, err := db.Partitions(ctx, "messages")
	must(t, err)
	if want := []string{"messages_p20310310t00", "messages_p20310311t00", "messages_p20310312t00",
		"messages_p20310313t00", "messages_default"}; !slices.Equal(parts, want) {
		t.Fatalf("partitions of a new database: %v, want %v", parts, want)
	}
	app, ep := newAppEndpoint(t, db, start)

	// Four days of messages, one of the first day's still pending.
	var days []seeded
	for d := range 4 {
		clock.Set(start.Add(time.Duration(d) * 24 * time.Hour))
		_, err := db.EnsurePartitions(ctx)
		must(t, err)
		days = append(days, seedRows(t, db, app.ID, ep.ID, clock.Now(), 50))
	}
	_, err = db.Pool().Exec(ctx, `UPDATE deliveries SET status = 1, next_attempt_at = $2 WHERE msg_id = $1`, days[1].msgs[7], start.UnixMicro())
	must(t, err)

	clock.Set(start.Add(5 * 24 * time.Hour)) // 2031-03-15 12:00
	created, err := db.EnsurePartitions(ctx)
	must(t, err)
	t.Logf("created %v", created)
	if !slices.Contains(created, "messages_p20310318t00") || !slices.Contains(created, "attempts_p20310318t00") {
		t.Errorf("created %v, want the partitions up to the 18th", created)
	}
	// Retention of two days: the 10th, 11th and 12th end before the 13th 12:00; the 11th holds
	// a pending delivery.
	n, err := db.Purge(ctx, clock.Now().Add(-48*time.Hour))
	must(t, err)
	if n != 50+50+49 {
		t.Errorf("Purge deleted %d messages, want 149", n)
	}
	for _, table := range []string{"messages", "deliveries", "attempts"} {
		parts, err := db.Partitions(ctx, table)
		must(t, err)
		t.Logf("%s after purge: %v", table, parts)
		for _, gone := range []string{"_p20310310t00", "_p20310312t00"} {
			if slices.Contains(parts, table+gone) {
				t.Errorf("%s%s is still there", table, gone)
			}
		}
		for _, kept := range []string{"_p20310311t00", "_p20310313t00", "_p20310316t00", "_default"} {
			if !slices.Contains(parts, table+kept) {
				t.Errorf("%s%s is gone", table, kept)
			}
		}
	}
	// What Purge keeps: the pending message (with its attempts) and the two recent days.
	if got := countRows(t, db, "messages"); got != 1+50 {
		t.Errorf("%d messages left, want 51", got)
	}
	if got := countRows(t, db, "deliveries"); got != 1+50 {
		t.Errorf("%d deliveries left, want 51", got)
	}
	if got := countRows(t, db, "attempts"); got != 2*50+2 {
		t.Errorf("%d attempts left, want 102", got)
	}
	if got := countRows(t, db, "message_event_ids"); got != 17 {
		t.Errorf("%d eventIds left, want the 17 of the 13th", got)
	}
	if _, err := db.GetMessage(ctx, app.ID, days[0].msgs[0]); err == nil {
		t.Error("a message of a dropped partition is still there")
	}
	for _, id := range []string{days[1].msgs[7], days[3].msgs[49]} {
		if _, err := db.GetMessage(ctx, app.ID, id); err != nil {
			t.Errorf("GetMessage(%s): %v", id, err)
		}
	}
	// The 11th's other messages went row by row; the pending one goes once it is delivered.
	_, err = db.Pool().Exec(ctx, `UPDATE deliveries SET status = 0, next_attempt_at = NULL WHERE msg_id = $1`, days[1].msgs[7])
	must(t, err)
	n, err = db.Purge(ctx, clock.Now().Add(-48*time.Hour))
	must(t, err)
	if n != 1 {
		t.Errorf("the second Purge deleted %d messages, want 1", n)
	}
	parts, err = db.Partitions(ctx, "messages")
	must(t, err)
	if slices.Contains(parts, "messages_p20310311t00") {
		t.Errorf("messages partitions %v: the 11th is still there", parts)
	}
}

// TestPartitionDefaultTakesStrays inserts a message whose id is from a clock a week ahead of
// every partition: it lands in the DEFAULT partition (the insert does not fail), and moves to
// its own partition when the leader's clock reaches it, readable throughout.
func TestPartitionDefaultTakesStrays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Date(2031, 3, 10, 12, 0, 0, 0, time.UTC)
	clock := clocktest.New(start)
	db := migratedAt(t, pgtest.URL(t), clock, postgres.PartitionHourly)
	app, _ := newAppEndpoint(t, db, start)
	ahead := start.Add(7 * 24 * time.Hour)
	msg := &hookline.Message{ID: hookline.FirstIDAt(hookline.PrefixMessage, ahead), AppID: app.ID, EventType: "order.paid",
		EventID: "evt-ahead", Payload: []byte(`{"ahead":true}`), CreatedAt: start}
	must(t, db.CreateMessage(ctx, msg))
	where := func() string {
		var part string
		must(t, db.Pool().QueryRow(ctx, `SELECT tableoid::regclass::text FROM messages WHERE id = $1`, msg.ID).Scan(&part))
		return part
	}
	if got := where(); got != "messages_default" {
		t.Fatalf("the stray is in %s, want messages_default", got)
	}
	clock.Set(ahead)
	created, err := db.EnsurePartitions(ctx)
	must(t, err)
	// Hourly: one partition for the week's gap, then the hours ahead.
	if len(created) < 2*25 || created[0] != "messages_p20310311t12" {
		t.Errorf("created %v", created)
	}
	if got := where(); got != partitionNameAt(ahead) {
		t.Errorf("the stray is in %s, want %s", got, partitionNameAt(ahead))
	}
	got, err := db.GetMessage(ctx, app.ID, "evt-ahead")
	must(t, err)
	if string(got.Payload) != `{"ahead":true}` {
		t.Errorf("the stray reads %s", got.Payload)
	}
}

func partitionNameAt(t time.Time) string { return "messages_p" + t.UTC().Format("20060102t15") }

// TestPartitionPruning shows, with EXPLAIN, that the reads by id use one partition's index, and
// that the lists by application, endpoint and message are index scans of the partitions in
// id order that stop at the page's LIMIT. The test's partitions are tiny, so sequential scans
// are turned off for the EXPLAIN: what it shows is that an index plan exists that prunes.
func TestPartitionPruning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Now().UTC().Add(-3 * 24 * time.Hour)
	clock := clocktest.New(start)
	db := migratedAt(t, pgtest.URL(t), clock, postgres.PartitionDaily)
	app, ep := newAppEndpoint(t, db, start)
	var s seeded
	for d := range 4 {
		clock.Set(start.Add(time.Duration(d) * 24 * time.Hour))
		_, err := db.EnsurePartitions(ctx)
		must(t, err)
		s = seedRows(t, db, app.ID, ep.ID, clock.Now(), 20)
	}
	_, err := db.Pool().Exec(ctx, `ANALYZE messages; ANALYZE attempts`)
	must(t, err)
	conn, err := db.Pool().Acquire(ctx)
	must(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, `SET enable_seqscan = off`)
	must(t, err)
	defer conn.Exec(ctx, `RESET enable_seqscan`)
	for _, c := range []struct {
		name, query string
		args        []any
		partitions  int // how many partitions the plan may read; 0: any, as long as it stops at LIMIT
	}{
		{"message by id", `SELECT * FROM messages WHERE app_id = $1 AND id = $2`, []any{app.ID, s.msgs[3]}, 1},
		{"attempt by id", `SELECT * FROM attempts WHERE app_id = $1 AND id = $2`, []any{app.ID, s.attempts[3]}, 1},
		{"messages of an application", `SELECT * FROM messages WHERE app_id = $1 ORDER BY id DESC LIMIT 50`, []any{app.ID}, 0},
		{"messages after an iterator", `SELECT * FROM messages WHERE app_id = $1 AND id < $2 ORDER BY id DESC LIMIT 50`, []any{app.ID, s.msgs[0]}, 0},
		{"attempts of an endpoint", `SELECT * FROM attempts WHERE app_id = $1 AND endpoint_id = $2 ORDER BY id DESC LIMIT 50`, []any{app.ID, ep.ID}, 0},
		{"attempts of a message", `SELECT * FROM attempts WHERE app_id = $1 AND msg_id = $2 ORDER BY id DESC LIMIT 50`, []any{app.ID, s.msgs[3]}, 0},
	} {
		plan := explain(t, conn, c.query, c.args...)
		t.Logf("%s:\n%s", c.name, plan)
		if strings.Contains(plan, "Seq Scan") {
			t.Errorf("%s: a sequential scan", c.name)
		}
		scans := strings.Count(plan, "Index Scan") + strings.Count(plan, "Index Only Scan") + strings.Count(plan, "Bitmap Index Scan")
		if c.partitions > 0 && scans != c.partitions {
			t.Errorf("%s: %d index scans, want %d", c.name, scans, c.partitions)
		}
		if c.partitions == 0 && !strings.Contains(plan, "Limit") {
			t.Errorf("%s: no Limit", c.name)
		}
	}
}

// TestReclaimRewritesExpungedPartitions expunges one message of an older day: ReclaimExpunged
// rewrites (VACUUM FULL: a new file) the partitions of messages and attempts that held its
// content, and leaves the other days' partitions alone.
func TestReclaimRewritesExpungedPartitions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := twoDays(t, pgtest.URL(t))
	db, app, old := d.db, d.app, d.old
	before := relFiles(t, db)
	_, err := db.ExpungeMessages(ctx, app.ID, []string{old.msgs[2]})
	must(t, err)
	must(t, db.ReclaimExpunged(ctx))
	after := relFiles(t, db)
	oldDay, newDay := d.oldDay, d.newDay
	for _, table := range []string{"messages", "attempts"} {
		if before[table+oldDay] == after[table+oldDay] {
			t.Errorf("%s%s was not rewritten", table, oldDay)
		}
		if before[table+newDay] != after[table+newDay] {
			t.Errorf("%s%s was rewritten, though it held nothing expunged", table, newDay)
		}
	}
	m, err := db.GetMessage(ctx, app.ID, old.msgs[2])
	must(t, err)
	if len(m.Payload) != 0 {
		t.Errorf("the expunged payload reads %q", m.Payload)
	}
}

// TestReclaimDefersOpenPartitions expunges a message of an older day and one of today, by
// another process than the one that reclaims (the notes are in the database). By default
// (ExpungeDeferred) ReclaimExpunged rewrites the older day's partitions at once and leaves
// today's, which still take every new attempt, noted until the day is over; a store in
// ExpungeRewrite mode rewrites today's at once.
func TestReclaimDefersOpenPartitions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	d := twoDays(t, url)
	db, clock, app, old, today := d.db, d.clock, d.app, d.old, d.today
	files := func() map[string]uint32 { return relFiles(t, db) }
	notes := func() []string {
		rows, err := db.Pool().Query(ctx, `SELECT DISTINCT relation FROM expunge_reclaims ORDER BY 1`)
		must(t, err)
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		must(t, err)
		return got
	}
	other := openAt(t, url, clock, postgres.PartitionDaily) // the process that took the request
	_, err := other.ExpungeMessages(ctx, app.ID, []string{old.msgs[1], today.msgs[1]})
	must(t, err)
	oldDay, newDay := d.oldDay, d.newDay
	if got, want := notes(), []string{"attempts" + oldDay, "attempts" + newDay, "messages" + oldDay, "messages" + newDay}; !slices.Equal(got, want) {
		t.Fatalf("noted %v, want %v", got, want)
	}
	before := files()
	must(t, db.ReclaimExpunged(ctx))
	after := files()
	for _, table := range []string{"messages", "attempts"} {
		if before[table+oldDay] == after[table+oldDay] {
			t.Errorf("%s%s was not rewritten", table, oldDay)
		}
		if before[table+newDay] != after[table+newDay] {
			t.Errorf("%s%s was rewritten while it still takes rows", table, newDay)
		}
	}
	if got, want := notes(), []string{"attempts" + newDay, "messages" + newDay}; !slices.Equal(got, want) {
		t.Fatalf("noted after the reclaim %v, want today's partitions still noted", got)
	}

	// Today's partitions are rewritten by a reclaim once the day is over (and a few minutes
	// for clocks behind), or at once by a store that rewrites.
	rewriter, err := postgres.Open(ctx, url, postgres.Options{SecretBox: testBox(t), MaxConns: 2, Clock: clock,
		PartitionInterval: postgres.PartitionDaily, Expunge: postgres.ExpungeRewrite})
	must(t, err)
	defer rewriter.Close()
	must(t, rewriter.ReclaimExpunged(ctx))
	rewritten := files()
	for _, table := range []string{"messages", "attempts"} {
		if after[table+newDay] == rewritten[table+newDay] {
			t.Errorf("%s%s was not rewritten by a store in rewrite mode", table, newDay)
		}
	}
	if got := notes(); len(got) != 0 {
		t.Fatalf("noted after the rewrite %v, want none", got)
	}
	_, err = other.ExpungeMessages(ctx, app.ID, []string{today.msgs[2]})
	must(t, err)
	must(t, db.ReclaimExpunged(ctx))
	if len(notes()) == 0 {
		t.Fatal("today's partitions were reclaimed within the day")
	}
	clock.Set(partitionEnd(clock.Now()).Add(6 * time.Minute))
	must(t, db.ReclaimExpunged(ctx))
	if got := notes(); len(got) != 0 {
		t.Fatalf("noted after the day %v, want none", got)
	}
	for _, id := range []string{old.msgs[1], today.msgs[1], today.msgs[2]} {
		m, err := db.GetMessage(ctx, app.ID, id)
		must(t, err)
		if len(m.Payload) != 0 {
			t.Errorf("the expunged payload of %s reads %q", id, m.Payload)
		}
	}
}

// twoDaysOfRows is a migrated store with a day of rows two days ago and a day of rows today, on
// a clock set to today.
type twoDaysOfRows struct {
	db             *postgres.DB
	clock          *clocktest.Clock
	app            *hookline.Application
	old, today     seeded
	oldDay, newDay string // the suffix of each day's partitions
}

func twoDays(t *testing.T, url string) twoDaysOfRows {
	t.Helper()
	start := time.Now().UTC().Add(-2 * 24 * time.Hour)
	d := twoDaysOfRows{clock: clocktest.New(start)}
	d.db = migratedAt(t, url, d.clock, postgres.PartitionDaily)
	var ep *hookline.Endpoint
	d.app, ep = newAppEndpoint(t, d.db, start)
	d.old = seedRows(t, d.db, d.app.ID, ep.ID, start, 5)
	d.clock.Set(start.Add(2 * 24 * time.Hour))
	_, err := d.db.EnsurePartitions(context.Background())
	must(t, err)
	d.today = seedRows(t, d.db, d.app.ID, ep.ID, d.clock.Now(), 5)
	d.oldDay, d.newDay = "_p"+start.Format("20060102")+"t00", "_p"+d.clock.Now().Format("20060102")+"t00"
	return d
}

// relFiles returns the file (relfilenode) of each partition of messages and attempts: a
// rewrite gives a partition a new one.
func relFiles(t *testing.T, db *postgres.DB) map[string]uint32 {
	t.Helper()
	rows, err := db.Pool().Query(context.Background(), `SELECT relname::text, relfilenode::int8 FROM pg_class
		WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r' AND (relname LIKE 'messages_p%' OR relname LIKE 'attempts_p%')`)
	must(t, err)
	defer rows.Close()
	out := map[string]uint32{}
	for rows.Next() {
		var name string
		var node int64
		must(t, rows.Scan(&name, &node))
		out[name] = uint32(node)
	}
	must(t, rows.Err())
	return out
}

// partitionEnd is the end of the day that holds t.
func partitionEnd(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour) }

// TestDeliveriesPartitionedOnALaterDay takes migration 0016 one day and 0017 (deliveries) two
// days later: the legacy partition of deliveries then spans partitions of messages. Purge
// deletes the deliveries of the messages it drops row by row from it, and drops it whole once
// none of its messages is left.
func TestDeliveriesPartitionedOnALaterDay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Date(2031, 3, 10, 12, 0, 0, 0, time.UTC)
	clock := clocktest.New(start)
	db := openAt(t, pgtest.URL(t), clock, postgres.PartitionDaily)
	migrateBefore(t, db, "0016")
	app, ep := newAppEndpoint(t, db, start)
	first := seedRows(t, db, app.ID, ep.ID, start, 10)
	must(t, db.MigrateBefore(ctx, 17))
	must(t, db.Pool().QueryRow(ctx, `SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'messages'::regclass`).Scan(new(int)))
	clock.Set(start.Add(48 * time.Hour))
	second := seedRows(t, db, app.ID, ep.ID, clock.Now().Add(-24*time.Hour), 10) // the 11th, in messages_p20310311t00
	_, err := db.Migrate(ctx)
	must(t, err)
	parts, err := db.Partitions(ctx, "deliveries")
	must(t, err)
	if len(parts) == 0 || parts[0] != "deliveries_legacy" || slices.Contains(parts, "deliveries_p20310311t00") {
		t.Fatalf("deliveries partitions %v, want the legacy one holding the 11th", parts)
	}
	if got := countRows(t, db, "deliveries"); got != 20 {
		t.Fatalf("%d deliveries after 0017, want 20", got)
	}
	// The 10th goes: its deliveries are deleted from the legacy partition, which stays (the 11th's
	// are in it).
	clock.Set(start.Add(5 * 24 * time.Hour))
	n, err := db.Purge(ctx, start.Add(13*time.Hour))
	must(t, err)
	if n != 10 || countRows(t, db, "deliveries") != 10 {
		t.Errorf("Purge of the 10th: %d messages, %d deliveries left, want 10 and 10", n, countRows(t, db, "deliveries"))
	}
	// Then the 11th and the 12th: nothing of the legacy partition's messages is left.
	n, err = db.Purge(ctx, start.Add(60*time.Hour))
	must(t, err)
	if n != 10 || countRows(t, db, "deliveries") != 0 {
		t.Errorf("Purge of the 11th: %d messages, %d deliveries left, want 10 and 0", n, countRows(t, db, "deliveries"))
	}
	parts, err = db.Partitions(ctx, "deliveries")
	must(t, err)
	if slices.Contains(parts, "deliveries_legacy") {
		t.Errorf("deliveries partitions %v: the legacy one is still there", parts)
	}
	for _, id := range append(first.msgs, second.msgs...) {
		if _, err := db.GetMessage(ctx, app.ID, id); err == nil {
			t.Errorf("message %s is still there", id)
		}
	}
}
