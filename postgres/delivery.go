package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var _ hookline.DeliveryStore = (*DB)(nil)

// claimQuery leases due deliveries in one statement. FOR UPDATE SKIP LOCKED lets any number of
// processes claim at once: each locks the rows it takes and passes over rows another claimer
// holds, and the re-check of the WHERE clause after the lock leaves out rows that a claimer
// committed meanwhile, so no delivery is leased twice. The two branches (due pending rows,
// expired leases) are limited separately, each along its own partial index, before they are
// merged: an OR of both conditions would make PostgreSQL collect every due row of a large
// backlog just to sort it and keep the first few. The picked ids are handed to the UPDATE as
// an array, so it finds them by primary key rather than joining against the whole table; their
// messages' ids too, so that it looks only into the partitions that hold them.
const claimQuery = `WITH due AS (
		SELECT id, msg_id, next_attempt_at FROM deliveries WHERE status = 1 AND next_attempt_at <= $3
		ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED
	), expired AS (
		SELECT id, msg_id, next_attempt_at FROM deliveries WHERE status = 3 AND leased_until < $3
		ORDER BY leased_until LIMIT $4 FOR UPDATE SKIP LOCKED
	), picked AS (
		SELECT id, msg_id FROM (SELECT id, msg_id, next_attempt_at FROM due UNION ALL SELECT id, msg_id, next_attempt_at FROM expired) AS c
		ORDER BY next_attempt_at, id LIMIT $4
	)
	UPDATE deliveries d SET status = 3, lease_owner = $1, leased_until = $2, updated_at = $5
	WHERE d.id = ANY (ARRAY (SELECT id FROM picked)) AND d.msg_id = ANY (ARRAY (SELECT msg_id FROM picked))
	RETURNING d.id, d.app_id, d.msg_id, d.endpoint_id, d.status, d.attempt_count, d.next_attempt_at, d.trigger_type,
		d.created_at, d.updated_at`

// ClaimDeliveries leases up to p.Limit due deliveries to p.Owner, then loads their messages,
// endpoints and rate limits, each once, in one more round trip; these jobs come first, in due
// order. With the room left it fans messages awaiting dispatch out (see fanOut).
func (db *DB) ClaimDeliveries(ctx context.Context, p hookline.ClaimParams) ([]hookline.Job, error) {
	if p.Owner == "" {
		return nil, errors.New("postgres: claim deliveries: Owner is required")
	}
	if p.Limit <= 0 {
		return []hookline.Job{}, nil
	}
	claimed, err := queryAll(ctx, db, claimQuery, args{p.Owner, micros(p.LeaseUntil), micros(p.Now), p.Limit, micros(db.now())}, sqlcodec.ScanDelivery)
	if err != nil {
		return nil, dbErr(err, "claim deliveries")
	}
	jobs := []hookline.Job{}
	messages := map[string]*hookline.Message{}
	if len(claimed) > 0 {
		due := func(d hookline.Delivery) int64 {
			if d.NextAttemptAt == nil {
				return 0
			}
			return micros(*d.NextAttemptAt)
		}
		slices.SortFunc(claimed, func(a, b hookline.Delivery) int {
			return cmp.Or(cmp.Compare(due(a), due(b)), strings.Compare(a.ID, b.ID))
		})
		if jobs, err = db.loadJobs(ctx, claimed, messages); err != nil {
			return nil, err
		}
	}
	return db.fanOut(ctx, p, jobs, messages)
}

// maxFanOutMessages bounds the messages one statement of a claim leases for fan-out.
const maxFanOutMessages = 256

// leaseMessagesQuery leases up to $4 messages due for dispatch at $3 to $1 until $2, oldest due
// first, and returns them. FOR UPDATE SKIP LOCKED hands each message to one claimer, as
// claimQuery does deliveries; the partial index messages_dispatch holds only the messages
// awaiting dispatch.
const leaseMessagesQuery = `UPDATE messages SET dispatch_owner = $1, dispatch_until = $2
	WHERE id = ANY (ARRAY (
		SELECT id FROM messages WHERE dispatch_until <= $3 ORDER BY dispatch_until LIMIT $4 FOR UPDATE SKIP LOCKED
	))
	RETURNING ` + sqlcodec.MessageColumns

// fanOut fills the room that p.Limit leaves after jobs with Fresh jobs: it leases due messages
// a few at a time (as many as the average fan-out says fit, one when nothing else was found),
// fans each batch out, stores the deliveries beyond the room as pending and ends the dispatch
// of the messages left with nothing to send. A leased message that is also the message of a
// job in jobs (its messages, by id) shares that job's *Message.
func (db *DB) fanOut(ctx context.Context, p hookline.ClaimParams, jobs []hookline.Job, messages map[string]*hookline.Message) ([]hookline.Job, error) {
	// The spill is due at once: at the claim's time, or the clock's if that is earlier, so that
	// the next claim finds it whichever of the two it goes by.
	now := db.now()
	if p.Now.Before(now) {
		now = normTime(p.Now)
	}
	for room := p.Limit - len(jobs); room > 0; {
		k := db.fanHint.Messages(room, maxFanOutMessages)
		if k == 0 {
			if len(jobs) > 0 {
				break // not one more message fits whole; the next claim takes it
			}
			k = 1
		}
		msgs, err := queryAll(ctx, db, leaseMessagesQuery, args{p.Owner, micros(p.LeaseUntil), micros(p.Now), k},
			func(s scanner) (**hookline.Message, error) {
				m, err := sqlcodec.ScanMessage(s)
				return &m, err
			})
		if err != nil {
			return nil, dbErr(err, "claim deliveries: lease messages")
		}
		if len(msgs) == 0 {
			break
		}
		slices.SortFunc(msgs, func(a, b *hookline.Message) int {
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
		})
		for i, m := range msgs {
			if shared := messages[m.ID]; shared != nil {
				msgs[i] = shared
			}
			// The lease the fan-out's jobs go under, which their outcomes name.
			msgs[i].Lease = &hookline.DispatchLease{Owner: p.Owner, Until: normTime(p.LeaseUntil)}
		}
		out, err := db.fanOutMessages(ctx, p.Owner, msgs, room, now, true)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, out.Jobs...)
		room -= len(out.Jobs)
		if len(msgs) < k {
			break // no more messages are due
		}
	}
	return jobs, nil
}

// FanOut fans out messages created leased to owner (Message.Lease): one round trip reads
// their endpoints, and a transaction follows only for a spill, a message with nothing to send
// or messages released for lack of room.
func (db *DB) FanOut(ctx context.Context, owner string, msgs []*hookline.Message, room int, now time.Time) ([]hookline.Job, error) {
	if owner == "" {
		return nil, errors.New("postgres: fan out: owner is required")
	}
	if len(msgs) == 0 {
		return []hookline.Job{}, nil
	}
	out, err := db.fanOutMessages(ctx, owner, msgs, max(room, 0), normTime(now), false)
	if err != nil {
		return nil, err
	}
	if out.Jobs == nil {
		out.Jobs = []hookline.Job{}
	}
	return out.Jobs, nil
}

