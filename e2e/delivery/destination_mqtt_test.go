package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

const mqttAddr = "127.0.0.1:1883"

// TestMQTTDestination: a message is published at QoS 1 and acknowledged (PUBACK); a subscriber
// receives the payload byte for byte with the signature headers as MQTT 5 user properties,
// verified with the Standard Webhooks library.
func TestMQTTDestination(t *testing.T) {
	t.Parallel()
	needBroker(t, "Mosquitto", mqttAddr)
	topic := "hookline/test/" + uniqueName(t)
	received := subscribeMQTT(t, topic)

	e := start(t, nil)
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep, secret := e.brokerEndpoint(app, map[string]any{"type": "mqtt", "url": "mqtt://" + mqttAddr,
		"options": map[string]string{"topic": topic}})
	payload := map[string]any{"order": 1, "note": "café ☕ <b>&</b>", "lines": []any{1.5, "x", nil}}
	msg := e.send(app, "order.paid", payload)

	a := e.waitAttempts(app, ep, 1)[0]
	if a.Status != 0 || a.ResponseStatusCode != 200 || !strings.HasPrefix(a.Response, "PUBACK from the broker") {
		t.Fatalf("attempt %+v; want a success acknowledged by PUBACK", a)
	}
	var p *paho.Publish
	select {
	case p = <-received:
	case <-time.After(10 * time.Second):
		t.Fatal("the subscriber received nothing")
	}
	headers := map[string]string{}
	for _, u := range p.Properties.User {
		headers[u.Key] = u.Value
	}
	verifyBrokerMessage(t, secret, msg, "order.paid", payload, p.Payload, headers)
	if p.Properties.ContentType != "application/json" {
		t.Fatalf("content type %q", p.Properties.ContentType)
	}
}

// subscribeMQTT subscribes at QoS 1 to topic on the machine's Mosquitto, for the test's
// duration, and returns what arrives.
func subscribeMQTT(t *testing.T, topic string) <-chan *paho.Publish {
	t.Helper()
	received := make(chan *paho.Publish, 10)
	conn, err := net.Dial("tcp", mqttAddr)
	if err != nil {
		t.Fatal(err)
	}
	sub := paho.NewClient(paho.ClientConfig{Conn: conn, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(pr paho.PublishReceived) (bool, error) { received <- pr.Packet; return true, nil },
	}})
	ctx := context.Background()
	if _, err := sub.Connect(ctx, &paho.Connect{ClientID: uniqueName(t), CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Disconnect(&paho.Disconnect{}) })
	if _, err := sub.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: topic, QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	return received
}

// mosquittoBroker runs a Mosquitto of the test's own (never the machine's shared one) on a free
// port, with persistence: on a stop it writes its sessions and their queued messages to its
// directory, and reads them back on the next start. b.Conf (set by configure) is added to its
// configuration file at each start.
func mosquittoBroker(t *testing.T, configure ...func(*privateBroker)) *privateBroker {
	t.Helper()
	return startPrivateBroker(t, brokerSpec{name: "Mosquitto", binaries: []string{"mosquitto", "/usr/sbin/mosquitto"},
		command: func(b *privateBroker) ([]string, []string) {
			path := filepath.Join(b.Dir, "mosquitto.conf")
			// user root: as root, Mosquitto would otherwise run as the user mosquitto, which
			// cannot write the test's directory.
			conf := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location %s/\n"+
				"user root\nlog_dest stderr\n%s", b.Ports[0], b.Dir, b.Conf)
			if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
				b.t.Fatal(err)
			}
			return []string{"-c", path}, nil
		}}, configure...)
}

// mqttSubscriber is a consumer with a persistent session (an hour's session expiry): the broker
// keeps its subscription and queues the QoS 1 messages of its topic while it is away, and
// hands them over when it connects again. It counts the messages by webhook-id.
type mqttSubscriber struct {
	addr, clientID, topic string

	mu     sync.Mutex
	got    map[string]bool
	client *paho.Client
}

