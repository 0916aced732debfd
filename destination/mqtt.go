package destination

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/eclipse/paho.golang/paho"

	"github.com/hookline/hookline"
)

// MQTT 5: each attempt publishes one message to the topic at QoS 1 (or 2) and succeeds only
// when the broker acknowledges it (PUBACK, or PUBREC and PUBCOMP) without an error reason code.
// The body is the payload; every header is an MQTT user property, and the content type is
// also the message's content type property.
//
// URL: mqtt://[user:password@]host[:port] (1883), or mqtts:// (TLS, 8883). Options: topic
// (required, no wildcards), qos ("1", the default, or "2"), version ("5", the default, or
// "3.1.1" for a broker without MQTT 5: mqtt311.go).
func init() { Register("mqtt", mqttType{}) }

type mqttType struct{}

func (mqttType) Check(d hookline.Destination) []FieldError {
	errs := unknownOptions(d, "topic", "qos", "version")
	if _, uerrs := checkURL(d.URL, "mqtt", "mqtts"); uerrs != nil {
		errs = append(errs, uerrs...)
	}
	switch topic := d.Options["topic"]; {
	case topic == "":
		errs = append(errs, FieldError{"topic", "is required"})
	case strings.ContainsAny(topic, "+#\x00"):
		errs = append(errs, FieldError{"topic", "must not hold the wildcards + and #"})
	}
	if v, ok := d.Options["version"]; ok && v != "5" && v != "3.1.1" {
		errs = append(errs, FieldError{"version", `must be "5" or "3.1.1"`})
	}
	if v, ok := d.Options["qos"]; ok && v != "1" && v != "2" {
		errs = append(errs, FieldError{"qos", `must be "1" or "2" (QoS 0 has no acknowledgement)`})
	}
	return errs
}

func (mqttType) Open(d hookline.Destination, dial DialFunc) (Publisher, error) {
	u, uerrs := checkURL(d.URL, "mqtt", "mqtts")
	if uerrs != nil {
		return nil, uerrs[0]
	}
	t := mqttTarget{addr: u.Host, topic: d.Options["topic"], qos: 1, dial: dial}
	port := "1883"
	if u.Scheme == "mqtts" {
		port, t.dial = "8883", tlsDial(dial, nil)
	}
	if u.Port() == "" {
		t.addr = net.JoinHostPort(u.Hostname(), port)
	}
	if u.User != nil {
		t.user = u.User.Username()
		t.password, t.hasPassword = u.User.Password()
	}
	if d.Options["qos"] == "2" {
		t.qos = 2
	}
	if d.Options["version"] == "3.1.1" {
		return &mqtt311Publisher{mqttTarget: t}, nil
	}
	return &mqttPublisher{mqttTarget: t}, nil
}

// mqttTarget is where and how an MQTT publisher of either version publishes.
type mqttTarget struct {
	addr, topic    string
	user, password string
	hasPassword    bool
	qos            byte
	dial           DialFunc // with a TLS handshake for mqtts://
}

type mqttPublisher struct {
	mqttTarget
	mu        sync.Mutex
	client    *paho.Client // nil until the first attempt, and after the connection ended
	closed    bool
	clientSeq int
}

// connection returns the connected client, connecting when there is none or the last one
// ended (a broker restart).
func (p *mqttPublisher) connection(ctx context.Context) (*paho.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("publisher closed")
	}
	if p.client != nil {
		select {
		case <-p.client.Done():
			p.client = nil
		default:
			return p.client, nil
		}
	}
	conn, err := p.dial(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn})
	p.clientSeq++
	cp := &paho.Connect{ClientID: fmt.Sprintf("hookline-%p-%d", p, p.clientSeq), CleanStart: true, KeepAlive: 30,
		Username: p.user, UsernameFlag: p.user != "", Password: []byte(p.password), PasswordFlag: p.hasPassword}
	ack, err := c.Connect(ctx, cp)
	if err != nil {
		conn.Close()
		if ack != nil && ack.ReasonCode >= 0x80 {
			return nil, fmt.Errorf("the broker refused the connection: reason code %d", ack.ReasonCode)
		}
		return nil, err
	}
	p.client = c
	return c, nil
}