// fanOutMessages fans leased messages out to their applications' endpoints, loaded with the
// deliveries the messages already have in one round trip, then stores the spill, ends the
// dispatch of the messages without Fresh jobs and releases those there was no room for
// (sqlcodec.FanOut.Released) in one transaction, which notifies DeliveriesChannel when it
// stored deliveries or released messages. Spilled deliveries whose message or endpoint was
// deleted meanwhile are left out.
//
// checkExisting looks up the deliveries the messages already have; FanOut skips it for
// messages created leased to their owner, which no one else can have fanned out while the
// lease lasts (a Fresh outcome for a delivery that exists after all is dropped when recorded).
func (db *DB) fanOutMessages(ctx context.Context, owner string, msgs []*hookline.Message, room int, now time.Time, checkExisting bool) (sqlcodec.FanOut, error) {
	appIDs, msgIDs := sqlcodec.FanOutKeys(msgs)
	targets := make(map[string][]sqlcodec.Target, len(appIDs))
	existing := map[sqlcodec.Pair]bool{}
	var b pgx.Batch
	// Disabled endpoints accept nothing, so they are not loaded (nor their secrets opened).
	db.queueTargets(&b, `app_id = ANY($1::text[]) AND NOT disabled ORDER BY app_id, id`, appIDs, func(t sqlcodec.Target) {
		targets[t.Endpoint.AppID] = append(targets[t.Endpoint.AppID], t)
	})
	if checkExisting {
		b.Queue(`SELECT msg_id, endpoint_id FROM delivery_rows WHERE msg_id = ANY($1::text[])`, msgIDs).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var p sqlcodec.Pair
				if err := rows.Scan(&p.MessageID, &p.EndpointID); err != nil {
					return err
				}
				existing[p] = true
			}
			return rows.Err()
		})
	}
	if err := db.pool.SendBatch(ctx, &b).Close(); err != nil {
		return sqlcodec.FanOut{}, dbErr(err, "claim deliveries: load endpoints and deliveries")
	}

	out := sqlcodec.Fan(msgs, targets, existing, room, now)
	db.fanHint.Observe(len(msgs)-len(out.Released), len(out.Jobs)+len(out.Spill))
	if len(out.Spill) == 0 && len(out.Done) == 0 && len(out.Released) == 0 {
		return out, nil
	}
	var spill deliveryRows
	var spillUntil []*int64 // the dispatch lease each spilled delivery's message is under
	leases := make(map[string]*int64, len(msgs))
	for _, m := range msgs {
		if m.Lease != nil {
			leases[m.ID] = nullMicros(&m.Lease.Until)
		}
	}
	for _, d := range out.Spill {
		spill.add(d)
		spillUntil = append(spillUntil, leases[d.MessageID])
	}
	// In id order, so concurrent transactions lock messages in the same order.
	slices.Sort(out.Done)
	slices.Sort(out.Released)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var b pgx.Batch
		if len(spill.id) > 0 {
			b.Queue(`INSERT INTO deliveries (`+sqlcodec.DeliveryColumns+`)
				SELECT u.id, u.app_id, u.msg_id, u.endpoint_id, u.status, 0, u.next_at, 0, u.created_at, u.created_at
				FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[], $8::text[],
					$9::text[], $10::bigint[]) AS u (id, app_id, msg_id, endpoint_id, status, next_at, created_at, floor, owner, until)
				WHERE `+deliveryTargetExists+`
				ON CONFLICT (msg_id, endpoint_id) DO NOTHING`,
				spill.id, spill.appID, spill.msgID, spill.epID, spill.status, spill.nextAt, spill.createdAt, spill.floor,
				slices.Repeat([]string{owner}, len(spill.id)), spillUntil)
			b.Queue(notifyDeliveries)
		}
		if len(out.Done) > 0 {
			b.Queue(`UPDATE messages SET dispatch_until = NULL, dispatch_owner = NULL
				WHERE id = ANY($1::text[]) AND dispatch_owner = $2`, out.Done, owner)
		}
		if len(out.Released) > 0 {
			// Due again at their creation, for whichever process claims first.
			b.Queue(`UPDATE messages SET dispatch_until = created_at, dispatch_owner = NULL
				WHERE id = ANY($1::text[]) AND dispatch_owner = $2`, out.Released, owner)
			if len(spill.id) == 0 {
				b.Queue(notifyDeliveries)
			}
		}
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return retryOnVanished(dbErr(err, "claim deliveries: store spill"))
		}
		return nil
	})
	if err != nil {
		return sqlcodec.FanOut{}, err
	}
	return out, nil
}

// deliveryTargetExists is the condition, over unnest rows u (msg_id, endpoint_id, owner, until,
// floor), that a delivery inserted from them still has its message and endpoint (one deleted
// after the fan-out loses its delivery rather than failing the statement on a foreign key), and
// that the message has no rowless delivery to the endpoint (migration 0019; a row would meet the
// unique index). That can only happen when the message was fanned out again after the dispatch
// lease (owner, until) that the row's fan-out went under had ended, by another process or by
// owner itself under a newer lease, so the attempts are searched only when the message is no
// longer under that lease (or the row does not say which: a NULL until): never on the way of a
// normal delivery. The search looks at attempts with ids from
// u.floor on (rowlessSearchFloor), so that PostgreSQL prunes the attempts partitions older than
// the message.
//
// Each row is looked for by its id alone (ids are unique across applications): with u.app_id in
// the conditions the planner made one equivalence class of the app_id columns, and its generic
// plan for the prepared statement scanned every message of the application for each row
// (messages_app_id with app_id = e.app_id, the id as a filter), 200 buffers per delivery
// instead of 3.
const deliveryTargetExists = `EXISTS (SELECT 1 FROM messages m WHERE m.id = u.msg_id
		AND (m.dispatch_owner = u.owner AND m.dispatch_until = u.until
			OR NOT EXISTS (SELECT 1 FROM attempts a WHERE a.msg_id = u.msg_id
				AND a.id >= u.floor AND a.endpoint_id = u.endpoint_id AND a.rowless)))
	AND EXISTS (SELECT 1 FROM endpoints e WHERE e.id = u.endpoint_id)`

// errTargetVanished makes inTx run a transaction again whose insert met a foreign key violation:
// a message or endpoint it checked was deleted before the insert locked it, which the rerun's
// deliveryTargetExists sees.
var errTargetVanished = &retryError{"a message or endpoint was deleted under the insert"}

// retryOnVanished returns errTargetVanished for a foreign key violation and err otherwise.
func retryOnVanished(err error) error {
	if err != nil && isForeignKeyViolation(err) {
		return fmt.Errorf("%w: %w", errTargetVanished, err)
	}
	return err
}

// deliveryRows holds new pending deliveries column by column, for one INSERT … SELECT FROM
// unnest(…).
type deliveryRows struct {
	id, appID, msgID, epID []string
	floor                  []string // rowlessSearchFloor of the message
	floors                 searchFloors
	status                 []int32
	nextAt, createdAt      []int64
}

