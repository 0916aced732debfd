package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

var _ hookline.DeliveryStore = (*DB)(nil)

// maxInArgs bounds the ids bound into one IN (...) list, well below SQLite's variable limit.
const maxInArgs = 500

// claimQuery leases due deliveries in one statement (so one write transaction): a single
// writer connection makes it atomic, so no two claimers ever get the same row. The two
// branches are limited separately before they are merged: an OR of both conditions would
// make SQLite collect every due row of a large backlog just to sort it and keep the first few.
const claimQuery = `UPDATE deliveries SET status = 3, lease_owner = ?, leased_until = ?, updated_at = ?
	WHERE id IN (
		SELECT id FROM (
			SELECT * FROM (SELECT id, next_attempt_at FROM deliveries
				WHERE status = 1 AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?)
			UNION ALL
			SELECT * FROM (SELECT id, next_attempt_at FROM deliveries
				WHERE status = 3 AND leased_until < ? ORDER BY leased_until LIMIT ?)
		) ORDER BY next_attempt_at LIMIT ?)
	RETURNING ` + sqlcodec.DeliveryColumns

// ClaimDeliveries leases up to p.Limit due deliveries to p.Owner, then loads their messages
// and endpoints from the read pool, each once, so the writer is held only for the UPDATE.
// Jobs come in due order.
func (db *DB) ClaimDeliveries(ctx context.Context, p hookline.ClaimParams) ([]hookline.Job, error) {
	if p.Owner == "" {
		return nil, errors.New("sqlite: claim deliveries: Owner is required")
	}
	if p.Limit <= 0 {
		return []hookline.Job{}, nil
	}
	// One transaction claims the due deliveries and leases the first messages to fan out
	// into the room left: most claims are this one write.
	var (
		claimed []hookline.Delivery
		msgs    []*hookline.Message
		k       int
	)
	err := db.inLeaseTx(ctx, func(tx *txn) error {
		now := micros(p.Now)
		rows, err := tx.QueryContext(ctx, claimQuery, p.Owner, micros(p.LeaseUntil), now,
			now, p.Limit, now, p.Limit, p.Limit)
		if err != nil {
			return dbErr(err, "claim deliveries")
		}
		defer rows.Close()
		for rows.Next() {
			d, err := sqlcodec.ScanDelivery(rows)
			if err != nil {
				return dbErr(err, "claim deliveries")
			}
			claimed = append(claimed, *d)
		}
		if err := rows.Err(); err != nil {
			return dbErr(err, "claim deliveries")
		}
		if k = db.messagesToLease(p.Limit-len(claimed), len(claimed) > 0); k > 0 {
			msgs, err = leaseMessages(ctx, tx, p, k)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	jobs := []hookline.Job{}
	if len(claimed) > 0 {
		if jobs, err = db.claimedJobs(ctx, claimed); err != nil {
			return nil, err
		}
	}
	return db.fanOut(ctx, p, jobs, msgs, k)
}

// claimedJobs sorts claimed deliveries in due order and loads what sending them needs.
func (db *DB) claimedJobs(ctx context.Context, claimed []hookline.Delivery) ([]hookline.Job, error) {
	due := func(d hookline.Delivery) int64 {
		if d.NextAttemptAt == nil {
			return 0
		}
		return micros(*d.NextAttemptAt)
	}
	slices.SortFunc(claimed, func(a, b hookline.Delivery) int {
		return cmp.Or(cmp.Compare(due(a), due(b)), strings.Compare(a.ID, b.ID))
	})
	return db.loadJobs(ctx, claimed)
}

// insertSpillSQL stores a delivery a fan-out had no room for, unless the message has one to
// that endpoint already.
const insertSpillSQL = `INSERT INTO deliveries (` + sqlcodec.DeliveryColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT DO NOTHING`

// maxFanOutMessages bounds the messages leased by one statement of a claim.
const maxFanOutMessages = 256

// leaseMessagesSQL leases due messages for fan-out, oldest due first.
const leaseMessagesSQL = `UPDATE messages SET dispatch_owner = ?, dispatch_until = ?
	WHERE id IN (SELECT id FROM messages WHERE dispatch_until <= ? ORDER BY dispatch_until LIMIT ?)
	RETURNING ` + sqlcodec.MessageColumns

// messagesToLease returns how many messages to lease for fan-out into room jobs, by the
// average fan-out: 0 when not one more fits whole, unless the claim has nothing yet.
func (db *DB) messagesToLease(room int, found bool) int {
	if room <= 0 {
		return 0
	}
	k := db.fanHint.Messages(room, maxFanOutMessages)
	if k == 0 && !found {
		k = 1
	}
	return k
}

// leaseMessages leases up to k messages due for fan-out to p.Owner, oldest first.
func leaseMessages(ctx context.Context, tx *txn, p hookline.ClaimParams, k int) ([]*hookline.Message, error) {
	rows, err := tx.QueryContext(ctx, leaseMessagesSQL, p.Owner, micros(p.LeaseUntil), micros(p.Now), k)
	if err != nil {
		return nil, dbErr(err, "claim deliveries: lease messages")
	}
	defer rows.Close()
	var msgs []*hookline.Message
	for rows.Next() {
		m, err := sqlcodec.ScanMessage(rows)
		if err != nil {
			return nil, dbErr(err, "claim deliveries: lease messages")
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(err, "claim deliveries: lease messages")
	}
	slices.SortFunc(msgs, func(a, b *hookline.Message) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return msgs, nil
}

// fanOut fans out msgs (k were asked for), then, while room is left and more messages were
// due, leases and fans out more, a few at a time (as many as the average fan-out says fit).
// The rest of the message that fills the room is stored as pending deliveries, and the messages
// after it are released for a later claim (sqlcodec.FanOut.Released); messages with nothing to
// send end their dispatch.
func (db *DB) fanOut(ctx context.Context, p hookline.ClaimParams, jobs []hookline.Job, msgs []*hookline.Message, k int) ([]hookline.Job, error) {
	now := normTime(p.Now)
	room := p.Limit - len(jobs)
	for len(msgs) > 0 {
		out, err := db.fanOutMessages(ctx, p.Owner, msgs, room, now, true)
		if err != nil {
			return nil, err
		}
		db.fanHint.Observe(len(msgs)-len(out.Released), len(out.Jobs)+len(out.Spill))
		jobs = append(jobs, out.Jobs...)
		room -= len(out.Jobs)
		if len(msgs) < k {
			break // no more were due
		}
		if k = db.messagesToLease(room, len(jobs) > 0); k == 0 {
			break
		}
		msgs = nil
		err = db.inLeaseTx(ctx, func(tx *txn) error {
			var err error
			msgs, err = leaseMessages(ctx, tx, p, k)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return jobs, nil
}

// FanOut fans out messages created leased to owner (Message.Lease): their endpoints are read
// from the read pool, so the writer is needed only for a spill, a message with nothing to send
// or messages released for lack of room.
func (db *DB) FanOut(ctx context.Context, owner string, msgs []*hookline.Message, room int, now time.Time) ([]hookline.Job, error) {
	if owner == "" {
		return nil, errors.New("sqlite: fan out: owner is required")
	}
	if len(msgs) == 0 {
		return []hookline.Job{}, nil
	}
	out, err := db.fanOutMessages(ctx, owner, msgs, max(room, 0), normTime(now), false)
	if err != nil {
		return nil, err
	}
	db.fanHint.Observe(len(msgs)-len(out.Released), len(out.Jobs)+len(out.Spill))
	if out.Jobs == nil {
		out.Jobs = []hookline.Job{}
	}
	return out.Jobs, nil
}

// fanOutMessages fans leased messages out to their applications' endpoints (read from the
// read pool), then stores the spill, ends the dispatch of messages without fresh jobs and
// releases the messages there was no room for.
//
// checkExisting looks up the deliveries the messages already have; FanOut skips it for
// messages created leased to their owner, which no one else can have fanned out while the
// lease lasts (a Fresh outcome for a delivery that exists after all is dropped when recorded).
func (db *DB) fanOutMessages(ctx context.Context, owner string, msgs []*hookline.Message, room int, now time.Time, checkExisting bool) (sqlcodec.FanOut, error) {
	appIDs, msgIDs := sqlcodec.FanOutKeys(msgs)
	targets, missing, gen := db.targets.get(appIDs)
	if len(missing) > 0 {
		loaded := map[string][]sqlcodec.Target{}
		err := inChunks(missing, func(ids []any) error {
			return db.loadTargets(ctx, `app_id IN (`+idList+`) AND disabled = 0 ORDER BY id`, ids, func(t sqlcodec.Target) {
				loaded[t.Endpoint.AppID] = append(loaded[t.Endpoint.AppID], t)
			})
		})
		if err != nil {
			return sqlcodec.FanOut{}, dbErr(err, "claim deliveries: load endpoints")
		}
		db.targets.put(gen, missing, loaded)
		for _, id := range missing {
			targets[id] = loaded[id]
		}
	}
	existing := map[sqlcodec.Pair]bool{}
	if !checkExisting {
		msgIDs = nil
	}
	err := inChunks(msgIDs, func(ids []any) error {
		rows, err := db.r.QueryContext(ctx, `SELECT msg_id, endpoint_id FROM deliveries WHERE msg_id IN (`+idList+`)`, ids...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p sqlcodec.Pair
			if err := rows.Scan(&p.MessageID, &p.EndpointID); err != nil {
				return err
			}
			existing[p] = true
		}
		return rows.Err()
	})
	if err != nil {
		return sqlcodec.FanOut{}, dbErr(err, "claim deliveries: load deliveries")
	}

	out := sqlcodec.Fan(msgs, targets, existing, room, now)
	if len(out.Spill) == 0 && len(out.Done) == 0 && len(out.Released) == 0 {
		return out, nil
	}
	err = db.inLeaseTx(ctx, func(tx *txn) error {
		for _, d := range out.Spill {
			if _, err := tx.ExecContext(ctx, insertSpillSQL, d.ID, d.AppID, d.MessageID, d.EndpointID, d.Status, d.AttemptCount,
				micros(*d.NextAttemptAt), d.Trigger, micros(d.CreatedAt), micros(d.UpdatedAt)); err != nil {
				return dbErr(err, "claim deliveries: store delivery %s", d.ID)
			}
		}
		for _, id := range out.Done {
			if _, err := tx.ExecContext(ctx, completeDispatchSQL, id, owner, owner); err != nil {
				return dbErr(err, "claim deliveries: end dispatch of %s", id)
			}
		}
		for _, id := range out.Released {
			if _, err := tx.ExecContext(ctx, releaseDispatchSQL, id, owner); err != nil {
				return dbErr(err, "claim deliveries: release %s", id)
			}
		}
		return nil
	})
	return out, err
}

// releaseDispatchSQL gives a message's dispatch lease back while the owner holds it: due again
// at its creation, for the next claim to fan out.
const releaseDispatchSQL = `UPDATE messages SET dispatch_owner = NULL, dispatch_until = created_at
	WHERE id = ? AND dispatch_owner = ?`

// loadTargets reads endpoints matching cond (a WHERE clause over endpoints, with args) with the
// rate limit that applies to each. Unreadable rows are logged and skipped: one broken row must
// not stall every claim it is part of.
func (db *DB) loadTargets(ctx context.Context, cond string, args []any, fn func(sqlcodec.Target)) error {
	rows, err := db.r.QueryContext(ctx, `SELECT `+sqlcodec.TargetColumns+` FROM endpoints WHERE `+cond, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return sqlcodec.EachTarget(rows, db.box, func(err error) {
		db.log.Error("sqlite: cannot deliver to an unreadable endpoint", "err", err)
	}, fn)
}

// loadJobs attaches to each claimed delivery its message and endpoint, loaded with one
// query per kind (per maxInArgs ids). Jobs of one message share one *Message and jobs of one
// endpoint one *Endpoint, so each secret is opened once.
func (db *DB) loadJobs(ctx context.Context, claimed []hookline.Delivery) ([]hookline.Job, error) {
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

	messages := make(map[string]*hookline.Message, len(msgIDs))
	err := inChunks(msgIDs, func(ids []any) error {
		rows, err := db.r.QueryContext(ctx, `SELECT `+sqlcodec.MessageColumns+` FROM messages WHERE id IN (`+idList+`)`, ids...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := sqlcodec.ScanMessage(rows)
			if err != nil {
				return err
			}
			messages[m.ID] = m
		}
		return rows.Err()
	})
	if err != nil {
		return nil, dbErr(err, "claim deliveries: load messages")
	}

	endpoints := make(map[string]sqlcodec.Target, len(epIDs))
	err = inChunks(epIDs, func(ids []any) error {
		// Deliveries of an unreadable endpoint stay leased and come back when the lease ends.
		return db.loadTargets(ctx, `id IN (`+idList+`)`, ids, func(t sqlcodec.Target) { endpoints[t.Endpoint.ID] = t })
	})
	if err != nil {
		return nil, dbErr(err, "claim deliveries: load endpoints")
	}

	jobs := make([]hookline.Job, 0, len(claimed))
	for _, d := range claimed {
		m, ep := messages[d.MessageID], endpoints[d.EndpointID]
		if m == nil || ep.Endpoint == nil {
			// Deleted between the claim and the load: the cascade took the delivery with it.
			db.log.Debug("sqlite: claimed delivery lost its message or endpoint", "delivery", d.ID)
			continue
		}
		jobs = append(jobs, hookline.Job{Delivery: d, Message: m, Endpoint: ep.Endpoint, RateLimit: ep.RateLimit})
	}
	return jobs, nil
}

// idList is the subquery of an IN list: the ids are bound as one JSON array, so the SQL text is
// the same for any number of ids and its prepared statement is reused.
const idList = `SELECT value FROM json_each(?)`

// jsonArray encodes ids for idList.
func jsonArray(ids []string) string {
	b, err := json.Marshal(ids)
	if err != nil { // a []string always encodes
		panic(err)
	}
	return string(b)
}

// inChunks calls fn with the ids, maxInArgs at a time, as the one bind argument of idList.
func inChunks(ids []string, fn func(args []any) error) error {
	for chunk := range slices.Chunk(ids, maxInArgs) {
		if err := fn([]any{jsonArray(chunk)}); err != nil {
			return err
		}
	}
	return nil
}

// The statements of RecordAttempts, cached by the writer ahead of use (see warm).
const (
	recordDeliverySQL = `UPDATE deliveries SET status = ?, next_attempt_at = ?,
			attempt_count = attempt_count + ?, lease_owner = NULL, leased_until = NULL,
			trigger_type = CASE WHEN ? THEN 0 ELSE trigger_type END, updated_at = ?
			WHERE id = ? AND (? = '' OR lease_owner = ?) RETURNING app_id, msg_id, endpoint_id`
	// insertFreshDeliverySQL stores the delivery of a Fresh outcome, unless the message has a
	// delivery to the endpoint already. When the message or endpoint is gone, the foreign key
	// refuses the row (RecordAttempts then skips the outcome).
	insertFreshDeliverySQL = `INSERT INTO deliveries (` + sqlcodec.DeliveryColumns + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
			ON CONFLICT DO NOTHING`
	// completeDispatchSQL ends a message's dispatch while the owner (or anyone, for '') holds it.
	completeDispatchSQL = `UPDATE messages SET dispatch_owner = NULL, dispatch_until = NULL
			WHERE id = ? AND (? = '' OR dispatch_owner = ?)`
	insertAttemptSQL = `INSERT INTO attempts (` + sqlcodec.AttemptColumns + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	updateHealthSQL = `UPDATE endpoints SET
				failure_streak = CASE WHEN ? THEN ? ELSE failure_streak + ? END,
				failing_since = CASE WHEN ? THEN ? ELSE coalesce(failing_since, ?) END,
				last_attempt_at = ?, last_event_type = (SELECT event_type FROM messages WHERE id = ?), last_status = ?
				WHERE id = ?`
)

// maxSharedRecord is the most outcomes RecordAttempts records in the API's message commits.
const maxSharedRecord = 64

// RecordAttempts applies a batch of outcomes in one write transaction (group commit: one
// fsync for the batch); a small batch shares the transaction of the API's next messages. An outcome whose delivery no longer exists (its endpoint or message was
// deleted meanwhile) is skipped. Attempts with an empty ID or zero CreatedAt get them filled
// in, and their app, message and endpoint ids are set from the delivery.
//
// Health counts by the delivery's next state: an outcome of StatusSuccess resets the failure
// streak, any other outcome with an attempt extends it. LastStatus is the attempt's status.
func (db *DB) RecordAttempts(ctx context.Context, outcomes []hookline.Outcome) ([]hookline.EndpointHealth, error) {
	if len(outcomes) == 0 {
		return []hookline.EndpointHealth{}, nil
	}
	now := db.now()
	for i := range outcomes {
		o := &outcomes[i]
		switch o.Status {
		case hookline.StatusSuccess, hookline.StatusFail, hookline.StatusPending, hookline.StatusCanceled:
		default:
			return nil, fmt.Errorf("sqlite: record attempts: delivery %s: next status %v is not success, fail, canceled or pending", o.DeliveryID, o.Status)
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
	}

	var health []hookline.EndpointHealth
	// A small batch shares the API's next message commit; a large one would hold that commit
	// up, so it has a transaction of its own, behind the API's.
	inTx := db.inTx
	if len(outcomes) <= maxSharedRecord {
		inTx = db.batcher.run
	}
	err := inTx(ctx, func(tx *txn) error {
		updDelivery, err := tx.PrepareContext(ctx, recordDeliverySQL)
		if err != nil {
			return dbErr(err, "record attempts: prepare")
		}
		defer updDelivery.Close()
		insAttempt, err := tx.PrepareContext(ctx, insertAttemptSQL)
		if err != nil {
			return dbErr(err, "record attempts: prepare")
		}
		defer insAttempt.Close()
		insFresh, err := tx.PrepareContext(ctx, insertFreshDeliverySQL)
		if err != nil {
			return dbErr(err, "record attempts: prepare")
		}
		defer insFresh.Close()
		var completed []*hookline.Outcome
		var touched []string
		seen := map[string]bool{}
		deltas := map[string]*sqlcodec.HealthDelta{}
		for i := range outcomes {
			o := &outcomes[i]
			var next sql.NullInt64
			if o.Status == hookline.StatusPending {
				next = nullMicros(cmp.Or(normTimePtr(o.NextAttemptAt), &now))
			}
			attempted := 0
			if o.Attempt != nil {
				attempted = 1
			}
			if o.CompletesDispatch {
				completed = append(completed, o)
			}
			var appID, msgID, epID string
			if o.Fresh {
				res, err := insFresh.ExecContext(ctx, o.DeliveryID, o.AppID, o.MessageID, o.EndpointID, o.Status, attempted,
					next, micros(now), micros(now))
				if isForeignKeyViolation(err) {
					continue // its message or endpoint was deleted meanwhile
				}
				if err != nil {
					return dbErr(err, "record attempts: insert delivery %s", o.DeliveryID)
				}
				if n, err := res.RowsAffected(); err != nil {
					return dbErr(err, "record attempts: insert delivery %s", o.DeliveryID)
				} else if n == 0 {
					continue
				}
				appID, msgID, epID = o.AppID, o.MessageID, o.EndpointID
			} else {
				err := updDelivery.QueryRowContext(ctx, o.Status, next, attempted, attempted > 0, micros(now), o.DeliveryID,
					o.Owner, o.Owner).Scan(&appID, &msgID, &epID)
				if errors.Is(err, sql.ErrNoRows) {
					continue
				}
				if err != nil {
					return dbErr(err, "record attempts: update delivery %s", o.DeliveryID)
				}
			}
			if !seen[epID] {
				seen[epID] = true
				touched = append(touched, epID)
			}
			a := o.Attempt
			if a == nil {
				continue
			}
			a.AppID, a.MessageID, a.EndpointID = appID, msgID, epID
			headers, err := jsonText(a.RequestHeaders)
			if err != nil {
				return fmt.Errorf("sqlite: record attempts: encode headers of %s: %w", a.ID, err)
			}
			if _, err := insAttempt.ExecContext(ctx, a.ID, a.AppID, a.MessageID, a.EndpointID, a.DeliveryID, a.URL, headers,
				a.ResponseStatusCode, a.Response, a.ResponseDurationMs, a.TriggerType, a.Status, micros(a.CreatedAt)); err != nil {
				return dbErr(err, "record attempts: insert attempt %s", a.ID)
			}
			h := deltas[epID]
			if h == nil {
				h = &sqlcodec.HealthDelta{}
				deltas[epID] = h
			}
			h.Add(o.Status == hookline.StatusSuccess, a, msgID)
		}
		if len(deltas) > 0 {
			updHealth, err := tx.PrepareContext(ctx, updateHealthSQL)
			if err != nil {
				return dbErr(err, "record attempts: prepare")
			}
			defer updHealth.Close()
			for _, epID := range touched {
				h := deltas[epID]
				if h == nil {
					continue // no attempt was made
				}
				if _, err := updHealth.ExecContext(ctx, h.Reset, h.Fails, h.Fails, h.Reset, h.FirstFail, h.FirstFail,
					h.LastAt, h.LastMsg, h.LastStatus, epID); err != nil {
					return dbErr(err, "record attempts: update health of %s", epID)
				}
			}
		}
		for _, o := range completed {
			if _, err := tx.ExecContext(ctx, completeDispatchSQL, o.MessageID, o.Owner, o.Owner); err != nil {
				return dbErr(err, "record attempts: end dispatch of %s", o.MessageID)
			}
		}
		health, err = endpointHealth(ctx, tx, touched)
		return err
	})
	if err != nil {
		return nil, err
	}
	db.checkpoint(ctx)
	return health, nil
}

// endpointHealth reads the health of the given endpoints, in the given order.
// endpointHealthSQL reads the health of the endpoints in a JSON array of ids.
const endpointHealthSQL = `SELECT ` + sqlcodec.HealthColumns + `
	FROM endpoints WHERE id IN (` + idList + `)`

func endpointHealth(ctx context.Context, tx *txn, ids []string) ([]hookline.EndpointHealth, error) {
	byID := make(map[string]hookline.EndpointHealth, len(ids))
	err := inChunks(ids, func(args []any) error {
		rows, err := tx.QueryContext(ctx, endpointHealthSQL, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		return sqlcodec.EachHealth(rows, func(h hookline.EndpointHealth) { byID[h.EndpointID] = h })
	})
	if err != nil {
		return nil, dbErr(err, "read endpoint health")
	}
	out := make([]hookline.EndpointHealth, 0, len(ids))
	for _, id := range ids {
		if h, ok := byID[id]; ok {
			out = append(out, h)
		}
	}
	return out, nil
}

// ReleaseDeliveries hands the owner's leased deliveries back as pending, due when they were.
// Deliveries leased to someone else, or no longer sending, are left alone.
func (db *DB) ReleaseDeliveries(ctx context.Context, owner string, deliveryIDs []string) error {
	if len(deliveryIDs) == 0 {
		return nil
	}
	updatedAt := micros(db.now())
	return db.inTx(ctx, func(tx *txn) error {
		return inChunks(deliveryIDs, func(ids []any) error {
			_, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 1, lease_owner = NULL, leased_until = NULL, updated_at = ?
				WHERE status = 3 AND lease_owner = ? AND id IN (`+idList+`)`,
				append([]any{updatedAt, owner}, ids...)...)
			if err != nil {
				return dbErr(err, "release deliveries")
			}
			return nil
		})
	})
}

// ReleaseExpiredLeases returns to pending every sending delivery whose lease ends before the
// given time, and makes every message whose dispatch lease ends before it due again (at its
// creation, so the oldest go first).
func (db *DB) ReleaseExpiredLeases(ctx context.Context, before time.Time) (int, error) {
	total := 0
	err := db.inTx(ctx, func(tx *txn) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE deliveries SET status = 1, lease_owner = NULL, leased_until = NULL, updated_at = ?
				WHERE status = 3 AND leased_until < ?`, []any{micros(db.now()), micros(before)}},
			{`UPDATE messages SET dispatch_owner = NULL, dispatch_until = created_at
				WHERE dispatch_owner IS NOT NULL AND dispatch_until < ?`, []any{micros(before)}},
		} {
			res, err := tx.ExecContext(ctx, q.sql, q.args...)
			if err != nil {
				return dbErr(err, "release expired leases")
			}
			n, err := res.RowsAffected()
			if err != nil {
				return dbErr(err, "release expired leases")
			}
			total += int(n)
		}
		return nil
	})
	return total, err
}

// NextDueAt returns when the earliest pending delivery or message awaiting dispatch is due, or
// nil when nothing waits.
func (db *DB) NextDueAt(ctx context.Context) (*time.Time, error) {
	var next sql.NullInt64
	if err := db.r.QueryRowContext(ctx, `SELECT min(due) FROM (
			SELECT min(next_attempt_at) AS due FROM deliveries WHERE status = 1
			UNION ALL SELECT min(dispatch_until) FROM messages WHERE dispatch_until IS NOT NULL)`).Scan(&next); err != nil {
		return nil, dbErr(err, "next due delivery")
	}
	return fromNullMicros(next), nil
}

// Backlog counts the messages awaiting dispatch and the pending deliveries, each from its
// partial index.
func (db *DB) Backlog(ctx context.Context) (hookline.Backlog, error) {
	var b hookline.Backlog
	err := db.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM messages WHERE dispatch_until IS NOT NULL),
		(SELECT count(*) FROM deliveries WHERE status = 1)`).Scan(&b.MessagesAwaitingDispatch, &b.DeliveriesPending)
	if err != nil {
		return hookline.Backlog{}, dbErr(err, "backlog")
	}
	return b, nil
}

// SetEndpointDisabled enables or disables an endpoint and reports whether it changed. Disabling
// records the reason; enabling clears it and starts a new health record (no failure streak),
// so an endpoint that was switched back on is not disabled again by its old failures.
func (db *DB) SetEndpointDisabled(ctx context.Context, appID, endpointID string, disabled bool, reason string, at time.Time) (bool, error) {
	defer db.targets.forget()
	changed := false
	err := db.inTx(ctx, func(tx *txn) error {
		var res sql.Result
		var err error
		if disabled {
			res, err = tx.ExecContext(ctx, `UPDATE endpoints SET disabled = 1, disabled_reason = ?, updated_at = ?
				WHERE app_id = ? AND id = ? AND disabled = 0`, nullString(reason), micros(at), appID, endpointID)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE endpoints SET disabled = 0, disabled_reason = NULL, failure_streak = 0,
				failing_since = NULL, updated_at = ? WHERE app_id = ? AND id = ? AND disabled = 1`, micros(at), appID, endpointID)
		}
		err = mustAffect(res, err, "set endpoint %q disabled=%v", endpointID, disabled)
		if err == nil {
			changed = true
			return nil
		}
		if !errors.Is(err, errNoRows) {
			return err
		}
		// Nothing changed: the endpoint is already in that state, or does not exist.
		return endpointExists(ctx, tx, appID, endpointID)
	})
	return changed, err
}

