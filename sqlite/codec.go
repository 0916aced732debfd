package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

// Times are stored as unix microseconds: integers sort and compare cheaply, and microseconds
// are what PostgreSQL keeps too, so both backends return the same values.

// normTime returns t in UTC at microsecond precision, as the database will return it.
func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func normTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	n := normTime(*t)
	return &n
}

// nullString stores "" as NULL, for optional unique columns (uid, event_id) where any number
// of rows may have none.
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func nullInt(p *int) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(*p), Valid: true}
}

// jsonText encodes maps and slices for JSON columns. A nil value is stored as "null" and an
// empty one as "{}" or "[]", so the difference survives a round trip.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// scanner is the Scan method shared by *sql.Row and *sql.Rows.
type scanner = sqlcodec.Scanner

// defaultLimit is the page size when a caller leaves ListOptions.Limit zero.
const defaultLimit = 50

// pageQuery is the cursor part of a list query ordered by col (ids and names are unique, so
// the column alone is a total order). It returns the condition to AND into the WHERE clause
// ("" when there is none), its arguments, the ORDER BY … LIMIT clause (fetching one row more
// than the page, to know whether another follows), and whether the rows come back in reverse
// of the list's order (a backward page is fetched walking away from the iterator). Backward
// without an Iterator has nothing to end before, so it is the first page.
func pageQuery(col string, opts hookline.ListOptions) (cond string, args []any, tail string, reverse bool) {
	limit := opts.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	// asc is the direction rows are fetched in.
	asc := !opts.Descending
	if opts.Iterator != "" {
		after := asc // forward in an ascending list: col > iterator
		if opts.Backward {
			after = !asc
			asc = !asc
			reverse = true
		}
		if after {
			cond = col + " > ?"
		} else {
			cond = col + " < ?"
		}
		args = append(args, opts.Iterator)
	}
	dir := "ASC"
	if !asc {
		dir = "DESC"
	}
	return cond, args, fmt.Sprintf(" ORDER BY %s %s LIMIT %d", col, dir, limit+1), reverse
}

// finishPage trims the extra row that pageQuery asked for, which tells whether the list goes
// on, and puts a backward page back into the list's order.
func finishPage[T any](items []T, opts hookline.ListOptions, reverse bool) hookline.Page[T] {
	limit := opts.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	done := len(items) <= limit
	if !done {
		items = items[:limit]
	}
	if reverse {
		slices.Reverse(items)
	}
	if items == nil {
		items = []T{}
	}
	return hookline.Page[T]{Data: items, Done: done}
}

// where joins conditions into a WHERE clause.
func where(conds []string) string {
	var nonEmpty []string
	for _, c := range conds {
		if c != "" {
			nonEmpty = append(nonEmpty, c)
		}
	}
	if len(nonEmpty) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(nonEmpty, " AND ")
}
