package delivery

import (
	"context"
	"net"
	"strings"
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
	ctx := context.Background()
	topic := "hookline/test/" + uniqueName(t)
	received := make(chan *paho.Publish, 10)
	conn, err := net.Dial("tcp", mqttAddr)
	if err != nil {
		t.Fatal(err)
	}
	sub := paho.NewClient(paho.ClientConfig{Conn: conn, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(pr paho.PublishReceived) (bool, error) { received <- pr.Packet; return true, nil },
	}})
	if _, err := sub.Connect(ctx, &paho.Connect{ClientID: uniqueName(t), CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Disconnect(&paho.Disconnect{}) })
	if _, err := sub.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: topic, QoS: 1}}}); err != nil {
		t.Fatal(err)
	}

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
