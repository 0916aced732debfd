// Package delivery holds the end-to-end tests of Hookline's delivery engine. They run a real
// server (in-process through internal/testserver, or the built hookline binary) on a real
// SQLite file, and real receivers on loopback ports, and check what arrives where and what the
// API then reports about it.
//
// What they prove:
//   - retries follow the schedule with its jitter, Retry-After and the harder back-off after 429s
//     and timeouts; exhaustion, 410 Gone, refused connections, redirects and response-size cuts
//     (retry_test.go), with time moved by an injected clock (internal/clocktest) instead of
//     waited for;
//   - automatic deactivation by the configured rule, the operational webhooks about it, and
//     re-enabling and recovery (deactivation_test.go);
//   - resend, send-example, recover and the attempt routes, through the official Svix Go SDK
//     (attempts_test.go);
//   - a hanging endpoint does not slow down a healthy one, and rate limits hold at the
//     receiver (isolation_test.go);
//   - an expunged message's payload and its attempts' response bodies are gone from the API,
//     the dashboard and the database's files (SQLite and PostgreSQL), its retries end without a
//     request, and expunge-all works as a background task (expunge_test.go);
//   - every message accepted with a 2xx is delivered after the process is killed mid-stream
//     (crash_test.go), and a graceful shutdown finishes and records the attempt in flight
//     (shutdown_test.go).
//
// No test sleeps to wait for work: each waits on a signal from a receiver or polls with a
// deadline. The package has no non-test code besides this comment. Run it with
//
//	go test ./e2e/delivery/
package delivery
