// Package multinode holds the end-to-end tests of Hookline on PostgreSQL with several
// processes: real `hookline serve` processes of the binary built in TestMain, on a real
// PostgreSQL database (a fresh schema per test, from internal/pgtest), delivering to real
// receivers on loopback ports.
//
// What they prove:
//   - three nodes share one database; one is killed with SIGKILL while posts and deliveries are
//     in flight; every message accepted with a 2xx is delivered to each matching endpoint at
//     least once, none to a filtered-out one, duplicates stay under 1 %, and the work is spread
//     over the nodes (cluster_test.go);
//   - one eventId posted to two nodes at the same moment is stored once (one 202, one 409), and
//     one Idempotency-Key posted to two nodes at once yields one message (idempotency_test.go);
//   - PostgreSQL stopped and started under load: the API answers 503 "unavailable" while it is
//     down and recovers by itself, and no accepted message is lost (restart_test.go, on a
//     private PostgreSQL instance the test starts, so the shared server is never disturbed);
//   - roles: an api node and a worker node split the work, and the worker wakes on new messages
//     through LISTEN/NOTIFY, not by polling (roles_test.go).
//
// The tests run one after another, not in parallel: each starts several processes, and on a
// small machine running them together would measure the machine, not Hookline. Without a
// reachable PostgreSQL they are skipped, except under CI=true, where they fail. Run with
//
//	go test ./e2e/multinode/
package multinode
