package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// MQTT 5: endpoint ep publishes at QoS 1 to the topic prefix/ep. Four subscribers (clean
// sessions, QoS 1) share the topics, so no one subscriber's queue at the broker (Mosquitto
// keeps 1,000 messages a client by default and drops the rest) takes every message. Nothing is
// retained, so nothing is left to delete.
func init() { brokerTypes["mqtt"] = openMQTT }

// mqttSubscribers is how many subscriber connections share the topics.
const mqttSubscribers = 4

type mqttBroker struct {
	url, prefix, addr string
	user, password    string
	endpoints         int
	subs              []*paho.Client
}

func openMQTT(ctx context.Context, rawURL, prefix string, endpoints int, s *sink) (broker, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "mqtt" {
		return nil, fmt.Errorf("the benchmark speaks mqtt:// only, not %s://", u.Scheme)
	}
	b := &mqttBroker{url: rawURL, prefix: prefix, addr: u.Host, endpoints: endpoints}
	if u.Port() == "" {
		b.addr = net.JoinHostPort(u.Hostname(), "1883")
	}
	if u.User != nil {
		b.user = u.User.Username()
		b.password, _ = u.User.Password()
	}
	for k := range min(mqttSubscribers, endpoints) {
		var subs []paho.SubscribeOptions
		for ep := k; ep < endpoints; ep += mqttSubscribers {
			subs = append(subs, paho.SubscribeOptions{Topic: b.topic(ep), QoS: 1})
		}
		c, err := b.connect(ctx, fmt.Sprintf("%s-sub%d", prefix, k), func(pr paho.PublishReceived) (bool, error) {
			p := pr.Packet
			ep := -1
			if i := strings.LastIndexByte(p.Topic, '/'); i >= 0 {
				ep, _ = strconv.Atoi(p.Topic[i+1:])
			}
			if p.Properties != nil {
				s.arrive(p.Properties.User.Get("webhook-id"), ep)
			}
			return true, nil
		})
		if err != nil {
			b.close(ctx)
			return nil, err
		}
		b.subs = append(b.subs, c)
		if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: subs}); err != nil {
			b.close(ctx)
			return nil, fmt.Errorf("subscribe: %w", err)
		}
	}
	return b, nil
}

func (b *mqttBroker) topic(ep int) string { return b.prefix + "/" + strconv.Itoa(ep) }

// connect opens an MQTT 5 connection with a clean session.
func (b *mqttBroker) connect(ctx context.Context, clientID string, onPublish func(paho.PublishReceived) (bool, error)) (*paho.Client, error) {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := d.DialContext(dctx, "tcp", b.addr)
	if err != nil {
		return nil, err
	}
	cfg := paho.ClientConfig{Conn: conn}
	if onPublish != nil {
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){onPublish}
	}
	c := paho.NewClient(cfg)
	cp := &paho.Connect{ClientID: clientID, CleanStart: true, KeepAlive: 30,
		Username: b.user, UsernameFlag: b.user != "", Password: []byte(b.password), PasswordFlag: b.password != ""}
	if _, err := c.Connect(dctx, cp); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

func (b *mqttBroker) destination(ep int) map[string]any {
	return map[string]any{"type": "mqtt", "url": b.url, "options": map[string]string{"topic": b.topic(ep)}}
}

func (b *mqttBroker) describe() brokerInfo {
	return brokerInfo{
		targets:  fmt.Sprintf("%d topics %s/0…%d", b.endpoints, b.prefix, b.endpoints-1),
		consumer: fmt.Sprintf("%d QoS 1 subscribers share them", len(b.subs)),
		client:   "paho.golang QoS 1 publish, waiting for each PUBACK",
	}
}

func (b *mqttBroker) close(context.Context) error {
	var errs []error
	for _, c := range b.subs {
		if err := c.Disconnect(&paho.Disconnect{ReasonCode: 0}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// mqttClient is the baseline's: one connection a lane, publishing at QoS 1 with the
// properties the server's publisher sets (content type, the headers as user properties).
type mqttClient struct {
	b     *mqttBroker
	conns []*paho.Client
}

func (b *mqttBroker) client(ctx context.Context, lanes int) (brokerClient, error) {
	c := &mqttClient{b: b}
	for i := range lanes {
		cl, err := b.connect(ctx, fmt.Sprintf("%s-pub%d", b.prefix, i), nil)
		if err != nil {
			c.close()
			return nil, err
		}
		c.conns = append(c.conns, cl)
	}
	return c, nil
}

func (c *mqttClient) publish(ctx context.Context, ep int, body []byte, headers map[string]string) error {
	props := &paho.PublishProperties{ContentType: headers["content-type"]}
	for _, k := range sortedHeaderNames(headers) {
		props.User = append(props.User, paho.UserProperty{Key: k, Value: headers[k]})
	}
	resp, err := c.conns[ep%len(c.conns)].Publish(ctx, &paho.Publish{QoS: 1, Topic: c.b.topic(ep), Payload: body, Properties: props})
	if err != nil {
		return err
	}
	if resp != nil && resp.ReasonCode >= 0x80 {
		return fmt.Errorf("PUBACK reason code %d", resp.ReasonCode)
	}
	return nil
}

func (c *mqttClient) close() {
	for _, cl := range c.conns {
		cl.Disconnect(&paho.Disconnect{ReasonCode: 0})
	}
}
