package sqlcodec

import (
	"encoding/json"
	"fmt"

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
