package sqlcodec

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/migrate"
)

// An endpoint's custom headers carry credentials (Authorization, X-Api-Key, ...), so the
// headers column holds them sealed under the main key, like signing secrets: the whole map, as
// JSON, so that no rule about which names are credentials decides what is left readable.
// Endpoints without headers keep "null" (or "{}"): there is nothing to hide. Rows written before
// migration 0008 hold the map as clear JSON; ScanEndpoint still reads them, and the migration's
// step (SealHeadersStep) rewrites them.

// SealHeaders encodes custom headers for the headers column.
func SealHeaders(box hookline.SecretBox, h map[string]string) (string, error) {
	b, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	if len(h) == 0 {
		return string(b), nil
	}
	return box.Seal(b)
}

// clearHeaders reports whether a headers column holds clear JSON (a row written before
// migration 0008, or an empty map), not a sealed value: JSON text starts with {, n(ull) or
// white space; a sealed value with its version ("v1:").
func clearHeaders(text string) bool {
	t := strings.TrimSpace(text)
	return t == "" || t[0] == '{' || t == "null"
}

// OpenHeaders decodes what SealHeaders wrote, or the clear JSON of an older row.
func OpenHeaders(box hookline.SecretBox, text string) (map[string]string, error) {
	if text == "" {
		return nil, nil
	}
	data := []byte(text)
	if !clearHeaders(text) {
		var err error
		if data, err = box.Open(text); err != nil {
			return nil, fmt.Errorf("open headers: %w", err)
		}
	}
	var h map[string]string
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("decode headers: %w", err)
	}
	return h, nil
}

// SealHeadersStep is the Go step of migration 0008 in both stores: it seals the headers of
// every endpoint whose headers are clear JSON. Rows already sealed are left alone, so running
// it again changes nothing.
func SealHeadersStep(box hookline.SecretBox) migrate.Step {
	return func(ctx context.Context, tx *sql.Tx, p func(int) string) error {
		rows, err := tx.QueryContext(ctx, "SELECT id, headers FROM endpoints")
		if err != nil {
			return fmt.Errorf("read endpoint headers: %w", err)
		}
		type row struct{ id, headers string }
		var clear []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.headers); err != nil {
				rows.Close()
				return fmt.Errorf("read endpoint headers: %w", err)
			}
			if clearHeaders(r.headers) {
				clear = append(clear, r)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read endpoint headers: %w", err)
		}
		update := "UPDATE endpoints SET headers = " + p(1) + " WHERE id = " + p(2)
		for _, r := range clear {
			h, err := OpenHeaders(box, r.headers)
			if err != nil {
				return fmt.Errorf("endpoint %s: %w", r.id, err)
			}
			if len(h) == 0 {
				continue
			}
			sealed, err := SealHeaders(box, h)
			if err != nil {
				return fmt.Errorf("seal headers of endpoint %s: %w", r.id, err)
			}
			if _, err := tx.ExecContext(ctx, update, sealed, r.id); err != nil {
				return fmt.Errorf("seal headers of endpoint %s: %w", r.id, err)
			}
		}
		return nil
	}
}
