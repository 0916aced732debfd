package sqlcodec

import (
	"encoding/json"
	"fmt"

	"github.com/hookline/hookline"
)

// transformationJSON is how the transformation column stores a hookline.Transformation.
type transformationJSON struct {
	Code      string `json:"code"`
	Enabled   bool   `json:"enabled"`
	UpdatedAt int64  `json:"updatedAt"` // Unix microseconds
}

// EncodeTransformation is the transformation column's value for t.
func EncodeTransformation(t hookline.Transformation) (string, error) {
	b, err := json.Marshal(transformationJSON{Code: t.Code, Enabled: t.Enabled, UpdatedAt: t.UpdatedAt.UnixMicro()})
	return string(b), err
}

// DecodeTransformation reads a transformation column's value.
func DecodeTransformation(text string) (*hookline.Transformation, error) {
	var j transformationJSON
	if err := json.Unmarshal([]byte(text), &j); err != nil {
		return nil, fmt.Errorf("decode transformation: %w", err)
	}
	return &hookline.Transformation{Code: j.Code, Enabled: j.Enabled, UpdatedAt: fromMicros(j.UpdatedAt)}, nil
}
