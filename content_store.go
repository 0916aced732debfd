package hookline

import (
	"context"
	"encoding/json"
	"time"
)

// ContentStore removes what messages and attempts carry (payloads and response bodies) while
// keeping their records: Svix's expunge. What it removes must be gone from the database's
// files, not only from query results: each backend overwrites or reclaims the bytes it freed
// (see ReclaimExpunged).
type ContentStore interface {
	// ExpungeMessages empties the payloads of the application's messages named by id or
	// eventId, replaces the response bodies of their attempts with ExpungedResponse, deletes
	// the stored Idempotency-Key responses that name them, and ends their deliveries that are
	// still pending (nothing more is sent: a message without payload has nothing to deliver).
	// It returns, for each name, whether a message was found; an already expunged message
	// counts as found.
	ExpungeMessages(ctx context.Context, appID string, idsOrEventIDs []string) (map[string]bool, error)
	// ExpungeMessagesAfter does what ExpungeMessages does to the application's next messages
	// in id order after afterID ("" for the first) and before beforeID ("" for no bound), at
	// most limit of them, and returns how many it expunged and the id of the last one it looked
	// at ("" when there was none).
	ExpungeMessagesAfter(ctx context.Context, appID, afterID, beforeID string, limit int) (n int, lastID string, err error)
	// ExpirePayloads expunges, as ExpungeMessages does, up to limit messages whose payload
	// retention (Message.PayloadRetention) ended at or before now and that still have a
	// payload, the earliest first, and returns how many. The bytes are left for the database to
	// overwrite in time (no ReclaimExpunged is owed): a retention is not an erasure request.
	ExpirePayloads(ctx context.Context, now time.Time, limit int) (int, error)
	// ExpungeAttempt replaces one attempt's response body with ExpungedResponse.
	ExpungeAttempt(ctx context.Context, appID, attemptID string) error
	// ReclaimExpunged makes the bytes that expunges freed unreadable in the database's files:
	// SQLite zeroes freed space as it expunges (secure_delete) and here copies the WAL into
	// the database and truncates it; PostgreSQL vacuums the tables, removing the old row
	// versions. Callers call it after the expunges of one request or task.
	ReclaimExpunged(ctx context.Context) error
}

// ExpungedResponse replaces the response body of an attempt whose content was expunged (the
// text Svix uses).
const ExpungedResponse = "EXPUNGED"

// ExpiredPayload is what the API shows in place of an expunged payload (Svix's text).
var ExpiredPayload = json.RawMessage(`{"expired":true}`)

// Expunged reports whether the message's payload was expunged. A stored message always has a
// payload (the API refuses an empty one); only an expunge empties it.
func (m *Message) Expunged() bool { return len(m.Payload) == 0 }
