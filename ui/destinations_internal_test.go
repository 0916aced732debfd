package ui

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/destination"
)

// TestParseDestination: the chooser's fields become the destination the API would be given:
// the credentials go into the URL, an empty password keeps the stored one of the same type,
// a NATS password without a user is its token, and what cannot be read is named by field.
func TestParseDestination(t *testing.T) {
	en := printer(t, "en")
	stored := &hookline.Destination{Type: "redis", URL: "redis://app:old-secret@redis.example.com:6379/0", Options: map[string]string{"stream": "a"}}
	storedToken := &hookline.Destination{Type: "nats", URL: "nats://tok123@nats.example.com:4222", Options: map[string]string{"subject": "s"}}
	for _, tc := range []struct {
		name    string
		form    url.Values
		old     *hookline.Destination
		typ     string
		want    *hookline.Destination
		errKeys []string
	}{
		{"http by default", url.Values{"url": {"https://example.com/h"}}, nil, "http", nil, nil},
		{"http chosen", url.Values{"type": {"http"}, "redis-url": {"redis://x:6379"}}, stored, "http", nil, nil},
		{"unknown type", url.Values{"type": {"carrier-pigeon"}}, nil, "carrier-pigeon", nil, []string{"type"}},
		{"redis with user and password", url.Values{"type": {"redis"}, "redis-url": {" redis://redis.example.com:6379/0 "}, "redis-user": {"app"},
			"redis-password": {"p@ss/word"}, "redis-opt-stream": {" orders "}, "redis-opt-maxLen": {""}}, nil, "redis",
			&hookline.Destination{Type: "redis", URL: "redis://app:p%40ss%2Fword@redis.example.com:6379/0", Options: map[string]string{"stream": "orders"}}, nil},
		{"empty password keeps the stored one", url.Values{"type": {"redis"}, "redis-url": {"redis://redis2.example.com:6379/1"}, "redis-user": {"app"},
			"redis-opt-stream": {"b"}}, stored, "redis",
			&hookline.Destination{Type: "redis", URL: "redis://app:old-secret@redis2.example.com:6379/1", Options: map[string]string{"stream": "b"}}, nil},
		{"remove the password", url.Values{"type": {"redis"}, "redis-url": {"redis://redis.example.com:6379/0"}, "redis-removePassword": {"on"},
			"redis-opt-stream": {"b"}}, stored, "redis",
			&hookline.Destination{Type: "redis", URL: "redis://redis.example.com:6379/0", Options: map[string]string{"stream": "b"}}, nil},
		{"a password alone", url.Values{"type": {"redis"}, "redis-url": {"redis://redis.example.com"}, "redis-password": {"pw"}, "redis-opt-stream": {"b"}}, nil, "redis",
			&hookline.Destination{Type: "redis", URL: "redis://:pw@redis.example.com", Options: map[string]string{"stream": "b"}}, nil},
		{"credentials typed in the URL win", url.Values{"type": {"redis"}, "redis-url": {"redis://u:p@redis.example.com"}, "redis-password": {"other"},
			"redis-opt-stream": {"b"}}, stored, "redis",
			&hookline.Destination{Type: "redis", URL: "redis://u:p@redis.example.com", Options: map[string]string{"stream": "b"}}, nil},
		{"the stored password of another type is not kept", url.Values{"type": {"mqtt"}, "mqtt-url": {"mqtt://mqtt.example.com"}, "mqtt-opt-topic": {"t"},
			"mqtt-opt-qos": {"1"}}, stored, "mqtt",
			&hookline.Destination{Type: "mqtt", URL: "mqtt://mqtt.example.com", Options: map[string]string{"topic": "t", "qos": "1"}}, nil},
		{"a NATS token", url.Values{"type": {"nats"}, "nats-url": {"nats://nats.example.com:4222"}, "nats-password": {"tok"}, "nats-opt-subject": {"s"}}, nil, "nats",
			&hookline.Destination{Type: "nats", URL: "nats://tok@nats.example.com:4222", Options: map[string]string{"subject": "s"}}, nil},
		{"a stored NATS token is kept", url.Values{"type": {"nats"}, "nats-url": {"nats://nats.example.com:4222"}, "nats-opt-subject": {"s2"}}, storedToken, "nats",
			&hookline.Destination{Type: "nats", URL: "nats://tok123@nats.example.com:4222", Options: map[string]string{"subject": "s2"}}, nil},
		{"other types' fields are not read", url.Values{"type": {"rabbitmq"}, "rabbitmq-url": {"amqp://rabbit.example.com/v"}, "rabbitmq-opt-routingKey": {"q"},
			"redis-opt-stream": {"x"}, "rabbitmq-opt-bogus": {"y"}}, nil, "rabbitmq",
			&hookline.Destination{Type: "rabbitmq", URL: "amqp://rabbit.example.com/v", Options: map[string]string{"routingKey": "q"}}, nil},
		{"Kafka with several brokers and the default mechanism", url.Values{"type": {"kafka"}, "kafka-url": {"kafka://k1.example.com:9092,k2.example.com:9092"},
			"kafka-user": {"u"}, "kafka-password": {"p"}, "kafka-opt-topic": {"t"}, "kafka-opt-key": {"webhook-id"}, "kafka-opt-sasl": {""}}, nil, "kafka",
			&hookline.Destination{Type: "kafka", URL: "kafka://u:p@k1.example.com:9092,k2.example.com:9092", Options: map[string]string{"topic": "t", "key": "webhook-id"}}, nil},
		{"an unreadable URL", url.Values{"type": {"redis"}, "redis-url": {"redis://%zz"}, "redis-opt-stream": {"b"}}, nil, "redis",
			&hookline.Destination{Type: "redis", Options: map[string]string{"stream": "b"}}, []string{"redis-url"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, d, errs := parseDestination(en, tc.form, tc.old)
			if typ != tc.typ {
				t.Errorf("type %q, want %q", typ, tc.typ)
			}
			if !reflect.DeepEqual(d, tc.want) {
				t.Errorf("destination %+v, want %+v", d, tc.want)
			}
			if got := sortedKeys(errs); strings.Join(got, ",") != strings.Join(tc.errKeys, ",") {
				t.Errorf("errors %v, want on %v", errs, tc.errKeys)
			}
		})
	}
}

