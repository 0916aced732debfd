package sqlcodec

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookline/hookline"
)

// MessageColumns are the columns of a message that both stores read and write.
const MessageColumns = `id, app_id, event_type, event_id, payload, channels, tags, created_at, deliver_at`

// ScanMessage reads a row of MessageColumns. The payload bytes are kept as stored.
func ScanMessage(s Scanner) (*hookline.Message, error) {
	var (
		m              hookline.Message
		eventID        *string
		payload        []byte // *[]byte gets a copy of the driver's buffer from both drivers
		channels, tags string
		createdAt      int64
		deliverAt      *int64
	)
	if err := s.Scan(&m.ID, &m.AppID, &m.EventType, &eventID, &payload, &channels, &tags, &createdAt, &deliverAt); err != nil {
		return nil, err
	}
	m.EventID, m.Payload = deref(eventID), payload
	for _, f := range []struct {
		name, text string
		dst        *[]string
	}{{"channels", channels, &m.Channels}, {"tags", tags, &m.Tags}} {
		if f.text == "" {
			continue
		}
		if err := json.Unmarshal([]byte(f.text), f.dst); err != nil {
			return nil, fmt.Errorf("decode %s of %s: %w", f.name, m.ID, err)
		}
	}
	m.CreatedAt = fromMicros(createdAt)
	if deliverAt != nil {
		t := fromMicros(*deliverAt)
		m.DeliverAt = &t
	}
	return &m, nil
}

// PayloadExpiry returns when msg's payload is to be expunged (its CreatedAt plus its
// PayloadRetention), or nil when it is kept as long as the message.
func PayloadExpiry(msg *hookline.Message) *time.Time {
	if msg.PayloadRetention <= 0 {
		return nil
	}
	t := msg.CreatedAt.Add(msg.PayloadRetention)
	return &t
}
