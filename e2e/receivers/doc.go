// Package receivers holds the end-to-end tests of endpoints' receiver settings: a client
// certificate for mutual TLS, a server CA for receivers on a private CA, and an OAuth 2.0
// client whose access token deliveries carry. Each runs a real Hookline server
// (internal/testserver, in dev mode so loopback receivers are allowed) on a real SQLite file,
// real TLS receivers (crypto/tls, certificates made in the test with crypto/x509) and a real
// OAuth 2.0 token server on loopback, and checks what arrives, what the attempt log says, what
// the API answers and what the database file holds. Run it with
//
//	go test ./e2e/receivers/
package receivers
