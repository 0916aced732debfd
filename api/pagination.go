package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/hookline/hookline"
)

// Page sizes: Svix's default and maximum.
const (
	defaultLimit = 50
	maxLimit     = 250
)

// ListQuery holds the pagination parameters every list accepts.
type ListQuery struct {
	Limit    int    `query:"limit" doc:"Page size, 1 to 250 (default 50)."`
	Iterator string `query:"iterator" doc:"The iterator (or prevIterator) of the page before."`
	Order    string `query:"order" enum:"ascending,descending" doc:"Sort order."`
}

// listOptions parses limit, iterator and order. A prevIterator is the first id of a page
// prefixed with "-": it asks for the page before that id.
func listOptions(r *http.Request, defaultDescending bool) (hookline.ListOptions, error) {
	q := r.URL.Query()
	opts := hookline.ListOptions{Limit: defaultLimit, Descending: defaultDescending}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return opts, fieldError("query", "limit", "value", "must be a whole number from 1 to 250")
		}
		opts.Limit = n
	}
	switch q.Get("order") {
	case "":
	case "ascending":
		opts.Descending = false
	case "descending":
		opts.Descending = true
	default:
		return opts, fieldError("query", "order", "value", `must be "ascending" or "descending"`)
	}
	if it := q.Get("iterator"); it != "" {
		opts.Iterator, opts.Backward = strings.CutPrefix(it, "-")
		if len(opts.Iterator) > 300 {
			return opts, fieldError("query", "iterator", "value", "is not a valid iterator")
		}
	}
	return opts, nil
}

// listResponse builds the page body: iterator is the last id (to continue), prevIterator the
// first id with "-" (to go back).
func listResponse[T any, O any](page hookline.Page[T], opts hookline.ListOptions, key func(*T) string, out func(*T) O) ListResponse[O] {
	resp := ListResponse[O]{Data: make([]O, len(page.Data)), Done: page.Done}
	for i := range page.Data {
		resp.Data[i] = out(&page.Data[i])
	}
	if n := len(page.Data); n > 0 {
		last, first := key(&page.Data[n-1]), key(&page.Data[0])
		resp.Iterator = &last
		prev := "-" + first
		resp.PrevIterator = &prev
		if opts.Backward {
			// Fetched backwards: "done" said nothing lies before the first item; going forward
			// from this page there is always the page we came from.
			resp.Done = false
		}
	} else if opts.Iterator != "" {
		it := opts.Iterator
		resp.Iterator = &it
	}
	return resp
}

func fieldError(where, field, typ, msg string) error {
	return &hookline.Error{Code: hookline.EINVALID, Message: field + ": " + msg,
		Fields: []hookline.FieldError{{Loc: []string{where, field}, Msg: msg, Type: typ}}}
}
