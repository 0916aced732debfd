package destination

import (
	"strings"
	"testing"

	"github.com/hookline/hookline"
)

// TestDescriptionsMatchChecks: every option a type describes is one its Check knows, a
// required one is refused when missing, and a choice's values are accepted.
func TestDescriptionsMatchChecks(t *testing.T) {
	for _, name := range Names() {
		desc, ok := Describe(name)
		if !ok {
			continue
		}
		if desc.Title == "" || desc.URLPlaceholder == "" {
			t.Errorf("%s: no title or URL placeholder", name)
		}
		opts := map[string]string{}
		for _, o := range desc.Options {
			opts[o.Name] = "x"
			if len(o.Choices) > 0 {
				opts[o.Name] = o.Choices[0]
			}
		}
		for _, e := range Check(hookline.Destination{Type: name, URL: desc.URLPlaceholder, Options: opts}) {
			if strings.Contains(e.Message, "is not an option") {
				t.Errorf("%s: described option refused: %v", name, e)
			}
		}
		for _, o := range desc.Options {
			if !o.Required {
				continue
			}
			without := map[string]string{}
			for k, v := range opts {
				if k != o.Name {
					without[k] = v
				}
			}
			found := false
			for _, e := range Check(hookline.Destination{Type: name, URL: desc.URLPlaceholder, Options: without}) {
				found = found || e.Field == o.Name
			}
			if !found {
				t.Errorf("%s: option %s is described as required, but Check accepts its absence", name, o.Name)
			}
		}
	}
}
