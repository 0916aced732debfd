// Package hostile holds end-to-end tests of Hookline against what an attacker controls or reads: real
// `hookline serve` processes of the binary built in TestMain, on SQLite, delivering to
// receivers on loopback that answer with what no honest receiver sends.
//
// What they prove:
//   - receivers that answer with 12 MB of headers cannot make the server's memory grow: its
//     peak resident set, read from /proc, stays under 150 MiB while 8 such endpoints get 30
//     messages each, and every attempt says "response headers exceeded N bytes"
//     (memory_test.go);
//   - an endpoint's Authorization and X-Api-Key headers reach the receiver, while no file of
//     the data directory holds their values in clear (credentials_test.go);
//   - the data directory is created 0700 and the database, its WAL and shared-memory files and
//     the main key 0600, whatever the umask (files_test.go).
//
// Run with
//
//	go test ./e2e/hostile/
package hostile