// endpointExists returns ENOTFOUND unless the application has the endpoint.
func endpointExists(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, appID, endpointID string) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM endpoints WHERE app_id = ? AND id = ?`, appID, endpointID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", endpointID)
	}
	if err != nil {
		return dbErr(err, "find endpoint %q", endpointID)
	}
	return nil
}

// inList appends "col IN (...)" for values to conds and the values, as one argument, to args.
func inList(conds []string, args []any, col string, values []string) ([]string, []any) {
	return append(conds, col+" IN ("+idList+")"), append(args, jsonArray(values))
}

// ListAttempts lists attempts of one application by attempt id (creation order), filtered by
// endpoint, message, outcome, the message's event type and the attempt's time.
func (db *DB) ListAttempts(ctx context.Context, appID string, opts hookline.AttemptListOptions) (hookline.Page[hookline.Attempt], error) {
	cond, cursorArgs, tail, reverse := pageQuery("id", opts.ListOptions)
	conds := []string{"app_id = ?", cond}
	args := append([]any{appID}, cursorArgs...)
	conds, args = attemptFilters(conds, args, opts)
	rows, err := db.r.QueryContext(ctx, `SELECT `+sqlcodec.AttemptColumns+` FROM attempts`+where(conds)+tail, args...)
	if err != nil {
		return hookline.Page[hookline.Attempt]{}, dbErr(err, "list attempts")
	}
	defer rows.Close()
	var out []hookline.Attempt
	for rows.Next() {
		a, err := sqlcodec.ScanAttempt(rows)
		if err != nil {
			return hookline.Page[hookline.Attempt]{}, dbErr(err, "list attempts")
		}
		out = append(out, *a)
	}
	if err := rows.Err(); err != nil {
		return hookline.Page[hookline.Attempt]{}, dbErr(err, "list attempts")
	}
	return finishPage(out, opts.ListOptions, reverse), nil
}

// GetAttempt finds one attempt of the application.
func (db *DB) GetAttempt(ctx context.Context, appID, attemptID string) (*hookline.Attempt, error) {
	a, err := sqlcodec.ScanAttempt(db.r.QueryRowContext(ctx, `SELECT `+sqlcodec.AttemptColumns+` FROM attempts WHERE app_id = ? AND id = ?`,
		appID, attemptID))
	if errors.Is(err, sql.ErrNoRows) {
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
// status there, by delivery id, filtered by status, event type and message creation time.
func (db *DB) ListEndpointMessages(ctx context.Context, appID, endpointID string, opts hookline.EndpointMessageListOptions) (hookline.Page[hookline.EndpointMessage], error) {
	cond, cursorArgs, tail, reverse := pageQuery("d.id", opts.ListOptions)
	conds := []string{"d.app_id = ?", "d.endpoint_id = ?", cond}
	args := append([]any{appID, endpointID}, cursorArgs...)
	if opts.Status != nil {
		conds, args = append(conds, "d.status = ?"), append(args, *opts.Status)
	}
	if len(opts.EventTypes) > 0 {
		conds, args = inList(conds, args, "m.event_type", opts.EventTypes)
	}
	if opts.Channel != "" {
		conds, args = append(conds, "EXISTS (SELECT 1 FROM json_each(m.channels) WHERE json_each.value = ?)"), append(args, opts.Channel)
	}
	if opts.Tag != "" {
		conds, args = append(conds, "EXISTS (SELECT 1 FROM json_each(m.tags) WHERE json_each.value = ?)"), append(args, opts.Tag)
	}
	if opts.Before != nil {
		conds, args = append(conds, "m.created_at < ?"), append(args, micros(*opts.Before))
	}
	if opts.After != nil {
		conds, args = append(conds, "m.created_at > ?"), append(args, micros(*opts.After))
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+qualifiedMessageColumns+`, d.status, d.next_attempt_at, d.id
		FROM deliveries d JOIN messages m ON m.id = d.msg_id`+where(conds)+tail, args...)
	if err != nil {
		return hookline.Page[hookline.EndpointMessage]{}, dbErr(err, "list endpoint messages")
	}
	defer rows.Close()
	var out []hookline.EndpointMessage
	for rows.Next() {
		var (
			em   hookline.EndpointMessage
			next sql.NullInt64
		)
		m, err := sqlcodec.ScanMessage(sqlcodec.WithExtra{S: rows, Extra: []any{&em.Status, &next, &em.DeliveryID}})
		if err != nil {
			return hookline.Page[hookline.EndpointMessage]{}, dbErr(err, "list endpoint messages")
		}
		em.Message, em.NextAttemptAt = *m, fromNullMicros(next)
		out = append(out, em)
	}
	if err := rows.Err(); err != nil {
		return hookline.Page[hookline.EndpointMessage]{}, dbErr(err, "list endpoint messages")
	}
	return finishPage(out, opts.ListOptions, reverse), nil
}

// RequeueDelivery makes the message due at the endpoint now, as a manual attempt, creating the
// delivery when the message never went there. A delivery being sent right now is returned
// unchanged: its attempt is under way, and requeueing it would send it twice at once.
func (db *DB) RequeueDelivery(ctx context.Context, appID, messageID, endpointID string, now time.Time) (*hookline.Delivery, error) {
	now = normTime(now)
	var out *hookline.Delivery
	err := db.inTx(ctx, func(tx *txn) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM messages WHERE app_id = ? AND id = ?`, appID, messageID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return hookline.Errorf(hookline.ENOTFOUND, "message %q not found", messageID)
		}
		if err != nil {
			return dbErr(err, "requeue: find message %q", messageID)
		}
		if err := endpointExists(ctx, tx, appID, endpointID); err != nil {
			return err
		}
		d, err := sqlcodec.ScanDelivery(tx.QueryRowContext(ctx, `SELECT `+sqlcodec.DeliveryColumns+` FROM deliveries
			WHERE msg_id = ? AND endpoint_id = ? ORDER BY id LIMIT 1`, messageID, endpointID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			d = &hookline.Delivery{
				ID:            hookline.NewID(hookline.PrefixDelivery),
				AppID:         appID,
				MessageID:     messageID,
				EndpointID:    endpointID,
				Status:        hookline.StatusPending,
				NextAttemptAt: &now,
				Trigger:       hookline.TriggerManual,
				CreatedAt:     now,
				UpdatedAt:     now,
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (`+sqlcodec.DeliveryColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				d.ID, d.AppID, d.MessageID, d.EndpointID, d.Status, d.AttemptCount, micros(now), d.Trigger,
				micros(d.CreatedAt), micros(d.UpdatedAt)); err != nil {
				return dbErr(err, "requeue: insert delivery")
			}
		case err != nil:
			return dbErr(err, "requeue: find delivery")
		case d.Status == hookline.StatusSending:
			// Left alone; see the doc comment.
		default:
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 1, next_attempt_at = ?, trigger_type = 1,
				lease_owner = NULL, leased_until = NULL, updated_at = ? WHERE id = ?`, micros(now), micros(now), d.ID); err != nil {
				return dbErr(err, "requeue: update delivery %s", d.ID)
			}
			d.Status, d.NextAttemptAt, d.Trigger, d.UpdatedAt = hookline.StatusPending, &now, hookline.TriggerManual, now
		}
		out = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RequeueFailed makes the endpoint's failed deliveries of messages created in [since, until)
// due now as manual attempts, and returns how many. An unknown endpoint is ENOTFOUND.
func (db *DB) RequeueFailed(ctx context.Context, appID, endpointID string, since time.Time, until *time.Time, now time.Time) (int, error) {
	// Correlated: the endpoint's failed deliveries are few next to the application's messages.
	// An expunged message (empty payload) has nothing left to send.
	window := []string{"messages.id = deliveries.msg_id", "messages.created_at >= ?", "length(messages.payload) > 0"}
	args := []any{micros(now), micros(now), appID, endpointID, micros(since)}
	if until != nil {
		window, args = append(window, "messages.created_at < ?"), append(args, micros(*until))
	}
	n := 0
	err := db.inTx(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 1, next_attempt_at = ?, trigger_type = 1, updated_at = ?
			WHERE app_id = ? AND endpoint_id = ? AND status = 2
			AND EXISTS (SELECT 1 FROM messages`+where(window)+`)`, args...)
		if err != nil {
			return dbErr(err, "requeue failed deliveries")
		}
		affected, err := res.RowsAffected()
		if err != nil {
			return dbErr(err, "requeue failed deliveries")
		}
		n = int(affected)
		if n == 0 {
			return endpointExists(ctx, tx, appID, endpointID)
		}
		return nil
	})
	return n, err
}

// purgeBatch is how many messages Purge examines per write transaction, so that other writers
// (the delivery engine, the API) get the connection between batches.
const purgeBatch = 1000

// Purge deletes messages created before the given time that have no pending or sending
// deliveries; foreign keys cascade to their deliveries and attempts. It walks the messages in
// creation order, one batch per transaction.
func (db *DB) Purge(ctx context.Context, before time.Time) (int, error) {
	total := 0
	var cursorAt int64 = -1 << 63
	cursorID := ""
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		scanned, deleted := 0, 0
		err := db.inTx(ctx, func(tx *txn) error {
			rows, err := tx.QueryContext(ctx, `SELECT id, created_at, dispatch_until IS NOT NULL OR EXISTS (SELECT 1 FROM deliveries d
				WHERE d.msg_id = messages.id AND d.status IN (1, 3))
				FROM messages WHERE created_at < ? AND (created_at, id) > (?, ?)
				ORDER BY created_at, id LIMIT ?`, micros(before), cursorAt, cursorID, purgeBatch)
			if err != nil {
				return dbErr(err, "purge: select")
			}
			var doomed []string
			for rows.Next() {
				var (
					id   string
					busy bool
				)
				if err := rows.Scan(&id, &cursorAt, &busy); err != nil {
					rows.Close()
					return dbErr(err, "purge: select")
				}
				cursorID = id
				scanned++
				if !busy {
					doomed = append(doomed, id)
				}
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				return dbErr(err, "purge: select")
			}
			return inChunks(doomed, func(ids []any) error {
				res, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE id IN (`+idList+`)`, ids...)
				if err != nil {
					return dbErr(err, "purge: delete")
				}
				n, err := res.RowsAffected()
				if err != nil {
					return dbErr(err, "purge: delete")
				}
				deleted += int(n)
				return nil
			})
		})
		if err != nil {
			return total, err
		}
		total += deleted
		if scanned < purgeBatch {
			return total, nil
		}
	}
}