func (r *deliveryRows) add(d hookline.Delivery) {
	r.id = append(r.id, d.ID)
	r.appID = append(r.appID, d.AppID)
	r.msgID = append(r.msgID, d.MessageID)
	r.epID = append(r.epID, d.EndpointID)
	r.status = append(r.status, int32(d.Status))
	r.nextAt = append(r.nextAt, micros(*d.NextAttemptAt))
	r.createdAt = append(r.createdAt, micros(d.CreatedAt))
	if r.floors == nil {
		r.floors = searchFloors{}
	}
	r.floor = append(r.floor, r.floors.of(d.MessageID))
}

// queueTargets queues on b the query of the endpoints matching cond (a WHERE clause over
// endpoints whose one argument is arg) with the rate limit that applies to each (the
// endpoint's, or its application's), and calls fn with each, its secrets opened. Unreadable
// rows are logged and skipped: one broken row must not stall every batch it is claimed with.
func (db *DB) queueTargets(b *pgx.Batch, cond string, arg any, fn func(sqlcodec.Target)) {
	b.Queue(`SELECT `+sqlcodec.TargetColumns+` FROM endpoints WHERE `+cond, arg).Query(func(rows pgx.Rows) error {
		return sqlcodec.EachTarget(rows, db.box, func(err error) {
			db.log.Error("postgres: cannot deliver to an unreadable endpoint", "err", err)
		}, fn)
	})
}

// loadJobs attaches to each claimed delivery its message and endpoint, loaded with one query
// per kind, both sent in one batch. Jobs of one message share one *Message and jobs of one
// endpoint one *Endpoint, so each secret is opened once. The messages loaded are added to
// messages, by id. A delivery whose endpoint is unreadable stays leased, and comes back when
// the lease ends.
func (db *DB) loadJobs(ctx context.Context, claimed []hookline.Delivery, messages map[string]*hookline.Message) ([]hookline.Job, error) {
	var msgIDs, epIDs []string
	seenMsg, seenEP := map[string]bool{}, map[string]bool{}
	for _, d := range claimed {
		if !seenMsg[d.MessageID] {
			seenMsg[d.MessageID] = true
			msgIDs = append(msgIDs, d.MessageID)
		}
		if !seenEP[d.EndpointID] {
			seenEP[d.EndpointID] = true
			epIDs = append(epIDs, d.EndpointID)
		}
	}

	endpoints := make(map[string]sqlcodec.Target, len(epIDs))
	var b pgx.Batch
	b.Queue(`SELECT `+sqlcodec.MessageColumns+` FROM messages WHERE id = ANY($1::text[])`, msgIDs).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			m, err := sqlcodec.ScanMessage(rows)
			if err != nil {
				return err
			}
			messages[m.ID] = m
		}
		return rows.Err()
	})
	db.queueTargets(&b, `id = ANY($1::text[])`, epIDs, func(t sqlcodec.Target) { endpoints[t.Endpoint.ID] = t })
	if err := db.pool.SendBatch(ctx, &b).Close(); err != nil {
		return nil, dbErr(err, "claim deliveries: load messages and endpoints")
	}

	jobs := make([]hookline.Job, 0, len(claimed))
	for _, d := range claimed {
		m, ep := messages[d.MessageID], endpoints[d.EndpointID]
		if m == nil || ep.Endpoint == nil {
			// Deleted between the claim and the load: the cascade took the delivery with it.
			db.log.Debug("postgres: claimed delivery lost its message or endpoint", "delivery", d.ID)
			continue
		}
		jobs = append(jobs, hookline.Job{Delivery: d, Message: m, Endpoint: ep.Endpoint, RateLimit: ep.RateLimit})
	}
	return jobs, nil
}

