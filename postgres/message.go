package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
	"github.com/jackc/pgx/v5"
)

// notifyDeliveries is the statement that, inside a transaction, wakes every listener on
// DeliveriesChannel when the transaction commits (and never if it rolls back).
const notifyDeliveries = `SELECT pg_notify('` + DeliveriesChannel + `', '')`

// claimEventID is the CTE that claims a message's eventId ($4) for its id ($1) in
// message_event_ids, whose primary key (app_id, event_id) holds the eventId rule: messages is
// partitioned by id, and a unique index on a partitioned table must contain its key. It claims
// nothing for a message without an eventId, or whose id is taken (the insert then does
// nothing either, and duplicateMessage says why).
const claimEventID = `ev AS (
		INSERT INTO message_event_ids (app_id, event_id, msg_id)
		SELECT $2, $4, $1 WHERE $4::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages WHERE id = $1)
		ON CONFLICT DO NOTHING RETURNING msg_id
	)`

// eventIDClaimed is the condition on a message's insert that its eventId is its own (or that it
// has none).
const eventIDClaimed = `($4::text IS NULL OR EXISTS (SELECT 1 FROM ev))`

// createMessageQuery inserts a message awaiting dispatch (unless its application has no
// enabled endpoint, so nothing to fan it out to): due at its deliverAt ($9) or else its
// creation ($8), or leased to $10 until $11. In the same statement (so the same transaction) it wakes the processes listening
// on DeliveriesChannel to fan out a message that is due; a leased one is its owner's to fan
// out. It returns whether the message awaits dispatch; a duplicate inserts nothing, returns no
// row and notifies no one.
const createMessageQuery = `WITH d AS (
		SELECT EXISTS (SELECT 1 FROM endpoints WHERE app_id = $2 AND NOT disabled) AS d
	), ` + claimEventID + `, ins AS (
		INSERT INTO messages (` + sqlcodec.MessageColumns + `, payload_expires_at, dispatch_owner, dispatch_until)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $12::bigint, CASE WHEN d THEN $10::text END,
			CASE WHEN d THEN coalesce($11::bigint, $9::bigint, $8::bigint) END
		FROM d WHERE ` + eventIDClaimed + `
		ON CONFLICT DO NOTHING RETURNING dispatch_until IS NOT NULL AS dispatching
	)
	SELECT dispatching, CASE WHEN dispatching AND $10::text IS NULL THEN pg_notify('` + DeliveriesChannel + `', '')::text END FROM ins`

// CreateMessage inserts msg awaiting dispatch, due at its CreatedAt (a zero CreatedAt is set
// from the clock), in one statement that notifies DeliveriesChannel: ClaimDeliveries fans it
// out. With msg.Lease set it is stored leased to its owner instead, who fans it out with
// FanOut, and no one is notified; Lease is set to nil when nothing awaits dispatch. When msg.OnlyEndpointID is set the message instead goes to that endpoint of the
// application alone, whatever its filters: one transaction inserts the message (not awaiting
// dispatch) with one pending delivery due at CreatedAt, and notifies DeliveriesChannel, or
// stores nothing (ENOTFOUND when the application has no such endpoint).
//
// Of two concurrent messages with one eventId, from any number of processes, the unique index
// lets one commit; the other gets EDUPLICATEEVENT naming the first.
func (db *DB) CreateMessage(ctx context.Context, msg *hookline.Message) error {
	if msg.ID == "" || msg.AppID == "" {
		return errors.New("postgres: create message: ID and AppID are required")
	}
	db.stampCreated(&msg.CreatedAt, nil)
	channels, err := jsonText(msg.Channels)
	if err != nil {
		return fmt.Errorf("postgres: create message: encode channels: %w", err)
	}
	tags, err := jsonText(msg.Tags)
	if err != nil {
		return fmt.Errorf("postgres: create message: encode tags: %w", err)
	}
	payload := []byte(msg.Payload)
	if payload == nil {
		payload = []byte{} // the column is NOT NULL; an empty payload is the API's to refuse
	}
	values := []any{msg.ID, msg.AppID, msg.EventType, nullString(msg.EventID), payload, channels, tags, micros(msg.CreatedAt),
		nullMicros(msg.DeliverAt)}

	if msg.OnlyEndpointID != "" {
		msg.Lease = nil
		return db.inTx(ctx, func(tx pgx.Tx) error { return db.createTestMessage(ctx, tx, msg, values) })
	}
	var owner, until any
	if msg.Lease != nil {
		owner, until = msg.Lease.Owner, micros(msg.Lease.Until)
	}
	return db.retrying(func() error {
		var dispatching bool
		var notified *string
		err := db.pool.QueryRow(ctx, createMessageQuery, append(values, owner, until, nullMicros(sqlcodec.PayloadExpiry(msg)))...).Scan(&dispatching, &notified)
		if err == nil && !dispatching {
			msg.Lease = nil
		}
		return db.messageInserted(ctx, db.pool, msg, err)
	})
}

