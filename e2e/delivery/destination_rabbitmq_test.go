package delivery

import (
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

const rabbitURL = "amqp://guest:guest@127.0.0.1:5672/"

// TestRabbitMQDestination: a publish no queue receives is returned by the broker (mandatory):
// a failed attempt with the broker's answer, retried on the schedule; once the queue exists the
// retry is confirmed, and the queue holds the payload byte for byte with the signature headers
// as AMQP headers, verified with the Standard Webhooks library. A missing exchange is a failed
// attempt naming it.
func TestRabbitMQDestination(t *testing.T) {
	t.Parallel()
	needBroker(t, "RabbitMQ", "127.0.0.1:5672")
	conn, err := amqp.Dial(rabbitURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	queue := uniqueName(t)
	t.Cleanup(func() { ch.QueueDelete(queue, false, false, false) })

	e := start(t, nil)
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep, secret := e.brokerEndpoint(app, map[string]any{"type": "rabbitmq", "url": rabbitURL,
		"options": map[string]string{"routingKey": queue}})
	payload := map[string]any{"order": 1, "note": "café ☕ <b>&</b>", "lines": []any{1.5, "x", nil}}
	msg := e.send(app, "order.paid", payload)

	// No queue yet: the broker returns the message.
	a := e.waitAttempts(app, ep, 1)[0]
	if a.Status != 2 || a.ResponseStatusCode != 0 || !strings.Contains(a.Response, "NO_ROUTE") ||
		a.URL != "amqp://guest:xxxxx@127.0.0.1:5672/" {
		t.Fatalf("attempt %+v; want a failure with the broker's NO_ROUTE answer", a)
	}
	st := e.endpointMsgState(app, ep, msg)
	if st.Status != 1 || st.NextAttempt == nil {
		t.Fatalf("after the returned publish: %+v; want pending with a next attempt", st)
	}
	if _, err := ch.QueueDeclare(queue, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	e.advanceTo(*st.NextAttempt)
	got := e.waitAttempts(app, ep, 2)
	if got[0].Status != 0 || got[0].ResponseStatusCode != 200 || !strings.HasPrefix(got[0].Response, "confirmed by the broker") {
		t.Fatalf("retry %+v; want a success confirmed by the broker", got[0])
	}
	d, ok, err := ch.Get(queue, true)
	if err != nil || !ok {
		t.Fatalf("the queue has no message after a confirmed publish: %v %v", ok, err)
	}
	headers := map[string]string{}
	for k, v := range d.Headers {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("header %s is %T", k, v)
		}
		headers[k] = s
	}
	verifyBrokerMessage(t, secret, msg, "order.paid", payload, d.Body, headers)
	if d.MessageId != msg || d.Type != "order.paid" || d.ContentType != "application/json" || d.DeliveryMode != amqp.Persistent {
		t.Fatalf("properties: message id %q, type %q, content type %q, delivery mode %d", d.MessageId, d.Type, d.ContentType, d.DeliveryMode)
	}
	if _, ok, _ := ch.Get(queue, true); ok {
		t.Fatal("a second message in the queue; want exactly one")
	}

	// An exchange that does not exist: the broker closes the channel, the attempt says why.
	ep2, _ := e.brokerEndpoint(app, map[string]any{"type": "rabbitmq", "url": rabbitURL,
		"options": map[string]string{"exchange": queue + "-missing", "routingKey": "x"}})
	e.send(app, "order.paid", map[string]any{"order": 2})
	a = e.waitAttempts(app, ep2, 1)[0]
	if a.Status != 2 || !strings.Contains(a.Response, "NOT_FOUND") {
		t.Fatalf("attempt %+v; want a failure naming the missing exchange", a)
	}
}
