package service

import (
	"context"
	"strings"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/destination"
)

// SetEndpointDestination makes d the endpoint's destination after its type checked it: its
// deliveries are then published to that broker instead of sent to its URL. nil, or the type
// "http", makes it an HTTP endpoint again. The broker's address is checked against the egress
// policy when a connection is made, as HTTP receivers' are.
func (s *Service) SetEndpointDestination(ctx context.Context, ep *hookline.Endpoint, d *hookline.Destination) error {
	if d != nil && d.Type == hookline.EndpointTypeHTTP {
		var f fieldErrors
		if d.URL != "" {
			f.add("value", "an http endpoint's URL is the endpoint's url field", "url")
		}
		if len(d.Options) > 0 {
			f.add("value", "an http endpoint has no options", "options")
		}
		if err := f.err(); err != nil {
			return err
		}
		d = nil
	}
	if d != nil {
		d.Type = strings.TrimSpace(d.Type)
		if errs := destination.Check(*d); len(errs) > 0 {
			var f fieldErrors
			for _, e := range errs {
				switch e.Field {
				case "type", "url":
					f.add("value", e.Message, e.Field)
				default:
					f.add("value", e.Message, "options", e.Field)
				}
			}
			return f.err()
		}
		if len(d.Options) == 0 {
			d.Options = nil
		}
	}
	at, err := s.store.SetEndpointDestination(ctx, ep.AppID, ep.ID, d)
	if err != nil {
		return err
	}
	ep.Destination, ep.UpdatedAt = d, at
	return nil
}
