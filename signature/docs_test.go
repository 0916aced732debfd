package signature_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/signature"
)

// docExample is one example request in docs/signatures.md. The test signs it again and checks
// that the document shows exactly these bytes, so the published examples cannot drift from
// what Hookline sends.
type docExample struct {
	preset    string
	path      string
	msgID     string
	unix      int64
	eventType string
	body      string
	secrets   []string
}

var docExamples = []docExample{
	{"standard", "/webhooks/hookline", "msg_2xJ8kQz1Lm4N", 1781273100, "order.paid",
		`{"type":"order.paid","data":{"orderId":"ord_9f8e7d6c"}}`, []string{secretA}},
	{"standard", "/webhooks/hookline", "msg_2xJ8kQz1Lm4N", 1781273100, "order.paid",
		`{"type":"order.paid","data":{"orderId":"ord_9f8e7d6c"}}`, []string{secretB, secretA}},
	{"usetix", "/webhooks/usetix", "msg_2xJ8kQz1Lm4N", 1774535400, "order.paid",
		`{"action":"order.paid","created_at":"2026-03-26T14:30:00Z","eventable":{"id":"abc123def456","type":"Order","status":"paid"}}`, []string{secretA}},
	{"cleartix", "/webhooks/cleartix", "msg_2xJ8kQz1Lm4N", 1781273100, "ticket.sold",
		`{"id":"evt_3f9a2b7c1d4e5f60","event":"ticket.sold","created_at":"2026-06-12T14:05:00.000Z","organization_id":"org_abc123","data":{"orderId":"ord_9f8e7d6c","ticketCount":2,"totalAmount":"50.00"}}`, []string{secretA}},
	{"cleartix", "/webhooks/cleartix", "msg_2xJ8kQz1Lm4N", 1781273100, "ticket.sold",
		`{"id":"evt_3f9a2b7c1d4e5f60","event":"ticket.sold","created_at":"2026-06-12T14:05:00.000Z","organization_id":"org_abc123","data":{"orderId":"ord_9f8e7d6c","ticketCount":2,"totalAmount":"50.00"}}`, []string{secretB, secretA}},
	{"allfly", "/webhooks/allfly", "msg_2wK3pZ8Q1nR4tY6uV9xA0bC5dE7", 1781273100, "event_attendee.joined_event",
		`{"type":"event_attendee.joined_event","data":{"attendee_id":"att_5e6f7a8b","event_id":"ev_1a2b3c4d"}}`, []string{secretA}},
	{"showpass", "/api/showpass-webhook", "msg_2xJ8kQz1Lm4N", 1781273100, "invoice.purchase",
		`{"event_type":"invoice.purchase","invoice":{"id":48213,"total":"45.00","currency":"CAD"}}`, []string{secretA}},
}

// request renders the example as the HTTP/1.1 request the doc shows, signature headers in the
// profile's order and spelling.
func (e docExample) request(t *testing.T) string {
	t.Helper()
	p, ok := signature.Preset(e.preset)
	if !ok {
		t.Fatalf("no preset %q", e.preset)
	}
	h := http.Header{}
	if err := p.Sign(h, e.msgID, time.Unix(e.unix, 0), e.eventType, []byte(e.body), e.secrets); err != nil {
		t.Fatal(err)
	}
	var names []string
	if p.Kind == signature.KindStandard {
		prefix := p.HeaderPrefix
		if prefix == "" {
			prefix = signature.DefaultHeaderPrefix
		}
		names = []string{prefix + "-id", prefix + "-timestamp", prefix + "-signature"}
	} else {
		names = []string{p.IDHeader, p.TimestampHeader, p.SignatureHeader}
	}
	names = append(names, p.EventTypeHeader)
	var b strings.Builder
	b.WriteString("POST " + e.path + " HTTP/1.1\nHost: receiver.example\nContent-Type: application/json\n")
	for _, n := range names {
		if v := h.Get(n); n != "" && v != "" {
			b.WriteString(n + ": " + v + "\n")
		}
	}
	b.WriteString("\n" + e.body + "\n")
	return b.String()
}

func TestDocExamples(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../docs/signatures.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, e := range docExamples {
		req := e.request(t)
		if !strings.Contains(doc, "```http\n"+req+"```\n") {
			t.Errorf("docs/signatures.md lacks the %s example (%d secrets):\n```http\n%s```", e.preset, len(e.secrets), req)
		}
		p, _ := signature.Preset(e.preset)
		if err := signature.Verify(p, header(t, req), []byte(e.body), e.secrets[len(e.secrets)-1:], time.Unix(e.unix, 0), 0); err != nil {
			t.Errorf("%s example does not verify: %v", e.preset, err)
		}
	}
	for _, name := range signature.PresetNames() {
		p, _ := signature.Preset(name)
		b, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(doc, "```json\n"+string(b)+"\n```\n") {
			t.Errorf("docs/signatures.md lacks the %s profile:\n```json\n%s\n```", name, b)
		}
	}
}

// header parses the header lines of a rendered example back, so the check above verifies the
// text a reader copies, not the map it came from.
func header(t *testing.T, req string) http.Header {
	t.Helper()
	h := http.Header{}
	head, _, _ := strings.Cut(req, "\n\n")
	for _, line := range strings.Split(head, "\n")[1:] {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("bad header line %q", line)
		}
		h.Add(k, v)
	}
	return h
}
