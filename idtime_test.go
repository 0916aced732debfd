package hookline

import (
	"testing"
	"time"
)

func TestIDTimeInvertsFirstIDAt(t *testing.T) {
	at := time.Date(2026, 12, 6, 13, 4, 5, 678_000_000, time.UTC)
	for _, id := range []string{FirstIDAt(PrefixMessage, at), NewID(PrefixMessage)} {
		got, ok := IDTime(PrefixMessage, id)
		if !ok {
			t.Fatalf("IDTime(%q) not ok", id)
		}
		if id == FirstIDAt(PrefixMessage, at) && !got.Equal(at) {
			t.Errorf("IDTime(%q) = %v, want %v", id, got, at)
		}
		if d := time.Since(got); id != FirstIDAt(PrefixMessage, at) && (d < 0 || d > time.Minute) {
			t.Errorf("IDTime of a new id = %v, %v ago", got, d)
		}
	}
	for _, bad := range []string{"msg_1", "atmpt_" + FirstIDAt("", at), "msg_" + "zzzzzzzzzzzzzzzzzzzzzz"} {
		if _, ok := IDTime(PrefixMessage, bad); ok {
			t.Errorf("IDTime(%q) ok, want not", bad)
		}
	}
}