// RecordAttempts applies a batch of outcomes in one transaction of four round trips: begin,
// one batch that inserts the deliveries of Fresh outcomes and updates every other delivery, one
// batch that inserts the attempts, writes each touched endpoint's health once (in id order, so
// concurrent batches lock endpoints in the same order), ends the dispatch of the messages that
// outcomes complete and reads the health back, and commit. An outcome whose delivery no longer
// exists (its endpoint or message was deleted meanwhile), or no longer leased to its Owner, is
// skipped, and so is a Fresh outcome whose message already has a delivery to the endpoint or
// whose message or endpoint is gone. Attempts with an empty ID or zero CreatedAt get them
// filled in, and their app, message and endpoint ids are set from the delivery (from the
// outcome for a Fresh one).
//
// Health counts by the delivery's next state: an outcome of StatusSuccess resets the failure
// streak, any other outcome with an attempt extends it. LastStatus is the attempt's status.
func (db *DB) RecordAttempts(ctx context.Context, outcomes []hookline.Outcome) ([]hookline.EndpointHealth, error) {
	if len(outcomes) == 0 {
		return []hookline.EndpointHealth{}, nil
	}
	now := db.now()
	// The deliveries' next states; a delivery named twice ends in its last outcome's state (and
	// is inserted when one of them is Fresh).
	type next struct {
		status    int32
		at        *int64
		attempted int32
		owner     string
		msgID     string // "" when no outcome named it
		fresh     bool
		target    deliveryTarget
		outcomes  int
		attempt   *hookline.Attempt // the last outcome's
		until     *int64            // the dispatch lease of a fresh delivery's fan-out, when known
	}
	byDelivery := map[string]*next{}
	var ids []string
	// The dispatches to end: message id and the owner that must still hold it.
	type dispatch struct{ msgID, owner string }
	completes := map[dispatch]bool{}
	for i := range outcomes {
		o := &outcomes[i]
		switch o.Status {
		case hookline.StatusSuccess, hookline.StatusFail, hookline.StatusPending, hookline.StatusCanceled:
		default:
			return nil, fmt.Errorf("postgres: record attempts: delivery %s: next status %v is not success, fail, canceled or pending", o.DeliveryID, o.Status)
		}
		if o.Fresh && (o.AppID == "" || o.MessageID == "" || o.EndpointID == "") {
			return nil, fmt.Errorf("postgres: record attempts: fresh delivery %s: AppID, MessageID and EndpointID are required", o.DeliveryID)
		}
		if o.CompletesDispatch && o.MessageID == "" {
			return nil, fmt.Errorf("postgres: record attempts: delivery %s: CompletesDispatch without MessageID", o.DeliveryID)
		}
		if a := o.Attempt; a != nil {
			if a.ID == "" {
				a.ID = hookline.NewID(hookline.PrefixAttempt)
			}
			if a.CreatedAt.IsZero() {
				a.CreatedAt = now
			}
			a.CreatedAt = normTime(a.CreatedAt)
			a.DeliveryID = o.DeliveryID
		}
		n := byDelivery[o.DeliveryID]
		if n == nil {
			n = &next{}
			byDelivery[o.DeliveryID] = n
			ids = append(ids, o.DeliveryID)
		}
		n.status, n.at, n.owner = int32(o.Status), nil, o.Owner
		if o.MessageID != "" {
			n.msgID = o.MessageID
		}
		if o.Status == hookline.StatusPending {
			n.at = nullMicros(cmp.Or(normTimePtr(o.NextAttemptAt), &now))
		}
		if o.Attempt != nil {
			n.attempted++
		}
		n.outcomes++
		n.attempt = o.Attempt
		if o.Fresh && !o.DispatchUntil.IsZero() {
			n.until = nullMicros(&o.DispatchUntil)
		}
		if o.Fresh && !n.fresh {
			n.fresh, n.target = true, deliveryTarget{o.AppID, o.MessageID, o.EndpointID}
		}
		if o.CompletesDispatch {
			completes[dispatch{o.MessageID, o.Owner}] = true
		}
	}
	var fresh, recorded struct {
		ids, owners         []string
		appIDs, msgIDs, eps []string
		floors              []string // fresh: rowlessSearchFloor of the message
		untils              []*int64 // fresh: the dispatch lease of the fan-out
		statuses, attempted []int32
		nextAt              []*int64
	}
	allMsgIDs := true // every recorded outcome names its message
	// A new delivery whose one outcome is a successful attempt is stored as that attempt alone
	// (rowless; migration 0019), inserted with the deliveries in the first statement batch.
	var rowless attemptRows
	var rowlessFloor, rowlessOwner []string
	var rowlessUntil []*int64
	rowlessOf := map[string]string{} // the outcomes' delivery id by attempt id
	floors := searchFloors{}
	for _, id := range ids {
		n := byDelivery[id]
		if n.fresh && n.outcomes == 1 && n.attempt != nil && n.status == int32(hookline.StatusSuccess) &&
			strings.HasPrefix(n.attempt.ID, hookline.PrefixAttempt) {
			a := n.attempt
			a.AppID, a.MessageID, a.EndpointID = n.target.appID, n.target.msgID, n.target.epID
			a.DeliveryID = rowlessDeliveryID(a.ID)
			rowlessOf[a.ID] = id
			if err := rowless.add(a); err != nil {
				return nil, fmt.Errorf("postgres: record attempts: %w", err)
			}
			rowlessFloor = append(rowlessFloor, floors.of(a.MessageID))
			rowlessOwner = append(rowlessOwner, n.owner)
			rowlessUntil = append(rowlessUntil, n.until)
			continue
		}
		r := &recorded
		if n.fresh {
			r = &fresh
			r.appIDs = append(r.appIDs, n.target.appID)
			r.msgIDs = append(r.msgIDs, n.target.msgID)
			r.eps = append(r.eps, n.target.epID)
			r.floors = append(r.floors, floors.of(n.target.msgID))
			r.untils = append(r.untils, n.until)
		}
		if !n.fresh {
			r.msgIDs = append(r.msgIDs, n.msgID)
			allMsgIDs = allMsgIDs && n.msgID != ""
		}
		r.ids = append(r.ids, id)
		r.owners = append(r.owners, n.owner)
		r.statuses = append(r.statuses, n.status)
		r.nextAt = append(r.nextAt, n.at)
		r.attempted = append(r.attempted, n.attempted)
	}
	// In message id order, so concurrent batches lock messages in the same order.
	ends := slices.SortedFunc(maps.Keys(completes), func(a, b dispatch) int {
		return cmp.Or(strings.Compare(a.msgID, b.msgID), strings.Compare(a.owner, b.owner))
	})
	endIDs, endOwners := make([]string, len(ends)), make([]string, len(ends))
	for i, e := range ends {
		endIDs[i], endOwners[i] = e.msgID, e.owner
	}

	var health []hookline.EndpointHealth
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		targets := make(map[string]deliveryTarget, len(ids))
		stored := map[*hookline.Attempt]bool{} // rowless attempts, inserted already
		var b pgx.Batch
		if len(fresh.ids) > 0 {
			b.Queue(`INSERT INTO deliveries (`+sqlcodec.DeliveryColumns+`)
				SELECT u.id, u.app_id, u.msg_id, u.endpoint_id, u.status, u.attempted, u.next_at, 0, $8, $8
				FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::int[], $9::text[],
					$10::text[], $11::bigint[]) AS u (id, app_id, msg_id, endpoint_id, status, next_at, attempted, floor, owner, until)
				WHERE `+deliveryTargetExists+`
				ON CONFLICT (msg_id, endpoint_id) DO NOTHING
				RETURNING id`, fresh.ids, fresh.appIDs, fresh.msgIDs, fresh.eps, fresh.statuses, fresh.nextAt,
				fresh.attempted, micros(now), fresh.floors, fresh.owners, fresh.untils).Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var id string
					if err := rows.Scan(&id); err != nil {
						return err
					}
					targets[id] = byDelivery[id].target
				}
				return rows.Err()
			})
		}
		if len(recorded.ids) > 0 {
			// With the message ids, each row is looked for in the one partition of deliveries
			// that holds its message.
			byMessage := ""
			if !allMsgIDs {
				recorded.msgIDs = nil
			} else {
				byMessage = " AND d.msg_id = u.msg_id"
			}
			b.Queue(`UPDATE deliveries d SET status = u.status, next_attempt_at = u.next_at,
				attempt_count = d.attempt_count + u.attempted, lease_owner = NULL, leased_until = NULL,
				trigger_type = CASE WHEN u.attempted > 0 THEN 0 ELSE d.trigger_type END, updated_at = $5
				FROM unnest($1::text[], $2::int[], $3::bigint[], $4::int[], $6::text[], $7::text[]) AS u (id, status, next_at, attempted, owner, msg_id)
				WHERE d.id = u.id`+byMessage+` AND (u.owner = '' OR d.lease_owner = u.owner)
				RETURNING d.id, d.app_id, d.msg_id, d.endpoint_id`, recorded.ids, recorded.statuses, recorded.nextAt,
				recorded.attempted, micros(now), recorded.owners, recorded.msgIDs).Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var id string
					var t deliveryTarget
					if err := rows.Scan(&id, &t.appID, &t.msgID, &t.epID); err != nil {
						return err
					}
					targets[id] = t
				}
				return rows.Err()
			})
		}
		if len(rowless.id) > 0 {
			b.Queue(insertRowlessAttempts, rowless.id, rowless.appID, rowless.msgID, rowless.epID, rowless.deliveryID,
				rowless.url, rowless.headers, rowless.code, rowless.response, rowless.duration, rowless.trigger,
				rowless.status, rowless.createdAt, rowlessFloor, rowlessOwner, rowlessUntil).Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var attemptID string
					if err := rows.Scan(&attemptID); err != nil {
						return err
					}
					id := rowlessOf[attemptID]
					n := byDelivery[id]
					targets[id] = n.target
					stored[n.attempt] = true
				}
				return rows.Err()
			})
		}
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return retryOnVanished(dbErr(err, "record attempts: store deliveries"))
		}

		var (
			touched []string
			seen    = map[string]bool{}
			deltas  = map[string]*sqlcodec.HealthDelta{}
			ins     attemptRows
		)
		for i := range outcomes {
			o := &outcomes[i]
			t, ok := targets[o.DeliveryID]
			if !ok {
				continue // the delivery is gone, leased to another, or already there
			}
			if !seen[t.epID] {
				seen[t.epID] = true
				touched = append(touched, t.epID)
			}
			a := o.Attempt
			if a == nil {
				continue
			}
			a.AppID, a.MessageID, a.EndpointID = t.appID, t.msgID, t.epID
			if !stored[a] {
				if err := ins.add(a); err != nil {
					return fmt.Errorf("postgres: record attempts: %w", err)
				}
			}
			h := deltas[t.epID]
			if h == nil {
				h = &sqlcodec.HealthDelta{}
				deltas[t.epID] = h
			}
			h.Add(o.Status == hookline.StatusSuccess, a, t.msgID)
		}
		health = []hookline.EndpointHealth{}
		if len(touched) == 0 && len(endIDs) == 0 {
			return nil
		}

		b = pgx.Batch{}
		if len(ins.id) > 0 {
			b.Queue(`INSERT INTO attempts (`+sqlcodec.AttemptColumns+`) SELECT * FROM unnest($1::text[], $2::text[], $3::text[],
				$4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::bytea[], $10::bigint[], $11::int[], $12::int[],
				$13::bigint[])`, ins.id, ins.appID, ins.msgID, ins.epID, ins.deliveryID, ins.url, ins.headers, ins.code,
				ins.response, ins.duration, ins.trigger, ins.status, ins.createdAt)
		}
		for _, epID := range slices.Sorted(maps.Keys(deltas)) {
			h := deltas[epID]
			b.Queue(`UPDATE endpoints SET
				failure_streak = CASE WHEN $1 THEN $2 ELSE failure_streak + $2 END,
				failing_since = CASE WHEN $1 THEN $3 ELSE coalesce(failing_since, $3) END,
				last_attempt_at = $4, last_event_type = (SELECT event_type FROM messages WHERE id = $5), last_status = $6
				WHERE id = $7`, h.Reset, int32(h.Fails), h.FirstFail, h.LastAt, h.LastMsg, int32(h.LastStatus), epID)
		}
		if len(endIDs) > 0 {
			// m.id = ANY(…) as well as the join, so the messages are found by primary key rather
			// than by hashing the whole table.
			b.Queue(`UPDATE messages m SET dispatch_until = NULL, dispatch_owner = NULL
				FROM unnest($1::text[], $2::text[]) AS u (id, owner)
				WHERE m.id = ANY($1::text[]) AND m.id = u.id AND m.dispatch_until IS NOT NULL
					AND (u.owner = '' OR m.dispatch_owner = u.owner)`, endIDs, endOwners)
		}
		byID := make(map[string]hookline.EndpointHealth, len(touched))
		if len(touched) > 0 {
			b.Queue(`SELECT `+sqlcodec.HealthColumns+` FROM endpoints WHERE id = ANY($1::text[])`,
				touched).Query(func(rows pgx.Rows) error {
				return sqlcodec.EachHealth(rows, func(h hookline.EndpointHealth) { byID[h.EndpointID] = h })
			})
		}
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return retryOnVanished(dbErr(err, "record attempts"))
		}
		for _, id := range touched {
			if h, ok := byID[id]; ok {
				health = append(health, h)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return health, nil
}

// insertRowlessAttempts stores the attempts of new deliveries that succeeded at once, marked
// rowless (migration 0019), with the checks the deliveries insert makes: the message and the
// endpoint are still there, and the message has no delivery to the endpoint yet, as a row or
// rowless (another claimant fanned it out again after this one's dispatch lease expired). It
// returns the ids of the attempts stored.
const insertRowlessAttempts = `INSERT INTO attempts (` + sqlcodec.AttemptColumns + `, rowless)
	SELECT u.id, u.app_id, u.msg_id, u.endpoint_id, u.delivery_id, u.url, u.request_headers, u.response_status_code,
		u.response, u.response_duration_ms, u.trigger_type, u.status, u.created_at, true
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[],
		$9::bytea[], $10::bigint[], $11::int[], $12::int[], $13::bigint[], $14::text[], $15::text[], $16::bigint[])
		AS u (id, app_id, msg_id, endpoint_id, delivery_id, url, request_headers, response_status_code,
			response, response_duration_ms, trigger_type, status, created_at, floor, owner, until)
	WHERE ` + deliveryTargetExists + `
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.msg_id = u.msg_id AND d.endpoint_id = u.endpoint_id)
	RETURNING id`

// rowlessDeliveryID is the id of the rowless delivery whose attempt has id attemptID (one of
// NewID's, with the attempt prefix): the same id under the delivery prefix. A delivery that
// succeeds at once thus takes a new id when it is stored, the one the fan-out gave it having
// been seen by no one; and rowless deliveries sort as their attempts do.
func rowlessDeliveryID(attemptID string) string {
	return hookline.PrefixDelivery + strings.TrimPrefix(attemptID, hookline.PrefixAttempt)
}

// rowlessSearchFloor is the least attempt id a delivery of message msgID can have: an hour
// before the message was created (the clocks of the nodes may differ), or "" (every attempt)
// for an id that does not tell its time.
func rowlessSearchFloor(msgID string) string {
	at, ok := hookline.IDTime(hookline.PrefixMessage, msgID)
	if !ok {
		return ""
	}
	return hookline.FirstIDAt(hookline.PrefixAttempt, at.Add(-time.Hour))
}

// searchFloors memoizes rowlessSearchFloor by message id: a batch holds many deliveries of
// few messages.
type searchFloors map[string]string

func (f searchFloors) of(msgID string) string {
	floor, ok := f[msgID]
	if !ok {
		floor = rowlessSearchFloor(msgID)
		f[msgID] = floor
	}
	return floor
}

// deliveryTarget is where a delivery goes: its application, message and endpoint.
type deliveryTarget struct{ appID, msgID, epID string }

// attemptRows holds attempts column by column, for one INSERT … SELECT FROM unnest(…).
type attemptRows struct {
	id, appID, msgID, epID, deliveryID, url, headers []string
	code, trigger, status                            []int32
	response                                         [][]byte
	duration, createdAt                              []int64
}

func (r *attemptRows) add(a *hookline.Attempt) error {
	headers, err := jsonText(a.RequestHeaders)
	if err != nil {
		return fmt.Errorf("encode headers of %s: %w", a.ID, err)
	}
	r.id = append(r.id, a.ID)
	r.appID = append(r.appID, a.AppID)
	r.msgID = append(r.msgID, a.MessageID)
	r.epID = append(r.epID, a.EndpointID)
	r.deliveryID = append(r.deliveryID, a.DeliveryID)
	r.url = append(r.url, a.URL)
	r.headers = append(r.headers, headers)
	r.code = append(r.code, int32(a.ResponseStatusCode))
	r.response = append(r.response, []byte(a.Response))
	r.duration = append(r.duration, a.ResponseDurationMs)
	r.trigger = append(r.trigger, int32(a.TriggerType))
	r.status = append(r.status, int32(a.Status))
	r.createdAt = append(r.createdAt, micros(a.CreatedAt))
	return nil
}

// ReleaseDeliveries hands the owner's leased deliveries back as pending, due when they were,
// and wakes the other processes to take them. Deliveries leased to someone else, or no longer
// sending, are left alone.
func (db *DB) ReleaseDeliveries(ctx context.Context, owner string, deliveryIDs []string) error {
	if len(deliveryIDs) == 0 {
		return nil
	}
	tag, err := db.pool.Exec(ctx, `UPDATE deliveries SET status = 1, lease_owner = NULL, leased_until = NULL, updated_at = $1
		WHERE status = 3 AND lease_owner = $2 AND id = ANY($3::text[])`, micros(db.now()), owner, deliveryIDs)
	if err != nil {
		return dbErr(err, "release deliveries")
	}
	if tag.RowsAffected() > 0 {
		return db.Notify(ctx, DeliveriesChannel)
	}
	return nil
}

// ReleaseExpiredLeases returns to pending every sending delivery whose lease ends before the
// given time, makes every message whose dispatch lease ends before it due for dispatch again
// (at its creation, so it is fanned out before newer messages), and wakes the processes to
// take them. It returns how many deliveries and messages it released.
func (db *DB) ReleaseExpiredLeases(ctx context.Context, before time.Time) (int, error) {
	var deliveries, messages int64
	var b pgx.Batch
	b.Queue(`UPDATE deliveries SET status = 1, lease_owner = NULL, leased_until = NULL, updated_at = $1
		WHERE status = 3 AND leased_until < $2`, micros(db.now()), micros(before)).Exec(func(tag pgconn.CommandTag) error {
		deliveries = tag.RowsAffected()
		return nil
	})
	b.Queue(`UPDATE messages SET dispatch_owner = NULL, dispatch_until = created_at
		WHERE dispatch_owner IS NOT NULL AND dispatch_until < $1`, micros(before)).Exec(func(tag pgconn.CommandTag) error {
		messages = tag.RowsAffected()
		return nil
	})
	if err := db.pool.SendBatch(ctx, &b).Close(); err != nil {
		return 0, dbErr(err, "release expired leases")
	}
	n := int(deliveries + messages)
	if n > 0 {
		if err := db.Notify(ctx, DeliveriesChannel); err != nil {
			return n, err
		}
	}
	return n, nil
}

// NextDueAt returns when the earliest pending delivery or message awaiting dispatch is due (a
// leased message when its lease ends), or nil when nothing waits. Each minimum is read from its
// partial index.
func (db *DB) NextDueAt(ctx context.Context) (*time.Time, error) {
	var next *int64
	if err := db.pool.QueryRow(ctx, `SELECT least(
		(SELECT min(next_attempt_at) FROM deliveries WHERE status = 1),
		(SELECT min(dispatch_until) FROM messages WHERE dispatch_until IS NOT NULL))`).Scan(&next); err != nil {
		return nil, dbErr(err, "next due delivery")
	}
	return fromNullMicros(next), nil
}

// Backlog counts the messages awaiting dispatch and the pending deliveries, each from its
// partial index.
func (db *DB) Backlog(ctx context.Context) (hookline.Backlog, error) {
	var b hookline.Backlog
	if err := db.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM messages WHERE dispatch_until IS NOT NULL),
		(SELECT count(*) FROM deliveries WHERE status = 1)`).Scan(&b.MessagesAwaitingDispatch, &b.DeliveriesPending); err != nil {
		return hookline.Backlog{}, dbErr(err, "backlog")
	}
	return b, nil
}

// SetEndpointDisabled enables or disables an endpoint and reports whether it changed: of
// several processes making the same change, exactly one sees true. Disabling records the
// reason; enabling clears it and starts a new health record (no failure streak), so an
// endpoint that was switched back on is not disabled again by its old failures.
func (db *DB) SetEndpointDisabled(ctx context.Context, appID, endpointID string, disabled bool, reason string, at time.Time) (bool, error) {
	var tag pgconn.CommandTag
	var err error
	if disabled {
		tag, err = db.pool.Exec(ctx, `UPDATE endpoints SET disabled = true, disabled_reason = $1, updated_at = $2
			WHERE app_id = $3 AND id = $4 AND NOT disabled`, nullString(reason), micros(at), appID, endpointID)
	} else {
		tag, err = db.pool.Exec(ctx, `UPDATE endpoints SET disabled = false, disabled_reason = NULL, failure_streak = 0,
			failing_since = NULL, updated_at = $1 WHERE app_id = $2 AND id = $3 AND disabled`, micros(at), appID, endpointID)
	}
	err = mustAffect(tag, err, "set endpoint %q disabled=%v", endpointID, disabled)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, errNoRows) {
		return false, err
	}
	// Nothing changed: the endpoint is already in that state, or does not exist.
	return false, endpointExists(ctx, db.pool, appID, endpointID)
}

// endpointExists returns ENOTFOUND unless the application has the endpoint.
func endpointExists(ctx context.Context, q querier, appID, endpointID string) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM endpoints WHERE app_id = $1 AND id = $2`, appID, endpointID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", endpointID)
	}
	if err != nil {
		return dbErr(err, "find endpoint %q", endpointID)
	}
	return nil
}