// TestDestinationErrorsByField: what a type's Check refuses, and the API's 422 for it, land
// next to the chooser's fields, in words with the field's label.
func TestDestinationErrorsByField(t *testing.T) {
	errs := destErrors("redis", destination.Check(hookline.Destination{Type: "redis", URL: "http://x", Options: map[string]string{"maxLen": "-3"}}))
	want := map[string]string{
		"redis-url":        "The connection URL scheme must be redis or rediss",
		"redis-opt-stream": "Stream is required",
		"redis-opt-maxLen": "Maximum length must be a positive integer",
	}
	if !reflect.DeepEqual(errs, want) {
		t.Fatalf("errors %v, want %v", errs, want)
	}
	apiErr := &hookline.Error{Code: hookline.EINVALID, Message: "invalid", Fields: []hookline.FieldError{
		{Loc: []string{"body", "options", "topic"}, Msg: "must not hold the wildcards + and #"},
		{Loc: []string{"body", "options", "retain"}, Msg: "is not an option of mqtt destinations (topic, qos)"},
		{Loc: []string{"body", "url"}, Msg: "must name a host"}}}
	got, ok := destServiceErrors("mqtt", apiErr)
	want = map[string]string{"mqtt-opt-topic": "Topic must not hold the wildcards + and #",
		"type": "retain is not an option of mqtt destinations (topic, qos)", "mqtt-url": "The connection URL must name a host"}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("API errors %v (%v), want %v", got, ok, want)
	}
}

// TestDestinationShownWithoutPassword: pages show a broker's URL without its credentials, and
// a NATS token counts as a password, not a user name.
func TestDestinationShownWithoutPassword(t *testing.T) {
	for _, tc := range []struct {
		raw, typ, bare, user string
		has                  bool
	}{
		{"redis://app:s3cret@r.example.com:6379/0", "redis", "redis://r.example.com:6379/0", "app", true},
		{"redis://r.example.com:6379/0", "redis", "redis://r.example.com:6379/0", "", false},
		{"nats://tok@n.example.com", "nats", "nats://n.example.com", "", true},
		{"nats://u:p@n.example.com", "nats", "nats://n.example.com", "u", true},
		{"amqp://guest@rabbit.example.com/v", "rabbitmq", "amqp://rabbit.example.com/v", "guest", false},
	} {
		desc, _ := destination.Describe(tc.typ)
		bare, user, has := splitCredentials(tc.raw, desc.TokenAuth)
		if bare != tc.bare || user != tc.user || has != tc.has {
			t.Errorf("%s: %q %q %v, want %q %q %v", tc.raw, bare, user, has, tc.bare, tc.user, tc.has)
		}
	}
	ep := &hookline.Endpoint{URL: brokerEndpointURL("rabbitmq"), Destination: &hookline.Destination{Type: "rabbitmq",
		URL: "amqp://hook:pw@rabbit.example.com/v", Options: map[string]string{"routingKey": "orders", "exchange": "hooks"}}}
	if got, want := endpointAddress(printer(t, "en"), ep), "RabbitMQ amqp://rabbit.example.com/v · exchange hooks, routing key orders"; got != want {
		t.Errorf("address %q, want %q", got, want)
	}
	if got, want := endpointAddress(printer(t, "de"), ep), "RabbitMQ amqp://rabbit.example.com/v · exchange hooks, routing-Key orders"; got != want {
		t.Errorf("German address %q, want %q", got, want)
	}
	if got := attemptBroker("amqp://hook:xxxxx@rabbit.example.com/v"); got != "RabbitMQ" {
		t.Errorf("the broker of an AMQP attempt is %q", got)
	}
	if got := attemptBroker("https://example.com/hook"); got != "" {
		t.Errorf("the broker of an HTTP attempt is %q", got)
	}
}

// TestDestinationFormsInGerman: a type's labels and hints come from the catalogue in the page's
// language, and every described option of every type has them (so a German page shows no
// English label); the brokers' names stay as they are.
func TestDestinationFormsInGerman(t *testing.T) {
	de := printer(t, "de")
	for _, name := range destination.Names() {
		en, described := destination.Describe(name)
		got, _ := describeIn(de, name)
		if !described {
			continue
		}
		if got.Title != en.Title || got.URLHint == en.URLHint {
			t.Errorf("%s in German: title %q, URL hint %q", name, got.Title, got.URLHint)
		}
		for i, o := range got.Options {
			if o.Hint == en.Options[i].Hint {
				t.Errorf("%s.%s has no German hint in the catalogue (destinations.type.%s.%s.hint)", name, o.Name, name, o.Name)
			}
		}
	}
	if got, _ := describeIn(de, "redis"); got.Options[1].Label != "Höchstlänge" {
		t.Errorf("redis maxLen in German: %q", got.Options[1].Label)
	}
	if _, _, errs := parseDestination(de, url.Values{"type": {"nope"}}, nil); errs["type"] != "Wählen Sie einen der gezeigten Typen" {
		t.Errorf("an unknown type in German: %v", errs)
	}
}
