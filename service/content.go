package service

import (
	"context"
	"fmt"

	"github.com/hookline/hookline"
)

// ExpungeMessages removes the payloads of the application's messages named by id or eventId,
// and the response bodies of their attempts, from the database's files (see
// hookline.ContentStore). It returns, for each name, whether a message was found. Pending
// retries of those messages end: nothing more is delivered.
func (s *Service) ExpungeMessages(ctx context.Context, appID string, idsOrEventIDs []string) (map[string]bool, error) {
	found, err := s.store.ExpungeMessages(ctx, appID, idsOrEventIDs)
	if err != nil {
		return nil, err
	}
	if err := s.store.ReclaimExpunged(ctx); err != nil {
		return nil, err
	}
	return found, nil
}

// ExpungeAttempt removes one attempt's response body from the database's files.
func (s *Service) ExpungeAttempt(ctx context.Context, appID, attemptID string) error {
	if err := s.store.ExpungeAttempt(ctx, appID, attemptID); err != nil {
		return err
	}
	return s.store.ReclaimExpunged(ctx)
}

// expungeBatch is how many messages ExpungeAllContents expunges per transaction.
const expungeBatch = 500

// ExpungeAllContents expunges every message of the application created so far, in id order
// from after afterID (a cursor; "" to start), a batch per transaction. After each batch it
// calls progress with the number expunged so far and the cursor to resume from; an error from
// progress stops the run. It returns how many messages it expunged.
func (s *Service) ExpungeAllContents(ctx context.Context, appID, afterID string, progress func(n int, cursor string) error) (int, error) {
	total := 0
	for {
		n, last, err := s.store.ExpungeMessagesAfter(ctx, appID, afterID, expungeBatch)
		if err != nil {
			return total, err
		}
		total += n
		if last == "" {
			break
		}
		afterID = last
		if progress != nil {
			if err := progress(total, afterID); err != nil {
				return total, err
			}
		}
	}
	return total, s.store.ReclaimExpunged(ctx)
}

// Precheck reports whether a message of this event type on these channels would go to at
// least one enabled endpoint of the application now.
func (s *Service) Precheck(ctx context.Context, appID, eventType string, channels []string) (bool, error) {
	var f fieldErrors
	f.checkIdentifier(eventType, 256, true, "eventType")
	for i, c := range channels {
		f.checkIdentifier(c, 128, true, "channels", fmt.Sprint(i))
	}
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