// ListAttempts lists attempts of one application by attempt id (creation order), filtered by
// endpoint, message, outcome, the message's event type and the attempt's time.
func (db *DB) ListAttempts(ctx context.Context, appID string, opts hookline.AttemptListOptions) (hookline.Page[hookline.Attempt], error) {
	var a args
	conds := []string{"app_id = " + a.add(appID)}
	cond, tail, reverse := pageQuery(&a, "id", opts.ListOptions)
	conds = append(conds, cond)
	conds = attemptFilters(conds, &a, opts)
	out, err := queryAll(ctx, db, `SELECT `+sqlcodec.AttemptColumns+` FROM attempts`+where(conds...)+tail, a, sqlcodec.ScanAttempt)
	if err != nil {
		return hookline.Page[hookline.Attempt]{}, dbErr(err, "list attempts")
	}
	return finishPage(out, opts.ListOptions, reverse), nil
}

// GetAttempt finds one attempt of the application.
func (db *DB) GetAttempt(ctx context.Context, appID, attemptID string) (*hookline.Attempt, error) {
	a, err := sqlcodec.ScanAttempt(db.pool.QueryRow(ctx, `SELECT `+sqlcodec.AttemptColumns+` FROM attempts WHERE app_id = $1 AND id = $2`,
		appID, attemptID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "attempt %q not found", attemptID)
	}
	if err != nil {
		return nil, dbErr(err, "get attempt %q", attemptID)
	}
	return a, nil
}

