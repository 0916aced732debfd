package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

// The statements of the message hot path, cached by the writer ahead of use (see warm).
const (
	// insertMessageSQL stores a message awaiting dispatch (?9) when its application has an
	// enabled endpoint: due at its deliverAt (?12) or else its creation (?8), or leased to ?10
	// until ?11. It returns whether the message awaits dispatch.
	insertMessageSQL = `INSERT INTO messages (` + sqlcodec.MessageColumns + `, payload_expires_at, dispatch_owner, dispatch_until)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?12, ?13, CASE WHEN d THEN ?10 END, CASE WHEN d THEN coalesce(?11, ?12, ?8) END
		FROM (SELECT ?9 AND EXISTS (SELECT 1 FROM endpoints WHERE app_id = ?2 AND disabled = 0) AS d)
		RETURNING dispatch_until IS NOT NULL`
	messageByEventIDSQL = `SELECT id FROM messages WHERE app_id = ? AND event_id = ?`
	insertDeliverySQL   = `INSERT INTO deliveries (` + sqlcodec.DeliveryColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	endpointOfAppSQL    = `SELECT id FROM endpoints WHERE app_id = ? AND id = ?`
)

// CreateMessage inserts msg awaiting dispatch, due at its CreatedAt (a zero CreatedAt is set
// from the clock): ClaimDeliveries fans it out. A message of an application without enabled
// endpoints has nothing to fan out and does not wait; one with OnlyEndpointID gets its one
// delivery in the same transaction instead. With msg.Lease set, the message is stored leased
// to its owner, who fans it out with FanOut; Lease is set to nil when nothing awaits dispatch.
//
// Concurrent calls share transactions (group commit): each message gets its own savepoint in
// the batch's transaction, so one message's failure (a duplicate eventId) leaves the others
// alone, and every caller returns only after the commit that holds its message. One commit
// for many messages is what lets a single SQLite writer accept thousands of messages a second.
func (db *DB) CreateMessage(ctx context.Context, msg *hookline.Message) error {
	if msg.ID == "" || msg.AppID == "" {
		return errors.New("sqlite: create message: ID and AppID are required")
	}
	db.stampCreated(&msg.CreatedAt, nil)
	return db.batcher.submit(ctx, msg)
}

// insertMessage inserts one message inside tx, awaiting dispatch, or with its one delivery when
// it names its endpoint.
func insertMessage(ctx context.Context, tx *txn, msg *hookline.Message) error {
	channels, err := jsonText(msg.Channels)
	if err != nil {
		return fmt.Errorf("sqlite: create message: encode channels: %w", err)
	}
	tags, err := jsonText(msg.Tags)
	if err != nil {
		return fmt.Errorf("sqlite: create message: encode tags: %w", err)
	}
	payload := []byte(msg.Payload)
	if payload == nil {
		payload = []byte{} // the column is NOT NULL; an empty payload is the API's to refuse
	}
	var owner, until any
	if msg.Lease != nil {
		owner, until = msg.Lease.Owner, micros(msg.Lease.Until)
	}
	var dispatching bool
	err = tx.QueryRowContext(ctx, insertMessageSQL,
		msg.ID, msg.AppID, msg.EventType, nullString(msg.EventID), payload, channels, tags, micros(msg.CreatedAt),
		msg.OnlyEndpointID == "", owner, until, nullMicros(msg.DeliverAt), nullMicros(sqlcodec.PayloadExpiry(msg))).Scan(&dispatching)
	if err == nil && !dispatching {
		msg.Lease = nil
	}
	switch {
	case isUniqueViolation(err) && msg.EventID != "":
		var existing string
		err := tx.QueryRowContext(ctx, messageByEventIDSQL,
			msg.AppID, msg.EventID).Scan(&existing)
		if err == nil {
			return &hookline.Error{
				Code:     hookline.EDUPLICATEEVENT,
				Message:  fmt.Sprintf("a message with eventId %q already exists", msg.EventID),
				Existing: existing,
			}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return dbErr(err, "create message: find duplicate of event %q", msg.EventID)
		}
		// No message has the eventId, so the id itself collided.
		return hookline.Errorf(hookline.ECONFLICT, "message %q already exists", msg.ID)
	case isUniqueViolation(err):
		return hookline.Errorf(hookline.ECONFLICT, "message %q already exists", msg.ID)
	case isForeignKeyViolation(err):
		return hookline.Errorf(hookline.ENOTFOUND, "application %q not found", msg.AppID)
	case err != nil:
		return dbErr(err, "create message")
	}
	if msg.OnlyEndpointID == "" {
		return nil
	}

	// A test send goes to the one endpoint it names, whatever its filters.
	var epID string
	err = tx.QueryRowContext(ctx, endpointOfAppSQL, msg.AppID, msg.OnlyEndpointID).Scan(&epID)
	if errors.Is(err, sql.ErrNoRows) {
		return hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", msg.OnlyEndpointID)
	}
	if err != nil {
		return dbErr(err, "create message: load endpoint")
	}
	at := micros(msg.CreatedAt)
	if _, err := tx.ExecContext(ctx, insertDeliverySQL, hookline.NewID(hookline.PrefixDelivery), msg.AppID, msg.ID, epID,
		hookline.StatusPending, 0, at, hookline.TriggerScheduled, at, at); err != nil {
		return dbErr(err, "create message: insert delivery to %s", epID)
	}
	return nil
}