// attemptFilters appends the conditions of opts's filters (not its page) on attempts to conds,
// and their arguments to args: ListAttempts and CountAttempts select alike.
func attemptFilters(conds []string, args []any, opts hookline.AttemptListOptions) ([]string, []any) {
	if opts.EndpointID != "" {
		conds, args = append(conds, "endpoint_id = ?"), append(args, opts.EndpointID)
	}
	if opts.MessageID != "" {
		conds, args = append(conds, "msg_id = ?"), append(args, opts.MessageID)
	}
	if opts.Status != nil {
		conds, args = append(conds, "status = ?"), append(args, *opts.Status)
	}
	if len(opts.EventTypes) > 0 || opts.Channel != "" {
		// Correlated, so a page costs one message lookup per candidate attempt rather than a
		// scan of all the application's messages.
		sub := []string{"messages.id = attempts.msg_id"}
		if len(opts.EventTypes) > 0 {
			sub, args = inList(sub, args, "messages.event_type", opts.EventTypes)
		}
		if opts.Channel != "" {
			sub, args = append(sub, "EXISTS (SELECT 1 FROM json_each(messages.channels) WHERE json_each.value = ?)"), append(args, opts.Channel)
		}
		conds = append(conds, "EXISTS (SELECT 1 FROM messages"+where(sub)+")")
	}
	if opts.Before != nil {
		conds, args = append(conds, "created_at < ?"), append(args, micros(*opts.Before))
	}
	if opts.After != nil {
		conds, args = append(conds, "created_at > ?"), append(args, micros(*opts.After))
	}
	if opts.CodeClass != nil {
		lo, hi := hookline.CodeClassRange(*opts.CodeClass)
		conds, args = append(conds, "response_status_code >= ?", "response_status_code < ?"), append(args, lo, hi)
	}
	if opts.Tag != "" {
		conds = append(conds, "EXISTS (SELECT 1 FROM messages, json_each(messages.tags) WHERE messages.id = attempts.msg_id AND json_each.value = ?)")
		args = append(args, opts.Tag)
	}
	return conds, args
}