// qualifiedMessageColumns are sqlcodec.MessageColumns of the table aliased m.
var qualifiedMessageColumns = "m." + strings.Join(strings.Split(sqlcodec.MessageColumns, ", "), ", m.")

// ListEndpointMessages lists the messages that went (or are going) to an endpoint with their
// status there, by delivery id, filtered by status, event type and message creation time. The
// deliveries with a row and the rowless ones (migration 0019) are each read in id order along
// their own index, deliveries_endpoint_id and attempts_endpoint (a rowless delivery's id is its
// attempt's, see rowlessDeliveryID), and merged.
func (db *DB) ListEndpointMessages(ctx context.Context, appID, endpointID string, opts hookline.EndpointMessageListOptions) (hookline.Page[hookline.EndpointMessage], error) {
	var a args
	app, ep := a.add(appID), a.add(endpointID)
	var msgConds []string
	if len(opts.EventTypes) > 0 {
		msgConds = append(msgConds, "m.event_type = ANY("+a.add(opts.EventTypes)+"::text[])")
	}
	if opts.Channel != "" {
		msgConds = append(msgConds, "m.channels ? "+a.add(opts.Channel)+"::text")
	}
	if opts.Tag != "" {
		msgConds = append(msgConds, "m.tags ? "+a.add(opts.Tag)+"::text")
	}
	if opts.Before != nil {
		msgConds = append(msgConds, "m.created_at < "+a.add(micros(*opts.Before)))
	}
	if opts.After != nil {
		msgConds = append(msgConds, "m.created_at > "+a.add(micros(*opts.After)))
	}
	cond, tail, reverse := pageQuery(&a, "d.id", opts.ListOptions)
	withRows := append([]string{"d.app_id = " + app, "d.endpoint_id = " + ep, cond}, msgConds...)
	if opts.Status != nil {
		withRows = append(withRows, "d.status = "+a.add(int32(*opts.Status)))
	}
	query := `SELECT ` + qualifiedMessageColumns + `, d.status, d.next_attempt_at, d.id AS delivery_id
		FROM deliveries d JOIN messages m ON m.id = d.msg_id` + where(withRows...) + tail
	if opts.Status == nil || *opts.Status == hookline.StatusSuccess {
		byAttempt := opts.ListOptions
		if strings.HasPrefix(byAttempt.Iterator, hookline.PrefixDelivery) {
			byAttempt.Iterator = hookline.PrefixAttempt + strings.TrimPrefix(byAttempt.Iterator, hookline.PrefixDelivery)
		}
		rcond, rtail, _ := pageQuery(&a, "r.id", byAttempt)
		rowless := append([]string{"r.app_id = " + app, "r.endpoint_id = " + ep, "r.rowless", rcond}, msgConds...)
		query = `SELECT * FROM ((` + query + `) UNION ALL (SELECT ` + qualifiedMessageColumns + `, 0, NULL::bigint, r.delivery_id
			FROM attempts r JOIN messages m ON m.id = r.msg_id` + where(rowless...) + rtail + `)) AS x` +
			strings.Replace(tail, "d.id", "x.delivery_id", 1)
	}
	out, err := queryAll(ctx, db, query, a,
		func(s scanner) (*hookline.EndpointMessage, error) {
			var (
				em   hookline.EndpointMessage
				next *int64
			)
			m, err := sqlcodec.ScanMessage(sqlcodec.WithExtra{S: s, Extra: []any{&em.Status, &next, &em.DeliveryID}})
			if err != nil {
				return nil, err
			}
			em.Message, em.NextAttemptAt = *m, fromNullMicros(next)
			return &em, nil
		})
	if err != nil {
		return hookline.Page[hookline.EndpointMessage]{}, dbErr(err, "list endpoint messages")
	}
	return finishPage(out, opts.ListOptions, reverse), nil
}

