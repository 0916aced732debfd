package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"

	"github.com/hookline/hookline"
)

// EventTypeImport is what an import of event types changes (or, in a dry run, would change).
type EventTypeImport struct {
	// Changed are the event types of the import that are new, differ from the catalogue, or are
	// archived there (an import brings them back), in name order.
	Changed []hookline.EventType
	// Archived are the names of the event types archived because the import replaces the whole
	// catalogue and does not name them.
	Archived []string
}

// ImportEventTypes creates or updates the event types (Svix's import from OpenAPI): each is
// validated first, and if any is invalid nothing is stored. One that equals the catalogue's is
// left alone; an archived one is brought back. With replaceAll, the catalogue's other event
// types are archived. With dryRun, nothing is stored and the result says what would change.
// loc prefixes the location of validation errors (the document's webhooks section).
func (s *Service) ImportEventTypes(ctx context.Context, types []hookline.EventType, replaceAll, dryRun bool, loc ...string) (*EventTypeImport, error) {
	for i := range types {
		if err := s.validateEventType(&types[i]); err != nil {
			return nil, relocate(err, append(append([]string(nil), loc...), types[i].Name))
		}
	}
	existing, err := s.allEventTypes(ctx)
	if err != nil {
		return nil, err
	}
	res := &EventTypeImport{}
	named := make(map[string]bool, len(types))
	for _, et := range types {
		named[et.Name] = true
		if old, ok := existing[et.Name]; ok && !old.Archived && sameEventType(old, &et) {
			continue
		}
		res.Changed = append(res.Changed, et)
	}
	if replaceAll {
		for name, et := range existing {
			if !named[name] && !et.Archived {
				res.Archived = append(res.Archived, name)
			}
		}
		sort.Strings(res.Archived)
	}
	if dryRun {
		return res, nil
	}
	for i := range res.Changed {
		et := res.Changed[i]
		if old, ok := existing[et.Name]; ok {
			et.CreatedAt = old.CreatedAt
			err = s.UpdateEventType(ctx, &et)
		} else {
			err = s.CreateEventType(ctx, &et)
			if hookline.ErrorCode(err) == hookline.ECONFLICT { // made meanwhile
				err = s.UpdateEventType(ctx, &et)
			}
		}
		if err != nil {
			return nil, err
		}
		res.Changed[i] = et
	}
	for _, name := range res.Archived {
		et := existing[name]
		et.Archived = true
		if err := s.UpdateEventType(ctx, et); err != nil && !hookline.IsNotFound(err) {
			return nil, err
		}
	}
	return res, nil
}

// allEventTypes reads the whole catalogue, archived event types included.
func (s *Service) allEventTypes(ctx context.Context) (map[string]*hookline.EventType, error) {
	out := map[string]*hookline.EventType{}
	opts := hookline.EventTypeListOptions{ListOptions: hookline.ListOptions{Limit: 250}, IncludeArchived: true}
	for {
		page, err := s.store.ListEventTypes(ctx, opts)
		if err != nil {
			return nil, err
		}
		for i := range page.Data {
			out[page.Data[i].Name] = &page.Data[i]
		}
		if page.Done || len(page.Data) == 0 {
			return out, nil
		}
		opts.Iterator = page.Data[len(page.Data)-1].Name
	}
}

// sameEventType reports whether b would change nothing of a (schemas compared as JSON values).
func sameEventType(a, b *hookline.EventType) bool {
	if a.Description != b.Description || a.Deprecated != b.Deprecated || a.GroupName != b.GroupName ||
		a.FeatureFlag != b.FeatureFlag || len(a.Schemas) != len(b.Schemas) {
		return false
	}
	for v, s := range a.Schemas {
		t, ok := b.Schemas[v]
		if !ok || !sameJSON(s, t) {
			return false
		}
	}
	return true
}

func sameJSON(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// relocate moves the field errors of a validation error under loc (in place of "body").
func relocate(err error, loc []string) error {
	var he *hookline.Error
	if !errors.As(err, &he) {
		return err
	}
	out := *he
	out.Fields = make([]hookline.FieldError, len(he.Fields))
	msgs := make([]string, len(he.Fields))
	for i, f := range he.Fields {
		rest := f.Loc
		if len(rest) > 0 && rest[0] == "body" {
			rest = rest[1:]
		}
		out.Fields[i] = hookline.FieldError{Loc: append(append([]string(nil), loc...), rest...), Msg: f.Msg, Type: f.Type}
		msgs[i] = strings.Join(out.Fields[i].Loc[1:], ".") + ": " + f.Msg
	}
	if len(msgs) > 0 {
		out.Message = strings.Join(msgs, "; ")
	}
	return &out
}