// createTestMessage inserts, inside tx, a message that goes to msg.OnlyEndpointID alone with
// its one delivery, and notifies DeliveriesChannel. The insert and the endpoint's lookup travel
// in one round trip, the delivery and the notification in another.
func (db *DB) createTestMessage(ctx context.Context, tx pgx.Tx, msg *hookline.Message, values []any) error {
	var b pgx.Batch
	b.Queue(`WITH `+claimEventID+` INSERT INTO messages (`+sqlcodec.MessageColumns+`)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE `+eventIDClaimed+`
		ON CONFLICT DO NOTHING RETURNING id`, values...)
	b.Queue(`SELECT id FROM endpoints WHERE app_id = $1 AND id = $2`, msg.AppID, msg.OnlyEndpointID)
	br := tx.SendBatch(ctx, &b)
	var inserted, epID string
	insertErr := br.QueryRow().Scan(&inserted)
	var loadErr error
	if insertErr == nil {
		loadErr = br.QueryRow().Scan(&epID)
	}
	if closeErr := br.Close(); insertErr == nil && loadErr == nil && closeErr != nil {
		loadErr = closeErr
	}
	if err := db.messageInserted(ctx, tx, msg, insertErr); err != nil {
		return err
	}
	switch {
	case errors.Is(loadErr, pgx.ErrNoRows):
		return hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", msg.OnlyEndpointID)
	case loadErr != nil:
		return dbErr(loadErr, "create message: load endpoint")
	}

	b = pgx.Batch{}
	b.Queue(`INSERT INTO deliveries (`+sqlcodec.DeliveryColumns+`) VALUES ($1, $2, $3, $4, 1, 0, $5, 0, $5, $5)`,
		hookline.NewID(hookline.PrefixDelivery), msg.AppID, msg.ID, epID, micros(msg.CreatedAt))
	b.Queue(notifyDeliveries)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return dbErr(err, "create message: insert delivery to %s", epID)
	}
	return nil
}

// messageInserted turns the error of a message's INSERT … ON CONFLICT DO NOTHING RETURNING,
// run on q, into CreateMessage's: nil when the message was stored, EDUPLICATEEVENT or
// ECONFLICT when no row came back (see duplicateMessage), ENOTFOUND when the application does
// not exist.
func (db *DB) messageInserted(ctx context.Context, q querier, msg *hookline.Message, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return db.duplicateMessage(ctx, q, msg)
	case isForeignKeyViolation(err):
		return hookline.Errorf(hookline.ENOTFOUND, "application %q not found", msg.AppID)
	default:
		return dbErr(err, "create message")
	}
}

// duplicateMessage explains why inserting msg did nothing: another message of the application
// has its eventId (EDUPLICATEEVENT, naming it) or its id (ECONFLICT). The insert has waited for
// a concurrent inserter of the same key to commit, so under READ COMMITTED the winner is
// visible to this new statement; should it have been deleted since, the caller's transaction
// (or statement) is retried and the insert goes through. It runs on q: the caller's
// transaction, or the pool.
func (db *DB) duplicateMessage(ctx context.Context, q querier, msg *hookline.Message) error {
	var existing string
	err := q.QueryRow(ctx, `SELECT msg_id FROM message_event_ids WHERE app_id = $1 AND event_id = $2`, msg.AppID, msg.EventID).Scan(&existing)
	if err == nil {
		return &hookline.Error{
			Code:     hookline.EDUPLICATEEVENT,
			Message:  fmt.Sprintf("a message with eventId %q already exists", msg.EventID),
			Existing: existing,
		}
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return dbErr(err, "create message: find duplicate of event %q", msg.EventID)
	}
	var one int
	err = q.QueryRow(ctx, `SELECT 1 FROM messages WHERE id = $1`, msg.ID).Scan(&one)
	if err == nil {
		return hookline.Errorf(hookline.ECONFLICT, "message %q already exists", msg.ID)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return dbErr(err, "create message: find duplicate %q", msg.ID)
	}
	// The conflicting row is gone again (deleted after the insert gave way to it).
	return errConflictVanished
}

// errConflictVanished makes CreateMessage run its transaction or statement again.
var errConflictVanished = &retryError{"create message: the conflicting message disappeared"}

// retryError is an error of ours after which inTx runs the transaction again.
type retryError struct{ msg string }

func (e *retryError) Error() string { return "postgres: " + e.msg }

// eventIDLookup is the subquery for the id of the application's ($1) message with the eventId
// $2, so that a lookup by id or eventId reads one partition of messages for each.
const eventIDLookup = `SELECT msg_id FROM message_event_ids WHERE app_id = $1 AND event_id = $2`

// GetMessage finds a message of the application by id or eventId; the id wins when both match.
func (db *DB) GetMessage(ctx context.Context, appID, idOrEventID string) (*hookline.Message, error) {
	row := db.pool.QueryRow(ctx, `SELECT `+sqlcodec.MessageColumns+` FROM messages
		WHERE app_id = $1 AND id IN ($2, (`+eventIDLookup+`)) ORDER BY id = $2 DESC LIMIT 1`, appID, idOrEventID)
	m, err := sqlcodec.ScanMessage(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "message %q not found", idOrEventID)
	}
	if err != nil {
		return nil, dbErr(err, "get message %q", idOrEventID)
	}
	return m, nil
}

