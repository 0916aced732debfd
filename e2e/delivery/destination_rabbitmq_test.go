package delivery

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
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

	// An exchange that does not exist: the broker closes the channel, the attempt says why and
	// is retried; once the exchange exists (bound to the queue), the retry is confirmed.
	exchange := queue + "-exchange"
	ep2, _ := e.brokerEndpoint(app, map[string]any{"type": "rabbitmq", "url": rabbitURL,
		"options": map[string]string{"exchange": exchange, "routingKey": "x"}})
	msg2 := e.send(app, "order.paid", map[string]any{"order": 2})
	a = e.waitAttempts(app, ep2, 1)[0]
	if a.Status != 2 || a.ResponseStatusCode != 0 || !strings.Contains(a.Response, "NOT_FOUND - no exchange '"+exchange+"'") {
		t.Fatalf("attempt %+v; want a failure naming the missing exchange", a)
	}
	st = e.endpointMsgState(app, ep2, msg2)
	if st.Status != 1 || st.NextAttempt == nil {
		t.Fatalf("after the refused publish: %+v; want pending with a next attempt", st)
	}
	if err := ch.ExchangeDeclare(exchange, "direct", false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(queue, "x", exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	e.advanceTo(*st.NextAttempt)
	got = e.waitAttempts(app, ep2, 2)
	if got[0].Status != 0 || got[0].MsgID != msg2 || !strings.HasPrefix(got[0].Response, "confirmed by the broker") {
		t.Fatalf("retry %+v; want a success confirmed by the broker", got[0])
	}
	if d, ok, err := ch.Get(queue, true); err != nil || !ok || d.MessageId != msg2 {
		t.Fatalf("the queue after the retry: %v %v; want the message %s", ok, err, msg2)
	}
}

// rabbitBroker runs a RabbitMQ node of the test's own (never the machine's shared one): its
// own node name, AMQP and distribution ports, configuration, no plugins, and its database and
// logs under its directory. It takes several seconds to start.
func rabbitBroker(t *testing.T) *privateBroker {
	t.Helper()
	return startPrivateBroker(t, brokerSpec{name: "RabbitMQ", ports: 2,
		// The server script itself: Debian's rabbitmq-server in PATH is a wrapper that runs it
		// as the user rabbitmq, who cannot write the test's directory.
		binaries: []string{"/usr/lib/rabbitmq/bin/rabbitmq-server", "rabbitmq-server"},
		command: func(b *privateBroker) ([]string, []string) {
			conf := filepath.Join(b.Dir, "rabbitmq.conf")
			files := map[string]string{
				conf:                                    fmt.Sprintf("listeners.tcp.default = %s\ndisk_free_limit.absolute = 1MB\n", b.Addr),
				filepath.Join(b.Dir, "enabled_plugins"): "[].\n",
				filepath.Join(b.Dir, "rabbitmq-env.conf"): "", // not the machine's /etc/rabbitmq one
			}
			for path, content := range files {
				if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
					b.t.Fatal(err)
				}
			}
			return nil, []string{
				"HOME=" + b.Dir, // the Erlang cookie
				"RABBITMQ_CONF_ENV_FILE=" + filepath.Join(b.Dir, "rabbitmq-env.conf"),
				"RABBITMQ_CONFIG_FILE=" + conf,
				"RABBITMQ_ENABLED_PLUGINS_FILE=" + filepath.Join(b.Dir, "enabled_plugins"),
				"RABBITMQ_NODENAME=" + fmt.Sprintf("hookline-test-%d@localhost", b.Ports[0]),
				"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
				"RABBITMQ_NODE_PORT=" + strconv.Itoa(b.Ports[0]),
				"RABBITMQ_DIST_PORT=" + strconv.Itoa(b.Ports[1]),
				"RABBITMQ_MNESIA_BASE=" + filepath.Join(b.Dir, "mnesia"),
				"RABBITMQ_LOG_BASE=" + filepath.Join(b.Dir, "log"),
				"RABBITMQ_PLUGINS_EXPAND_DIR=" + filepath.Join(b.Dir, "plugins"),
				"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}",
				"ERL_EPMD_ADDRESS=127.0.0.1",
			}
		},
		ready: func(b *privateBroker) error { // the AMQP listener opens once the node has booted
			conn, err := amqp.Dial("amqp://guest:guest@" + b.Addr + "/")
			if err == nil {
				conn.Close()
			}
			return err
		}})
}

// TestRabbitMQRestartUnderLoad: the RabbitMQ destination's broker is stopped and started again
// while messages keep coming, and loses none it confirmed (see restartUnderLoad). The queue is
// durable and the messages persistent, so the broker confirms a message once it is on disk;
// the consumer reads the queue after the restart.
func TestRabbitMQRestartUnderLoad(t *testing.T) {
	t.Parallel()
	b := rabbitBroker(t)
	url := "amqp://guest:guest@" + b.Addr + "/"
	queue := uniqueName(t)
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	got := map[string]bool{}
	atts := restartUnderLoad(t, b, map[string]any{"type": "rabbitmq", "url": url,
		"options": map[string]string{"routingKey": queue}}, func() (map[string]bool, error) {
		conn, err := amqp.Dial(url)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			return nil, err
		}
		for {
			d, ok, err := ch.Get(queue, true)
			if err != nil || !ok {
				return maps.Clone(got), err
			}
			got[d.MessageId] = true
		}
	})
	noTimeouts(t, atts)
}
