// Package signing holds Hookline's end-to-end tests of what a receiver sees on the wire: a real
// server (internal/testserver) delivers to real HTTP receivers on loopback, and the tests check
// each delivery the way a platform's customers would.
//
// They prove that the default Standard Webhooks signature verifies with the official Standard
// Webhooks Go library and with Hookline's own signature package, and that the body is the
// payload byte for byte (standard_test.go); that the svix profile verifies with the Svix Go SDK
// and each hex preset carries exactly the HMAC its platform documents (profiles_test.go); that a
// rotated secret signs next to the new one for the grace period and not after
// (rotation_test.go); and that outside dev mode no delivery reaches a loopback, private or
// metadata address, not even through a public-looking name that resolves to one, unless the
// operator allows the network (egress_test.go).
//
// The package has no non-test code besides this comment. Run it with
//
//	go test ./e2e/signing/
package signing
