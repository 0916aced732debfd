package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/hookline/hookline"
)

// Idempotency-Key handling, as Stripe and Svix do it: the first request with a key runs and its
// response is stored; a repeat with the same key and the same request gets that response again,
// marked with Idempotent-Replayed: true; the same key with a different request is refused. The
// claim is a row insert, so it holds across processes sharing a database.

// idempotencyWait is how long a repeat waits for the first request with its key to finish.
const idempotencyWait = 10 * time.Second

// maxIdempotencyKeyLen bounds the header.
const maxIdempotencyKeyLen = 256

func (a *API) serveIdempotent(w http.ResponseWriter, r *http.Request, key string, h handlerFunc) {
	if len(key) > maxIdempotencyKeyLen {
		a.writeError(w, r, fieldError("header", "Idempotency-Key", "value", "must be at most 256 characters"))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			a.writeError(w, r, hookline.Errorf(hookline.EPAYLOADTOOLARGE, "request body is larger than the limit of %d bytes", mbe.Limit))
		} else {
			a.writeError(w, r, hookline.Errorf(hookline.EINVALIDJSON, "could not read the request body"))
		}
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.New()
	sum.Write([]byte(r.Method + " " + r.URL.RequestURI() + "\n"))
	sum.Write(body)
	rec := &hookline.IdempotencyRecord{Scope: idempotencyScope(r), Key: key, RequestHash: hex.EncodeToString(sum.Sum(nil)), CreatedAt: a.svc.Now()}

	deadline := time.Now().Add(idempotencyWait)
	for {
		existing, err := a.store.ClaimIdempotencyKey(r.Context(), rec)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		if existing == nil {
			break // ours: run the request
		}
		if existing.RequestHash != rec.RequestHash {
			a.writeError(w, r, hookline.Errorf(hookline.EIDEMPOTENCY, "this Idempotency-Key was used for a different request"))
			return
		}
		if existing.Completed {
			w.Header().Set("Idempotent-Replayed", "true")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(existing.StatusCode)
			w.Write(existing.Body)
			return
		}
		if time.Now().After(deadline) {
			a.writeError(w, r, hookline.Errorf(hookline.EIDEMPOTENCY, "a request with this Idempotency-Key is still in progress; retry later"))
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}

	rw := &recordingWriter{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		// A panic is a failure of ours: free the key for a retry, then let wrap report it.
		if v := recover(); v != nil {
			if err := a.store.ReleaseIdempotencyKey(context.WithoutCancel(r.Context()), rec.Scope, key); err != nil {
				a.logger.Error("release idempotency key", "err", err)
			}
			panic(v)
		}
	}()
	if err := h(rw, r); err != nil {
		a.writeError(rw, r, err)
	}
	// Store the outcome even if the client went away: the retry it will make needs it.
	ctx := context.WithoutCancel(r.Context())
	if rw.status >= 500 || rw.status == http.StatusTooManyRequests {
		// Failures of ours may succeed when retried: let the key be used again.
		if err := a.store.ReleaseIdempotencyKey(ctx, rec.Scope, key); err != nil {
			a.logger.Error("release idempotency key", "err", err)
		}
		return
	}
	if err := a.store.CompleteIdempotencyKey(ctx, rec.Scope, key, rw.status, rw.body.Bytes()); err != nil {
		a.logger.Error("store idempotent response", "err", err)
	}
}

// recordingWriter passes a response through and keeps a copy of it.
type recordingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recordingWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}
