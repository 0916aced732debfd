package hookline

import "time"

// Clock tells the time. Everything that schedules or stamps work takes one, so tests can move
// time forward instead of sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// SecretBox seals secrets (endpoint signing secrets) for storage and opens them again. The
// secrets package implements it with AES-256-GCM under the configured main key.
type SecretBox interface {
	Seal(plaintext []byte) (string, error)
	Open(sealed string) ([]byte, error)
}
