package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/i18n"
)

// disabledReason is why an endpoint was turned off, in words, with the time a failing streak
// began when the rule that turned it off names one.
type disabledReason struct {
	Text  string
	Since time.Time
}

// reasonOf turns a stored DisabledReason into a sentence for people, in p's language. The
// delivery engine stores "automatic: N consecutive failed attempts since <RFC 3339 time>" or
// "the endpoint answered 410 Gone"; anything else is shown as it is, capitalised.
func reasonOf(p *i18n.Printer, stored string) disabledReason {
	var n int
	var since string
	if _, err := fmt.Sscanf(stored, "automatic: %d consecutive failed attempts since %s", &n, &since); err == nil {
		r := disabledReason{Text: p.T("reason.failedInARow", "count", n)}
		if t, err := time.Parse(time.RFC3339, since); err == nil {
			r.Since = t
		}
		return r
	}
	switch stored {
	case "", "manual":
		return disabledReason{Text: p.T("reason.manual")}
	case "the endpoint answered 410 Gone":
		return disabledReason{Text: p.T("reason.gone")}
	}
	return disabledReason{Text: capitalize(strings.TrimPrefix(stored, "automatic: "))}
}

// fieldLabels name form fields the way their labels do (message ids), for messages that
// begin with the field's name ("url must use https" reads "The URL must use https").
var fieldLabels = map[string]string{"url": "field.url", "uid": "field.uid", "description": "field.name", "rateLimit": "field.rateLimit",
	"channels": "field.channels", "filterTypes": "field.filterTypes", "secret": "field.secret", "name": "field.name", "schema": "field.schema"}

// fieldMessage makes a validation message of the service read well next to its field. The
// service's messages are English, so only an English page rewrites their start; other
// languages show them as they are rather than half in one language and half in another.
func fieldMessage(p *i18n.Printer, field, msg string) string {
	id, ok := fieldLabels[field]
	if !ok || p.Lang() != "en" {
		return capitalize(msg)
	}
	label := p.T(id)
	lower := strings.ToLower(field)
	for _, pre := range []string{lower + " scheme ", lower + " host ", lower + " "} {
		if rest, found := strings.CutPrefix(msg, pre); found {
			if pre == lower+" " {
				return label + " " + rest
			}
			return p.T("field.part", "field", label, "part", strings.TrimSpace(pre[len(lower):])) + " " + rest
		}
	}
	return capitalize(msg)
}

// statusWord says where a message stands at an endpoint (a delivery's status).
func statusWord(p *i18n.Printer, s hookline.MessageStatus) string {
	switch s {
	case hookline.StatusSuccess:
		return p.T("status.delivered")
	case hookline.StatusFail:
		return p.T("status.failed")
	case hookline.StatusPending:
		return p.T("status.pending")
	case hookline.StatusSending:
		return p.T("status.sending")
	case hookline.StatusCanceled:
		return p.T("status.canceled")
	}
	return p.T("status.unknown")
}

// attemptWord says how one attempt went.
func attemptWord(p *i18n.Printer, s hookline.MessageStatus) string {
	if s == hookline.StatusCanceled {
		return p.T("status.unknown")
	}
	return statusWord(p, s)
}

// attemptStatusFilters are the choices of the attempt status filter: query value and words.
// An attempt either delivered the message or failed (a retry may follow; the message log
// shows which deliveries are still pending).
func attemptStatusFilters(p *i18n.Printer) []choice {
	return []choice{{"success", attemptWord(p, hookline.StatusSuccess)}, {"failed", attemptWord(p, hookline.StatusFail)}}
}

// deliveryStatusFilters are the choices of the message log's status filter: a message is
// listed when one of its deliveries has the status.
func deliveryStatusFilters(p *i18n.Printer) []choice {
	var out []choice
	for _, s := range []hookline.MessageStatus{hookline.StatusSuccess, hookline.StatusFail, hookline.StatusPending,
		hookline.StatusSending, hookline.StatusCanceled} {
		out = append(out, choice{statusName(s), statusWord(p, s)})
	}
	return out
}

// choice is an option of a select: its value and its words.
type choice struct{ Value, Label string }

// codeText is an HTTP response code with its reason phrase: "503 Service Unavailable". The
// reason phrases are HTTP's own, in English in every language, as receivers' logs show them.
func codeText(code int) string {
	if text := http.StatusText(code); text != "" {
		return strconv.Itoa(code) + " " + text
	}
	return strconv.Itoa(code)
}
