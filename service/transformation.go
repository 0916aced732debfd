package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/transform"
)

// TransformationPatch changes an endpoint's transformation; nil fields stay as they are.
type TransformationPatch struct {
	// Code replaces the code; a pointer to "" removes it (and disables the transformation).
	Code    *string
	Enabled *bool
}

// SetTransformation applies the patch to the endpoint's transformation. New code must be
// between transform.MinCodeBytes and transform.MaxCodeBytes long and compile; a transformation
// can be enabled only when it has code.
func (s *Service) SetTransformation(ctx context.Context, ep *hookline.Endpoint, p TransformationPatch) (hookline.Transformation, error) {
	var t hookline.Transformation
	if ep.Transformation != nil {
		t = *ep.Transformation
	}
	if p.Code != nil {
		if *p.Code != "" {
			if err := checkCode(*p.Code); err != nil {
				return t, err
			}
		} else if p.Enabled == nil || !*p.Enabled {
			t.Enabled = false
		}
		t.Code = *p.Code
	}
	if p.Enabled != nil {
		t.Enabled = *p.Enabled
	}
	if t.Enabled && t.Code == "" {
		return t, &hookline.Error{Code: hookline.EINVALID, Message: "a transformation without code cannot be enabled",
			Fields: []hookline.FieldError{{Loc: []string{"body", "enabled"}, Type: "value", Msg: "a transformation without code cannot be enabled; send code too"}}}
	}
	at, err := s.store.SetEndpointTransformation(ctx, ep.AppID, ep.ID, t)
	if err != nil {
		return t, err
	}
	t.UpdatedAt = at
	ep.Transformation = &t
	return t, nil
}

// checkCode refuses code of the wrong length or that does not compile.
func checkCode(code string) error {
	if len(code) < transform.MinCodeBytes || len(code) > transform.MaxCodeBytes {
		msg := fmt.Sprintf("must be %d to %d bytes long", transform.MinCodeBytes, transform.MaxCodeBytes)
		return &hookline.Error{Code: hookline.EINVALID, Message: "code " + msg,
			Fields: []hookline.FieldError{{Loc: []string{"body", "code"}, Type: "value", Msg: msg}}}
	}
	if _, err := transform.Compile(code); err != nil {
		return transformationError(err)
	}
	return nil
}

// transformationError is a transformation's failure as the client's error, located at the code.
func transformationError(err error) error {
	var te *transform.Error
	if !errors.As(err, &te) {
		return err
	}
	return &hookline.Error{Code: hookline.ETRANSFORMATION, Message: te.Reason,
		Fields: []hookline.FieldError{{Loc: []string{"body", "code"}, Type: "transformation", Msg: te.Reason}}}
}

// SimulateTransformation runs code as the endpoint's transformation on a message of the event
// type with the payload, and returns the request a delivery would send: the delivery engine
// runs the same steps (transform.Engine.Apply), within the same limits. A function that fails
// is an ETRANSFORMATION error saying why.
func (s *Service) SimulateTransformation(ctx context.Context, ep *hookline.Endpoint, code, eventType string, payload []byte) (transform.Result, error) {
	if err := checkCode(code); err != nil {
		return transform.Result{}, err
	}
	res, err := s.transforms.Simulate(ctx, ep, code, eventType, payload)
	if err != nil {
		return transform.Result{}, transformationError(err)
	}
	return res, nil
}
