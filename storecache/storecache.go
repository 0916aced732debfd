// Package storecache keeps, for a moment, the three lookups every API request makes: its
// token by hash, its application by id or uid, and the event type of a new message. On SQLite
// each is a read transaction whose locks are system calls, and they sit on the path of every
// message accepted; at 1,000 messages/s they were a tenth of the server's CPU. It keeps the
// event types' retry schedules too, which the dispatcher reads after every failed attempt.
//
// The cache is coherent for changes made through it (this process's API and dashboard): each
// one empties the part of the cache it affects. A change made by another process sharing a
// PostgreSQL database applies here within TTL: a token revoked there is still accepted here for
// up to a second.
package storecache

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hookline/hookline"
)

// TTL is how long a lookup is kept.
const TTL = time.Second

// maxEntries bounds each of the three caches; a full cache is emptied.
const maxEntries = 10_000

// Store is a hookline.Store whose token, application and event-type lookups are cached.
type Store struct {
	hookline.Store
	now func() time.Time

	mu     sync.Mutex
	gen    uint64 // bumped by every invalidation, so a lookup that raced one is not kept
	tokens map[string]entry[hookline.Token]
	apps   map[string]entry[hookline.Application]
	types  map[string]entry[hookline.EventType]
	// schedules holds retry schedules by event type; it is emptied with types.
	schedules map[string]entry[retrySchedule]
}

// retrySchedule is a cached retry schedule; nil is kept too (the event type has none).
type retrySchedule struct{ s []time.Duration }

type entry[T any] struct {
	v       T
	expires time.Time
}

// New wraps st. now is the clock the entries expire by (nil: time.Now).
func New(st hookline.Store, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{Store: st, now: now, tokens: map[string]entry[hookline.Token]{},
		apps: map[string]entry[hookline.Application]{}, types: map[string]entry[hookline.EventType]{},
		schedules: map[string]entry[retrySchedule]{}}
}

// lookup returns the cached value of key in m, or loads it with load and keeps it. Only found
// values are kept, so creating something is never hidden by a cached miss. copyOf returns a
// copy the caller may change.
func lookup[T any](s *Store, m map[string]entry[T], key string, copyOf func(*T) *T, load func() (*T, error)) (*T, error) {
	now := s.now()
	s.mu.Lock()
	e, ok := m[key]
	gen := s.gen
	s.mu.Unlock()
	if ok && now.Before(e.expires) {
		return copyOf(&e.v), nil
	}
	v, err := load()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.gen == gen {
		if len(m) >= maxEntries {
			clear(m)
		}
		m[key] = entry[T]{v: *copyOf(v), expires: now.Add(TTL)}
	}
	s.mu.Unlock()
	return v, nil
}

// forget empties the given caches.
func (s *Store) forget(tokens, apps, types bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	if tokens {
		clear(s.tokens)
	}
	if apps {
		clear(s.apps)
	}
	if types {
		clear(s.types)
		clear(s.schedules)
	}
}

func copyToken(t *hookline.Token) *hookline.Token {
	c := *t
	c.EndpointIDs = slices.Clone(t.EndpointIDs)
	return &c
}

func copyApp(a *hookline.Application) *hookline.Application {
	c := *a
	c.Metadata = maps.Clone(a.Metadata)
	return &c
}

func copyEventType(et *hookline.EventType) *hookline.EventType {
	c := *et
	c.Schemas = maps.Clone(et.Schemas)
	return &c
}

// GetTokenByHash finds a token by hash, from the cache when it was looked up within TTL.
func (s *Store) GetTokenByHash(ctx context.Context, hash []byte) (*hookline.Token, error) {
	return lookup(s, s.tokens, string(hash), copyToken, func() (*hookline.Token, error) {
		return s.Store.GetTokenByHash(ctx, hash)
	})
}