// ListMessages lists the application's messages by id, filtered by event type, channel and
// creation time.
func (db *DB) ListMessages(ctx context.Context, appID string, opts hookline.MessageListOptions) (hookline.Page[hookline.Message], error) {
	var a args
	conds := []string{"app_id = " + a.add(appID)}
	cond, tail, reverse := pageQuery(&a, "id", opts.ListOptions)
	conds = append(conds, cond)
	if len(opts.EventTypes) > 0 {
		conds = append(conds, "event_type = ANY("+a.add(opts.EventTypes)+"::text[])")
	}
	if opts.Channel != "" {
		conds = append(conds, "channels ? "+a.add(opts.Channel)+"::text")
	}
	if len(opts.Channels) > 0 {
		conds = append(conds, "channels ?| "+a.add(opts.Channels)+"::text[]")
	}
	if opts.Before != nil {
		conds = append(conds, "created_at < "+a.add(micros(*opts.Before)))
	}
	if opts.After != nil {
		conds = append(conds, "created_at > "+a.add(micros(*opts.After)))
	}
	if opts.Tag != "" {
		conds = append(conds, "tags ? "+a.add(opts.Tag)+"::text")
	}
	// The delivery and attempt conditions are correlated lookups by message id, which the
	// deliveries_msg and attempts_msg indexes serve.
	if opts.EndpointID != "" || opts.Status != nil {
		sub := []string{"d.msg_id = messages.id"}
		if opts.EndpointID != "" {
			sub = append(sub, "d.endpoint_id = "+a.add(opts.EndpointID))
		}
		if opts.Status != nil {
			sub = append(sub, "d.status = "+a.add(int32(*opts.Status)))
		}
		conds = append(conds, "EXISTS (SELECT 1 FROM delivery_rows d"+where(sub...)+")")
	}
	if opts.NoDeliveryTo != "" {
		conds = append(conds, "dispatch_until IS NULL",
			"NOT EXISTS (SELECT 1 FROM delivery_rows d WHERE d.msg_id = messages.id AND d.endpoint_id = "+a.add(opts.NoDeliveryTo)+")")
	}
	if opts.CodeClass != nil {
		lo, hi := hookline.CodeClassRange(*opts.CodeClass)
		sub := []string{"attempts.msg_id = messages.id", "attempts.response_status_code >= " + a.add(int32(lo)),
			"attempts.response_status_code < " + a.add(int32(hi))}
		if opts.EndpointID != "" {
			sub = append(sub, "attempts.endpoint_id = "+a.add(opts.EndpointID))
		}
		conds = append(conds, "EXISTS (SELECT 1 FROM attempts"+where(sub...)+")")
	}
	out, err := queryAll(ctx, db, `SELECT `+sqlcodec.MessageColumns+` FROM messages`+where(conds...)+tail, a, sqlcodec.ScanMessage)
	if err != nil {
		return hookline.Page[hookline.Message]{}, dbErr(err, "list messages")
	}
	return finishPage(out, opts.ListOptions, reverse), nil
}

// ListDeliveries returns the deliveries of one message in endpoint creation order (endpoint
// ids sort by creation time).
func (db *DB) ListDeliveries(ctx context.Context, appID, messageID string) ([]hookline.Delivery, error) {
	// The message row comes first (a NULL delivery when it has none), so one statement tells
	// a message without deliveries from a message that does not exist.
	rows, err := db.pool.Query(ctx, `SELECT d.id, d.app_id, d.msg_id, d.endpoint_id, d.status, d.attempt_count,
		d.next_attempt_at, d.trigger_type, d.created_at, d.updated_at
		FROM messages m LEFT JOIN delivery_rows d ON d.msg_id = m.id
		WHERE m.app_id = $1 AND m.id = $2 ORDER BY d.endpoint_id, d.id`, appID, messageID)
	if err != nil {
		return nil, dbErr(err, "list deliveries of %q", messageID)
	}
	defer rows.Close()
	found := false
	out := []hookline.Delivery{}
	for rows.Next() {
		found = true
		var id *string
		var d hookline.Delivery
		var next, createdAt, updatedAt *int64
		var status, attempts, trigger *int32
		var appIDCol, msgID, epID *string
		if err := rows.Scan(&id, &appIDCol, &msgID, &epID, &status, &attempts, &next, &trigger, &createdAt, &updatedAt); err != nil {
			return nil, dbErr(err, "list deliveries of %q", messageID)
		}
		if id == nil {
			continue // the message has no deliveries
		}
		d.ID, d.AppID, d.MessageID, d.EndpointID = *id, *appIDCol, *msgID, *epID
		d.Status, d.AttemptCount, d.Trigger = hookline.MessageStatus(*status), int(*attempts), hookline.TriggerType(*trigger)
		d.NextAttemptAt = fromNullMicros(next)
		d.CreatedAt, d.UpdatedAt = fromMicros(*createdAt), fromMicros(*updatedAt)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(err, "list deliveries of %q", messageID)
	}
	if !found {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "message %q not found", messageID)
	}
	return out, nil
}
