package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline"
)

// disabledReason is why an endpoint was turned off, in words, with the time a failing streak
// began when the rule that turned it off names one.
type disabledReason struct {
	Text  string
	Since time.Time
}

// reasonOf turns a stored DisabledReason into a sentence for people. The delivery engine
// stores "automatic: N consecutive failed attempts since <RFC 3339 time>" or "the endpoint
// answered 410 Gone"; anything else is shown as it is, capitalised.
func reasonOf(stored string) disabledReason {
	var n int
	var since string
	if _, err := fmt.Sscanf(stored, "automatic: %d consecutive failed attempts since %s", &n, &since); err == nil {
		r := disabledReason{Text: fmt.Sprintf("It failed %d delivery attempts in a row", n)}
		if t, err := time.Parse(time.RFC3339, since); err == nil {
			r.Since = t
		}
		return r
	}
	switch stored {
	case "", "manual":
		return disabledReason{Text: "It was turned off by hand"}
	case "the endpoint answered 410 Gone":
		return disabledReason{Text: "It answered 410 Gone, which says the receiver no longer exists"}
	}
	return disabledReason{Text: capitalize(strings.TrimPrefix(stored, "automatic: "))}
}

// fieldLabels name form fields the way their labels do, for messages that begin with the
// field's name ("url must use https" reads "The URL must use https").
var fieldLabels = map[string]string{"url": "The URL", "uid": "The UID", "description": "The name", "rateLimit": "The rate limit",
	"channels": "Channels", "filterTypes": "Events", "secret": "The secret", "name": "The name", "schema": "The schema"}

// fieldMessage makes a validation message of the service read well next to its field.
func fieldMessage(field, msg string) string {
	label, ok := fieldLabels[field]
	if !ok {
		return capitalize(msg)
	}
	lower := strings.ToLower(field)
	for _, p := range []string{lower + " scheme ", lower + " host ", lower + " "} {
		if rest, found := strings.CutPrefix(msg, p); found {
			if p == lower+" " {
				return label + " " + rest
			}
			return label + "'s " + strings.TrimSpace(p[len(lower):]) + " " + rest
		}
	}
	return capitalize(msg)
}

// statusWord says where a message stands at an endpoint (a delivery's status).
func statusWord(s hookline.MessageStatus) string {
	switch s {
	case hookline.StatusSuccess:
		return "Delivered"
	case hookline.StatusFail:
		return "Failed"
	case hookline.StatusPending:
		return "Pending"
	case hookline.StatusSending:
		return "Sending"
	case hookline.StatusCanceled:
		return "Canceled"
	}
	return "Unknown"
}

// attemptWord says how one attempt went.
func attemptWord(s hookline.MessageStatus) string {
	switch s {
	case hookline.StatusSuccess:
		return "Delivered"
	case hookline.StatusFail:
		return "Failed"
	case hookline.StatusPending:
		return "Pending"
	case hookline.StatusSending:
		return "Sending"
	}
	return "Unknown"
}

// attemptStatusFilters are the choices of the attempt status filter: query value and words.
// An attempt either delivered the message or failed (a retry may follow; the message log
// shows which deliveries are still pending).
var attemptStatusFilters = []struct{ Value, Label string }{
	{"success", attemptWord(hookline.StatusSuccess)},
	{"failed", attemptWord(hookline.StatusFail)},
}

// codeText is an HTTP response code with its reason phrase: "503 Service Unavailable".
func codeText(code int) string {
	if text := http.StatusText(code); text != "" {
		return strconv.Itoa(code) + " " + text
	}
	return strconv.Itoa(code)
}