// RequeueDelivery makes the message due at the endpoint now, as a manual attempt, creating the
// delivery when the message never went there; the unique (message, endpoint) index makes two
// concurrent resends meet in one delivery. A delivery being sent right now is returned
// unchanged: its attempt is under way, and requeueing it would send it twice at once. The
// transaction notifies DeliveriesChannel.
func (db *DB) RequeueDelivery(ctx context.Context, appID, messageID, endpointID string, now time.Time) (*hookline.Delivery, error) {
	now = normTime(now)
	var out *hookline.Delivery
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var hasMsg, hasEP bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE app_id = $1 AND id = $2),
			EXISTS (SELECT 1 FROM endpoints WHERE app_id = $1 AND id = $3)`, appID, messageID, endpointID).
			Scan(&hasMsg, &hasEP); err != nil {
			return dbErr(err, "requeue: find message and endpoint")
		}
		if !hasMsg {
			return hookline.Errorf(hookline.ENOTFOUND, "message %q not found", messageID)
		}
		if !hasEP {
			return hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", endpointID)
		}
		// A rowless delivery (migration 0019) gets its row first, as it stood: a success with as
		// many attempts as it had, its id kept.
		if _, err := tx.Exec(ctx, `WITH r AS (
				UPDATE attempts SET rowless = false WHERE msg_id = $1 AND endpoint_id = $2 AND rowless
				RETURNING delivery_id, app_id, created_at)
			INSERT INTO deliveries (`+sqlcodec.DeliveryColumns+`)
				SELECT min(delivery_id), min(app_id), $1, $2, 0, count(*), NULL, 0, min(created_at), max(created_at)
				FROM r HAVING count(*) > 0
			ON CONFLICT (msg_id, endpoint_id) DO NOTHING`, messageID, endpointID); err != nil {
			return dbErr(err, "requeue: give a rowless delivery its row")
		}
		d, err := sqlcodec.ScanDelivery(tx.QueryRow(ctx, `INSERT INTO deliveries (`+sqlcodec.DeliveryColumns+`)
			VALUES ($1, $2, $3, $4, 1, 0, $5, 1, $5, $5)
			ON CONFLICT (msg_id, endpoint_id) DO UPDATE SET status = 1, next_attempt_at = $5, trigger_type = 1,
				lease_owner = NULL, leased_until = NULL, updated_at = $5
				WHERE deliveries.status <> 3
			RETURNING `+sqlcodec.DeliveryColumns, hookline.NewID(hookline.PrefixDelivery), appID, messageID, endpointID, micros(now)))
		if errors.Is(err, pgx.ErrNoRows) {
			// Being sent: left alone; see the doc comment.
			d, err = sqlcodec.ScanDelivery(tx.QueryRow(ctx, `SELECT `+sqlcodec.DeliveryColumns+` FROM deliveries
				WHERE msg_id = $1 AND endpoint_id = $2`, messageID, endpointID))
			if err != nil {
				return dbErr(err, "requeue: find delivery")
			}
			out = d
			return nil
		}
		if err != nil {
			return dbErr(err, "requeue: upsert delivery")
		}
		out = d
		if _, err := tx.Exec(ctx, notifyDeliveries); err != nil {
			return dbErr(err, "requeue: notify")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RequeueFailed makes the endpoint's failed deliveries of messages created in [since, until)
// due now as manual attempts, and returns how many; the transaction notifies
// DeliveriesChannel when there were some. An unknown endpoint is ENOTFOUND.
func (db *DB) RequeueFailed(ctx context.Context, appID, endpointID string, since time.Time, until *time.Time, now time.Time) (int, error) {
	var a args
	set := `UPDATE deliveries SET status = 1, next_attempt_at = ` + a.add(micros(now)) + `, trigger_type = 1, updated_at = $1`
	conds := []string{"app_id = " + a.add(appID), "endpoint_id = " + a.add(endpointID), "status = 2"}
	// Correlated: the endpoint's failed deliveries are few next to the application's messages.
	// An expunged message (empty payload) has nothing left to send.
	window := "messages.id = deliveries.msg_id AND length(messages.payload) > 0 AND messages.created_at >= " + a.add(micros(since))
	if until != nil {
		window += " AND messages.created_at < " + a.add(micros(*until))
	}
	conds = append(conds, "EXISTS (SELECT 1 FROM messages WHERE "+window+")")
	n := 0
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, set+where(conds...), a...)
		if err != nil {
			return dbErr(err, "requeue failed deliveries")
		}
		n = int(tag.RowsAffected())
		if n == 0 {
			return endpointExists(ctx, tx, appID, endpointID)
		}
		if _, err := tx.Exec(ctx, notifyDeliveries); err != nil {
			return dbErr(err, "requeue failed deliveries: notify")
		}
		return nil
	})
	return n, err
}

// purgeBatch is how many messages Purge examines per statement, so that no transaction holds
// many locks for long.
const purgeBatch = 1000

// purgeQuery examines the next batch of messages created before $1, in (created_at, id)
// order after the cursor ($2, $3), and deletes those that are not awaiting dispatch and have no
// pending or sending deliveries, with their deliveries, attempts and eventIds (messages and
// attempts are partitioned, so no foreign key cascades from a message). The check is part of
// the DELETE, so a message requeued meanwhile is kept.
const purgeQuery = `WITH batch AS (
		SELECT id, created_at FROM messages WHERE created_at < $1 AND (created_at, id) > ($2, $3)
		ORDER BY created_at, id LIMIT $4
	), gone AS (
		DELETE FROM messages m USING batch
		WHERE m.id = batch.id AND m.dispatch_until IS NULL
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.msg_id = m.id AND d.status IN (1, 3))
		RETURNING m.id, m.app_id, m.event_id
	), gone_deliveries AS (
		DELETE FROM deliveries d USING gone WHERE d.msg_id = gone.id
	), gone_attempts AS (
		DELETE FROM attempts a USING gone WHERE a.msg_id = gone.id
	), gone_event_ids AS (
		DELETE FROM message_event_ids e USING gone
		WHERE e.app_id = gone.app_id AND e.event_id = gone.event_id AND e.msg_id = gone.id
	), last AS (
		SELECT id, created_at FROM batch ORDER BY created_at DESC, id DESC LIMIT 1
	)
	SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM gone), last.created_at, last.id
	FROM (SELECT 1) AS one LEFT JOIN last ON true`

// orphanSweepQuery deletes the pending or sending deliveries whose message is gone: a resend
// that committed while Purge deleted its message (there is no foreign key from deliveries to
// the partitioned messages to serialise the two).
const orphanSweepQuery = `DELETE FROM deliveries d WHERE d.status IN (1, 3)
	AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = d.msg_id)`

// Purge deletes messages created before the given time that are not awaiting dispatch and
// have no pending or sending deliveries, with their deliveries and attempts, and returns how
// many messages it deleted. It first drops the partitions of messages (then of attempts) that
// end before the given time and hold nothing Purge keeps (see retention.go), then deletes what
// is left row by row, one batch of purgeBatch messages per statement. The maintenance leader
// runs it, after EnsurePartitions.
func (db *DB) Purge(ctx context.Context, before time.Time) (int, error) {
	began := time.Now()
	total, err := db.dropPartitions(ctx, before)
	if err != nil {
		return total, dbErr(err, "purge")
	}
	db.log.Debug("postgres: purge: partitions of messages dropped", "took", time.Since(began).String())
	var cursorAt int64 = -1 << 63
	cursorID := ""
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var (
			scanned, deleted int
			lastAt           *int64
			lastID           *string
		)
		if err := db.pool.QueryRow(ctx, purgeQuery, micros(before), cursorAt, cursorID, purgeBatch).
			Scan(&scanned, &deleted, &lastAt, &lastID); err != nil {
			return total, dbErr(err, "purge")
		}
		total += deleted
		if scanned < purgeBatch || lastAt == nil {
			break
		}
		cursorAt, cursorID = *lastAt, *lastID
	}
	db.log.Debug("postgres: purge: rows deleted", "took", time.Since(began).String())
	if err := db.dropAttemptPartitions(ctx, before); err != nil {
		return total, dbErr(err, "purge")
	}
	if err := db.dropDeliveryPartitions(ctx, before); err != nil {
		return total, dbErr(err, "purge")
	}
	db.log.Debug("postgres: purge: partitions of attempts and deliveries dropped", "took", time.Since(began).String())
	if _, err := db.pool.Exec(ctx, orphanSweepQuery); err != nil {
		return total, dbErr(err, "purge: orphaned deliveries")
	}
	return total, nil
}

// attemptFilters appends the conditions of opts's filters (not its page) on attempts to conds,
// binding their arguments in a: ListAttempts and CountAttempts select alike.
func attemptFilters(conds []string, a *args, opts hookline.AttemptListOptions) []string {
	if opts.EndpointID != "" {
		conds = append(conds, "endpoint_id = "+a.add(opts.EndpointID))
	}
	if opts.MessageID != "" {
		conds = append(conds, "msg_id = "+a.add(opts.MessageID))
		// A message's attempts come after it: attempts partitions older than the message (less
		// the clocks' slack) are left out when the query is planned.
		if made, ok := hookline.IDTime(hookline.PrefixMessage, opts.MessageID); ok {
			conds = append(conds, "id >= "+a.add(hookline.FirstIDAt(hookline.PrefixAttempt, made.Add(-partitionSlack))))
		}
	}
	if opts.Status != nil {
		conds = append(conds, "status = "+a.add(int32(*opts.Status)))
	}
	if len(opts.EventTypes) > 0 || opts.Channel != "" {
		// Correlated, so a page costs one message lookup per candidate attempt rather than a
		// scan of all the application's messages.
		sub := "messages.id = attempts.msg_id"
		if len(opts.EventTypes) > 0 {
			sub += " AND messages.event_type = ANY(" + a.add(opts.EventTypes) + "::text[])"
		}
		if opts.Channel != "" {
			sub += " AND messages.channels ? " + a.add(opts.Channel) + "::text"
		}
		conds = append(conds, "EXISTS (SELECT 1 FROM messages WHERE "+sub+")")
	}
	if opts.Before != nil {
		conds = append(conds, "created_at < "+a.add(micros(*opts.Before)))
	}
	if opts.After != nil {
		conds = append(conds, "created_at > "+a.add(micros(*opts.After)))
	}
	if opts.CodeClass != nil {
		lo, hi := hookline.CodeClassRange(*opts.CodeClass)
		conds = append(conds, "response_status_code >= "+a.add(int32(lo)), "response_status_code < "+a.add(int32(hi)))
	}
	if opts.Tag != "" {
		conds = append(conds, "EXISTS (SELECT 1 FROM messages WHERE messages.id = attempts.msg_id AND messages.tags ? "+a.add(opts.Tag)+"::text)")
	}
	return conds
}