func (p *mqttPublisher) Publish(ctx context.Context, msg Message) (Result, error) {
	c, err := p.connection(ctx)
	if err != nil {
		return Result{}, err
	}
	props := &paho.PublishProperties{ContentType: msg.Headers["content-type"]}
	for _, k := range msg.HeaderNames() {
		props.User = append(props.User, paho.UserProperty{Key: k, Value: msg.Headers[k]})
	}
	// A connection that ends (a broker restart) ends the wait for the acknowledgement: paho
	// keeps an unacknowledged publish for a session that may resume, and would wait for the
	// attempt's whole timeout.
	pubCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.Done():
			cancel()
		case <-pubCtx.Done():
		}
	}()
	resp, err := c.Publish(pubCtx, &paho.Publish{QoS: p.qos, Topic: p.topic, Payload: msg.Body, Properties: props})
	if resp != nil && resp.ReasonCode >= 0x80 {
		// Refused (paho answers a PUBREC's error reason code, QoS 2, without an error).
		ack := "PUBACK"
		if p.qos == 2 {
			ack = "PUBREC"
		}
		return Result{}, fmt.Errorf("the broker refused the message: %s reason code %d (%s)", ack, resp.ReasonCode, mqttReason(resp.ReasonCode))
	}
	if err != nil {
		if ctx.Err() == nil && pubCtx.Err() != nil {
			err = errors.New("the connection to the broker ended before it acknowledged the message")
		}
		if resp == nil {
			// No acknowledgement: the connection may be broken; the next attempt dials again.
			p.mu.Lock()
			if p.client == c {
				p.client = nil
				go c.Disconnect(&paho.Disconnect{ReasonCode: 0})
			}
			p.mu.Unlock()
		}
		return Result{}, err
	}
	ack := "PUBACK"
	if p.qos == 2 {
		ack = "PUBCOMP"
	}
	answer := fmt.Sprintf("%s from the broker (topic %q, QoS %d)", ack, p.topic, p.qos)
	if resp != nil && resp.ReasonCode != 0 {
		answer += ", reason code " + strconv.Itoa(int(resp.ReasonCode))
		if resp.ReasonCode == 0x10 {
			answer += " (no matching subscribers)"
		}
	}
	return Result{Answer: answer}, nil
}

// mqttReason names an MQTT 5 PUBACK or PUBREC reason code of 128 or more.
func mqttReason(code byte) string {
	switch code {
	case 0x80:
		return "unspecified error"
	case 0x83:
		return "implementation specific error"
	case 0x87:
		return "not authorized"
	case 0x90:
		return "topic name invalid"
	case 0x91:
		return "packet identifier in use"
	case 0x97:
		return "quota exceeded"
	case 0x99:
		return "payload format invalid"
	}
	return "an error"
}

func (p *mqttPublisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.client != nil {
		p.client.Disconnect(&paho.Disconnect{ReasonCode: 0})
		p.client = nil
	}
	return nil
}

func (mqttType) Describe() Description {
	return Description{Title: "MQTT", URLPlaceholder: "mqtt://mqtt.example.com:1883",
		URLHint: "mqtt:// (port 1883) or mqtts:// (TLS, 8883); Hookline speaks MQTT 5, or 3.1.1 if chosen below.",
		Options: []Option{
			{Name: "topic", Label: "Topic", Placeholder: "webhooks/orders", Required: true, Hint: "Without the wildcards + and #."},
			{Name: "qos", Label: "QoS", Choices: []string{"1", "2"}, Hint: "1: acknowledged once (PUBACK); 2: exactly once between Hookline and the broker (PUBCOMP)."},
			{Name: "version", Label: "MQTT version", Choices: []string{"5", "3.1.1"}, Hint: "5 carries the signature headers as user properties; 3.1.1 has none, so its messages are the payload alone."},
		}}
}