// GetApplication finds an application by id or uid, from the cache when it was looked up
// within TTL.
func (s *Store) GetApplication(ctx context.Context, idOrUID string) (*hookline.Application, error) {
	return lookup(s, s.apps, idOrUID, copyApp, func() (*hookline.Application, error) {
		return s.Store.GetApplication(ctx, idOrUID)
	})
}

// GetEventType finds an event type, from the cache when it was looked up within TTL.
func (s *Store) GetEventType(ctx context.Context, name string) (*hookline.EventType, error) {
	return lookup(s, s.types, name, copyEventType, func() (*hookline.EventType, error) {
		return s.Store.GetEventType(ctx, name)
	})
}

// GetRetrySchedule returns an event type's retry schedule, from the cache when it was looked up
// within TTL. The slice is shared: callers must not change it.
func (s *Store) GetRetrySchedule(ctx context.Context, eventType string) ([]time.Duration, error) {
	rs, err := lookup(s, s.schedules, eventType, func(r *retrySchedule) *retrySchedule { return r }, func() (*retrySchedule, error) {
		sched, err := s.Store.GetRetrySchedule(ctx, eventType)
		if err != nil {
			return nil, err
		}
		return &retrySchedule{s: sched}, nil
	})
	if err != nil {
		return nil, err
	}
	return rs.s, nil
}

// The changes below empty what they affect, after the change (a lookup between the change
// and the emptying may still see the old value, as another process's would).

// RevokeToken revokes the token and forgets cached tokens.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) error {
	defer s.forget(true, false, false)
	return s.Store.RevokeToken(ctx, id, at)
}

// UpdateApplication updates the application and forgets cached applications.
func (s *Store) UpdateApplication(ctx context.Context, app *hookline.Application) error {
	defer s.forget(false, true, false)
	return s.Store.UpdateApplication(ctx, app)
}

// DeleteApplication deletes the application and forgets cached applications and tokens (its
// own tokens go with it).
func (s *Store) DeleteApplication(ctx context.Context, id string) error {
	defer s.forget(true, true, false)
	return s.Store.DeleteApplication(ctx, id)
}

// UpdateEventType updates the event type and forgets cached event types.
func (s *Store) UpdateEventType(ctx context.Context, et *hookline.EventType) error {
	defer s.forget(false, false, true)
	return s.Store.UpdateEventType(ctx, et)
}

// DeleteEventType deletes the event type and forgets cached event types.
func (s *Store) DeleteEventType(ctx context.Context, name string) error {
	defer s.forget(false, false, true)
	return s.Store.DeleteEventType(ctx, name)
}

// SetRetrySchedule stores an event type's retry schedule and forgets cached event types and
// schedules.
func (s *Store) SetRetrySchedule(ctx context.Context, eventType string, schedule []time.Duration) error {
	defer s.forget(false, false, true)
	return s.Store.SetRetrySchedule(ctx, eventType, schedule)
}

// ExpireTokens ends tokens of an application and forgets cached tokens.
func (s *Store) ExpireTokens(ctx context.Context, appID string, kinds []hookline.TokenKind, sessionIDs []string, at time.Time) (int, error) {
	defer s.forget(true, false, false)
	return s.Store.ExpireTokens(ctx, appID, kinds, sessionIDs, at)
}

// UseToken uses a single-use token and forgets cached tokens, so the used one stops working at
// once.
func (s *Store) UseToken(ctx context.Context, id string, at time.Time) (bool, error) {
	defer s.forget(true, false, false)
	return s.Store.UseToken(ctx, id, at)
}

// TouchToken records a token's use and moves the cached copies' LastUsedAt along, so the
// requests that follow within the TTL see the new time and do not write again.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	if err := s.Store.TouchToken(ctx, id, at); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, e := range s.tokens {
		if e.v.ID == id && (e.v.LastUsedAt == nil || e.v.LastUsedAt.Before(at)) {
			t := at
			e.v.LastUsedAt = &t
			s.tokens[k] = e
		}
	}
	return nil
}
