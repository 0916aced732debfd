package service

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/tasks"
)

// ExpungeMessages removes the payloads of the application's messages named by id or eventId,
// and the response bodies of their attempts (see hookline.ContentStore): no read returns them
// from then on, and RunReclaims removes them from the database's files in the background. It
// returns, for each name, whether a message was found. Pending retries of those messages end:
// nothing more is delivered.
func (s *Service) ExpungeMessages(ctx context.Context, appID string, idsOrEventIDs []string) (map[string]bool, error) {
	found, err := s.store.ExpungeMessages(ctx, appID, idsOrEventIDs)
	if err != nil {
		return nil, err
	}
	s.RequestReclaim()
	return found, nil
}

// ExpungeAttempt removes one attempt's response body, as ExpungeMessages does.
func (s *Service) ExpungeAttempt(ctx context.Context, appID, attemptID string) error {
	if err := s.store.ExpungeAttempt(ctx, appID, attemptID); err != nil {
		return err
	}
	s.RequestReclaim()
	return nil
}

// RequestReclaim asks RunReclaims for a run of the store's ReclaimExpunged. Requests made
// while a run is under way or waiting make one more run, after it.
func (s *Service) RequestReclaim() {
	select {
	case s.reclaims <- struct{}{}:
	default: // a run is already due
	}
}

// reclaimRetry bounds the wait before a failed reclaim is tried again: it starts at a tenth
// of it and doubles.
const reclaimRetry = 10 * time.Minute

// RunReclaims removes expunged content from the database's files, off the requests' way: it
// runs the store's ReclaimExpunged when asked (RequestReclaim), one run at a time, until ctx
// ends. A run that fails (SQLite too busy to truncate its WAL, PostgreSQL unreachable) is
// tried again after a backoff. A rewrite of a large partition takes long and an exclusive
// lock on it, which is why it no longer runs inside the API request.
func (s *Service) RunReclaims(ctx context.Context) {
	first := s.reclaimFirstRetry
	if first <= 0 {
		first = reclaimRetry / 10
	}
	backoff := first
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.reclaims:
		case <-retry:
		}
		retry = nil
		began := s.clock.Now()
		if err := s.store.ReclaimExpunged(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.logger.Warn("reclaim expunged content: will try again", "err", err, "in", backoff.String())
			retry = time.After(backoff)
			backoff = min(2*backoff, reclaimRetry)
			continue
		}
		backoff = first
		s.logger.Debug("reclaimed expunged content", "took", s.clock.Now().Sub(began).String())
	}
}

// expungeBatch is how many messages an expunge-all task expunges per transaction.
const expungeBatch = 500

// purgeData is the data of an application.purge_content task, as Svix words it.
type purgeData struct {
	MessagesPurged int `json:"messagesPurged"`
}

// purgeInput is the input of an application.purge_content task: it expunges the messages
// created before it started (ids below BeforeID), not those sent while it runs.
type purgeInput struct {
	BeforeID string `json:"beforeId"`
}

// ExpungeAllContents starts a task (application.purge_content) that expunges every message
// of the application created so far, as ExpungeMessages does, a batch per transaction; its
// data counts them as messagesPurged.
func (s *Service) ExpungeAllContents(ctx context.Context, appID string) (*hookline.BackgroundTask, error) {
	return s.startTask(ctx, hookline.TaskPurgeContent, appID, purgeInput{BeforeID: hookline.NewID(hookline.PrefixMessage)})
}

func (s *Service) runExpungeAll(ctx context.Context, run *tasks.Run) (any, error) {
	var in purgeInput
	if err := run.Input(&in); err != nil {
		return nil, err
	}
	// A run taken up again continues after the last batch it recorded.
	var done purgeData
	if len(run.Task.Data) > 0 {
		json.Unmarshal(run.Task.Data, &done)
	}
	after := run.Task.Cursor
	for {
		n, last, err := s.store.ExpungeMessagesAfter(ctx, run.Task.AppID, after, in.BeforeID, expungeBatch)
		if err != nil {
			return nil, err
		}
		if last == "" {
			break
		}
		done.MessagesPurged += n
		after = last
		if err := run.Progress(ctx, done, after); err != nil {
			return nil, err
		}
	}
	if err := s.store.ReclaimExpunged(ctx); err != nil {
		return nil, err
	}
	return done, nil
}

// Precheck reports whether a message of this event type on these channels would go to at
// least one enabled endpoint of the application now.
func (s *Service) Precheck(ctx context.Context, appID, eventType string, channels []string) (bool, error) {
	var f fieldErrors
	f.checkIdentifier(eventType, 256, true, "eventType")
	f.checkChannels(channels)
	if err := f.err(); err != nil {
		return false, err
	}
	opts := hookline.ListOptions{Limit: 250}
	for {
		page, err := s.store.ListEndpoints(ctx, appID, opts)
		if err != nil {
			return false, err
		}
		for i := range page.Data {
			if page.Data[i].Accepts(eventType, channels) {
				return true, nil
			}
		}
		if page.Done || len(page.Data) == 0 {
			return false, nil
		}
		opts.Iterator = page.Data[len(page.Data)-1].ID
	}
}
