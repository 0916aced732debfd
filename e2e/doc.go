// Package e2e holds Hookline's end-to-end tests. They drive the whole program from outside,
// the way a platform does: a real server (started in-process by internal/testserver, or as the
// built hookline binary) on a real SQLite file, over real HTTP on a loopback port. Nothing is
// mocked.
//
// The tests prove the core promises: the official Svix Go SDK works against Hookline unchanged
// (svix_sdk_test.go), and so does the newest Svix JavaScript SDK on Node.js, through every route
// the server serves (svixjs_sdk_test.go runs the tests in svixjs/ and checks every answer against
// Svix's own API document); docs/api.md names every operation of that document as served or not
// (svixdoc_test.go); one application's token never sees or changes another application's data
// (tenancy_test.go); bad requests get the documented status and error code and store nothing
// (badinput_test.go); and everything survives a restart of the binary (restart_test.go).
//
// The package has no non-test code besides this comment. Run it with
//
//	go test ./e2e/
package e2e