// GetMessage finds a message of the application by id or eventId; the id wins when both match.
func (db *DB) GetMessage(ctx context.Context, appID, idOrEventID string) (*hookline.Message, error) {
	row := db.r.QueryRowContext(ctx, `SELECT `+sqlcodec.MessageColumns+` FROM messages
		WHERE app_id = ? AND (id = ? OR event_id = ?) ORDER BY id = ? DESC LIMIT 1`,
		appID, idOrEventID, idOrEventID, idOrEventID)
	m, err := sqlcodec.ScanMessage(row)
	if errors.Is(err, sql.ErrNoRows) {
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
	cond, cursorArgs, tail, reverse := pageQuery("id", opts.ListOptions)
	conds := []string{"app_id = ?", cond}
	args := append([]any{appID}, cursorArgs...)
	if len(opts.EventTypes) > 0 {
		conds = append(conds, "event_type IN (?"+strings.Repeat(", ?", len(opts.EventTypes)-1)+")")
		for _, t := range opts.EventTypes {
			args = append(args, t)
		}
	}
	if opts.Channel != "" {
		conds = append(conds, "EXISTS (SELECT 1 FROM json_each(messages.channels) WHERE json_each.value = ?)")
		args = append(args, opts.Channel)
	}
	if len(opts.Channels) > 0 {
		conds = append(conds, "EXISTS (SELECT 1 FROM json_each(messages.channels) WHERE json_each.value IN ("+idList+"))")
		args = append(args, jsonArray(opts.Channels))
	}
	if opts.Before != nil {
		conds = append(conds, "created_at < ?")
		args = append(args, micros(*opts.Before))
	}
	if opts.After != nil {
		conds = append(conds, "created_at > ?")
		args = append(args, micros(*opts.After))
	}
	if opts.Tag != "" {
		conds = append(conds, "EXISTS (SELECT 1 FROM json_each(messages.tags) WHERE json_each.value = ?)")
		args = append(args, opts.Tag)
	}
	// The delivery and attempt conditions are correlated lookups by message id, which the
	// deliveries_msg and attempts_msg indexes serve.
	if opts.EndpointID != "" || opts.Status != nil {
		sub := []string{"deliveries.msg_id = messages.id"}
		if opts.EndpointID != "" {
			sub, args = append(sub, "deliveries.endpoint_id = ?"), append(args, opts.EndpointID)
		}
		if opts.Status != nil {
			sub, args = append(sub, "deliveries.status = ?"), append(args, *opts.Status)
		}
		conds = append(conds, "EXISTS (SELECT 1 FROM deliveries"+where(sub)+")")
	}
	if opts.NoDeliveryTo != "" {
		conds = append(conds, "dispatch_until IS NULL",
			"NOT EXISTS (SELECT 1 FROM deliveries WHERE deliveries.msg_id = messages.id AND deliveries.endpoint_id = ?)")
		args = append(args, opts.NoDeliveryTo)
	}
	if opts.CodeClass != nil {
		lo, hi := hookline.CodeClassRange(*opts.CodeClass)
		sub := []string{"attempts.msg_id = messages.id", "attempts.response_status_code >= ?", "attempts.response_status_code < ?"}
		args = append(args, lo, hi)
		if opts.EndpointID != "" {
			sub, args = append(sub, "attempts.endpoint_id = ?"), append(args, opts.EndpointID)
		}
		conds = append(conds, "EXISTS (SELECT 1 FROM attempts"+where(sub)+")")
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+sqlcodec.MessageColumns+` FROM messages`+where(conds)+tail, args...)
	if err != nil {
		return hookline.Page[hookline.Message]{}, dbErr(err, "list messages")
	}
	defer rows.Close()
	var out []hookline.Message
	for rows.Next() {
		m, err := sqlcodec.ScanMessage(rows)
		if err != nil {
			return hookline.Page[hookline.Message]{}, dbErr(err, "list messages")
		}
		out = append(out, *m)
	}
	if err := rows.Err(); err != nil {
		return hookline.Page[hookline.Message]{}, dbErr(err, "list messages")
	}
	return finishPage(out, opts.ListOptions, reverse), nil
}

// ListDeliveries returns the deliveries of one message in endpoint creation order (endpoint
// ids sort by creation time).
func (db *DB) ListDeliveries(ctx context.Context, appID, messageID string) ([]hookline.Delivery, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+sqlcodec.DeliveryColumns+` FROM deliveries
		WHERE app_id = ? AND msg_id = ? ORDER BY endpoint_id, id`, appID, messageID)
	if err != nil {
		return nil, dbErr(err, "list deliveries of %q", messageID)
	}
	defer rows.Close()
	out := []hookline.Delivery{}
	for rows.Next() {
		d, err := sqlcodec.ScanDelivery(rows)
		if err != nil {
			return nil, dbErr(err, "list deliveries of %q", messageID)
		}
		out = append(out, *d)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(err, "list deliveries of %q", messageID)
	}
	if len(out) == 0 {
		// A message without deliveries is fine; a message that does not exist is not.
		var one int
		err := db.r.QueryRowContext(ctx, `SELECT 1 FROM messages WHERE app_id = ? AND id = ?`, appID, messageID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, hookline.Errorf(hookline.ENOTFOUND, "message %q not found", messageID)
		}
		if err != nil {
			return nil, dbErr(err, "list deliveries of %q", messageID)
		}
	}
	return out, nil
}