// connect connects the subscriber and, the first time, subscribes at QoS 1. It never asks for
// a clean start, not even the first time: Mosquitto 2.0.11 did not keep across its restart a
// session begun with one (its subscription was gone).
func (s *mqttSubscriber) connect(ctx context.Context, subscribe bool) error {
	conn, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		return err
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(pr paho.PublishReceived) (bool, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, u := range pr.Packet.Properties.User {
				if u.Key == "webhook-id" {
					s.got[u.Value] = true
				}
			}
			return true, nil
		},
	}})
	expiry := uint32(3600)
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: s.clientID, CleanStart: false, KeepAlive: 30,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: &expiry}}); err != nil {
		conn.Close()
		return err
	}
	if subscribe {
		if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: s.topic, QoS: 1}}}); err != nil {
			c.Disconnect(&paho.Disconnect{})
			return err
		}
	}
	s.client = c
	return nil
}

// received answers the webhook-ids received so far, connecting first when it is away.
func (s *mqttSubscriber) received() (map[string]bool, error) {
	if s.client == nil {
		if err := s.connect(context.Background(), false); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.got), nil
}

// TestMQTTRestartUnderLoad: the MQTT destination's broker is stopped and started again while
// messages keep coming, and loses none it acknowledged (see restartUnderLoad). The consumer
// is a persistent session subscribed at QoS 1 before the first message and away meanwhile:
// the broker queues every message it acknowledges for it, keeps the queue across its restart,
// and hands the messages over when the consumer connects again at the end.
func TestMQTTRestartUnderLoad(t *testing.T) {
	t.Parallel()
	b := mosquittoBroker(t)
	topic := "hookline/test/" + uniqueName(t)
	sub := &mqttSubscriber{addr: b.Addr, clientID: uniqueName(t), topic: topic, got: map[string]bool{}}
	if err := sub.connect(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if err := sub.client.Disconnect(&paho.Disconnect{}); err != nil { // the session stays
		t.Fatal(err)
	}
	sub.client = nil
	t.Cleanup(func() {
		if sub.client != nil {
			sub.client.Disconnect(&paho.Disconnect{})
		}
	})
	atts := restartUnderLoad(t, b, map[string]any{"type": "mqtt", "url": "mqtt://" + b.Addr,
		"options": map[string]string{"topic": topic}}, sub.received)
	noTimeouts(t, atts)
}

// TestMQTTRefusedPublish: the broker refuses the publish (Mosquitto's access list denies the
// topic: PUBACK with reason code 135, not authorized): a failed attempt whose response names the
// code, retried on the schedule; once the broker allows the topic, the retry is acknowledged
// and the message arrives. It runs a Mosquitto of its own.
func TestMQTTRefusedPublish(t *testing.T) {
	t.Parallel()
	topic := "hookline/test/" + uniqueName(t)
	var acl string
	setACL := func(rule string) {
		if err := os.WriteFile(acl, []byte(rule+" "+topic+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b := mosquittoBroker(t, func(b *privateBroker) {
		acl = filepath.Join(b.Dir, "acl")
		b.Conf = "acl_file " + acl + "\n"
		setACL("topic read") // anonymous clients may subscribe, not publish
	})
	e := start(t, nil)
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep, _ := e.brokerEndpoint(app, map[string]any{"type": "mqtt", "url": "mqtt://" + b.Addr,
		"options": map[string]string{"topic": topic}})
	msg := e.send(app, "order.paid", map[string]any{"order": 1})
	a := e.waitAttempts(app, ep, 1)[0]
	if a.Status != 2 || a.ResponseStatusCode != 0 || a.MsgID != msg ||
		a.Response != "the broker refused the message: PUBACK reason code 135 (not authorized)" {
		t.Fatalf("attempt %+v; want a failure with the broker's reason code 135", a)
	}
	st := e.endpointMsgState(app, ep, msg)
	if st.Status != 1 || st.NextAttempt == nil {
		t.Fatalf("after the refused publish: %+v; want pending with a next attempt", st)
	}

	setACL("topic readwrite")
	b.Stop()
	b.Start()
	sub := &mqttSubscriber{addr: b.Addr, clientID: uniqueName(t), topic: topic, got: map[string]bool{}}
	if err := sub.connect(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.client.Disconnect(&paho.Disconnect{}) })
	e.advanceTo(*st.NextAttempt)
	got := e.waitAttempts(app, ep, 2)
	if got[0].Status != 0 || got[0].MsgID != msg || got[0].ResponseStatusCode != 200 ||
		!strings.HasPrefix(got[0].Response, "PUBACK from the broker") {
		t.Fatalf("retry %+v; want a success acknowledged by PUBACK", got[0])
	}
	pollUntil(t, 10*time.Second, "the subscriber to receive the message", func() bool {
		ids, _ := sub.received()
		return ids[msg]
	})
}

// TestMQTT311Destination: with the option version "3.1.1", Hookline publishes over MQTT 3.1.1
// (for brokers without MQTT 5) at QoS 1 and the attempt succeeds on the broker's PUBACK; the
// message is the payload byte for byte and nothing else (3.1.1 has no properties).
func TestMQTT311Destination(t *testing.T) {
	t.Parallel()
	needBroker(t, "Mosquitto", mqttAddr)
	topic := "hookline/test/" + uniqueName(t)
	received := subscribeMQTT(t, topic)

	e := start(t, nil)
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep, _ := e.brokerEndpoint(app, map[string]any{"type": "mqtt", "url": "mqtt://" + mqttAddr,
		"options": map[string]string{"topic": topic, "version": "3.1.1"}})
	payload := map[string]any{"order": 1, "note": "café ☕ <b>&</b>"}
	e.send(app, "order.paid", payload)

	a := e.waitAttempts(app, ep, 1)[0]
	if a.Status != 0 || a.ResponseStatusCode != 200 || !strings.HasPrefix(a.Response, "PUBACK from the broker (MQTT 3.1.1") {
		t.Fatalf("attempt %+v; want a success acknowledged by an MQTT 3.1.1 PUBACK", a)
	}
	var p *paho.Publish
	select {
	case p = <-received:
	case <-time.After(10 * time.Second):
		t.Fatal("the subscriber received nothing")
	}
	want, _ := json.Marshal(payload)
	if string(p.Payload) != string(want) {
		t.Fatalf("body %q, want the payload %q", p.Payload, want)
	}
	if p.Properties != nil && len(p.Properties.User) > 0 {
		t.Fatalf("an MQTT 3.1.1 publish arrived with user properties %v", p.Properties.User)
	}

	// A bad version is refused, naming the option.
	r := e.Do("PUT", "/api/v1/app/"+app+"/endpoint/"+ep+"/destination", e.Token, map[string]any{"type": "mqtt",
		"url": "mqtt://" + mqttAddr, "options": map[string]string{"topic": topic, "version": "3"}})
	if r.Status != 422 || !strings.Contains(string(r.Body), "version") {
		t.Fatalf("version 3: %d %s, want 422 naming version", r.Status, r.Body)
	}
}

// TestMQTT311Reconnects: the MQTT 3.1.1 client never reconnects by itself; after the broker
// stops, an attempt fails, and once it is back the retry dials again and is acknowledged.
func TestMQTT311Reconnects(t *testing.T) {
	t.Parallel()
	b := mosquittoBroker(t)
	e := start(t, nil)
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep, _ := e.brokerEndpoint(app, map[string]any{"type": "mqtt", "url": "mqtt://" + b.Addr,
		"options": map[string]string{"topic": "hookline/test/" + uniqueName(t), "version": "3.1.1"}})
	e.send(app, "order.paid", map[string]any{"order": 1})
	if a := e.waitAttempts(app, ep, 1)[0]; a.Status != 0 {
		t.Fatalf("first attempt %+v, want a success", a)
	}
	b.Stop()
	msg := e.send(app, "order.paid", map[string]any{"order": 2})
	failed := e.waitAttempts(app, ep, 2)[0]
	if failed.Status == 0 || failed.MsgID != msg || failed.Response == "" {
		t.Fatalf("attempt while the broker is down %+v, want a failure with its reason", failed)
	}
	b.Start()
	var st endpointMsg
	for _, m := range e.endpointMsgs(app, ep) {
		if m.ID == msg {
			st = m
		}
	}
	if st.NextAttempt == nil {
		t.Fatalf("message %s has no retry: %+v", msg, st)
	}
	e.advanceTo(*st.NextAttempt)
	if a := e.waitAttempts(app, ep, 3)[0]; a.Status != 0 || a.MsgID != msg || !strings.Contains(a.Response, "MQTT 3.1.1") {
		t.Fatalf("retry after the broker came back %+v, want a success", a)
	}
}
