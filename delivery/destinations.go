package delivery

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/destination"
)

// brokerRoute is the publisher of one endpoint with a destination, built from the endpoint as
// it was at its UpdatedAt.
type brokerRoute struct {
	pub destination.Publisher
	err error // a destination that does not open: every attempt fails with this reason
}

// brokerRoute returns the publisher of ep (kept in Sender.brokers): the connections are pooled
// per destination, and a changed destination gets new ones.
func (s *Sender) brokerRoute(ep *hookline.Endpoint) *brokerRoute {
	return s.brokers.get(ep, func() *brokerRoute {
		rt := &brokerRoute{}
		rt.pub, rt.err = destination.Open(*ep.Destination, s.dial)
		return rt
	})
}

func (rt *brokerRoute) close() {
	if rt.pub != nil {
		// In flight publishes of the old version fail and are retried on the new one.
		go rt.pub.Close()
	}
}

// CloseBrokers closes every broker connection.
func (s *Sender) CloseBrokers() {
	s.brokers.drain(func(rt *brokerRoute) {
		if rt.pub != nil {
			rt.pub.Close()
		}
	})
}

// brokerOK is the status code an attempt that the broker accepted records: the attempt log and
// Svix's models have a status code, and the broker's own answer is the response.
const brokerOK = http.StatusOK

// Publish publishes body with the signed headers h to the endpoint's destination and reports
// what happened, like SendEndpoint: a publish the broker accepted is a 200 with the broker's
// answer as the body; a dead or refusing broker is a failed attempt (FailConnection, FailPolicy
// when the egress policy refused its address, FailTimeout), retried on the schedule.
func (s *Sender) Publish(ctx context.Context, ep *hookline.Endpoint, h http.Header, body []byte) Result {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	start := time.Now()
	rt := s.brokerRoute(ep)
	if rt.err != nil {
		return Result{Kind: FailConnection, Body: "destination: " + rt.err.Error()}
	}
	msg := destination.Message{Body: body, Headers: make(map[string]string, len(h))}
	for k, v := range h {
		if len(v) > 0 {
			msg.Headers[strings.ToLower(k)] = v[0]
		}
	}
	res, err := rt.pub.Publish(ctx, msg)
	took := time.Since(start)
	if err != nil {
		kind := classify(err)
		if kind == FailNone {
			kind = FailConnection
		}
		text := err.Error()
		if kind == FailPolicy {
			text = s.describe(err)
		} else if kind == FailTimeout {
			text = "timed out waiting for the broker: " + text
		}
		return Result{Kind: kind, Body: text, Duration: took}
	}
	return Result{StatusCode: brokerOK, Body: res.Answer, Duration: took}
}
