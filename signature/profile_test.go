package signature_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hookline/hookline/signature"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	hex := func(mod func(*signature.Profile)) signature.Profile {
		p := signature.Profile{Kind: signature.KindHMACHex, SignatureHeader: "X-Signature"}
		mod(&p)
		return p
	}
	for _, tc := range []struct {
		name    string
		profile signature.Profile
		// wantFields are the fields the error names, in order; none means valid.
		wantFields []string
		wantText   string
	}{
		{"zero profile is standard", signature.Profile{}, nil, ""},
		{"standard", signature.Standard(), nil, ""},
		{"svix", signature.Svix(), nil, ""},
		{"standard with event header", signature.Profile{EventTypeHeader: "X-Event"}, nil, ""},
		{"minimal hex", hex(func(*signature.Profile) {}), nil, ""},
		{"unknown kind", signature.Profile{Kind: "rsa"}, []string{"kind"}, `unknown kind "rsa"`},
		{"hex without signature header", signature.Profile{Kind: signature.KindHMACHex}, []string{"signatureHeader"}, "is required"},
		{"invalid header name", hex(func(p *signature.Profile) { p.SignatureHeader = "X Signature" }), []string{"signatureHeader"}, "not a valid HTTP header name"},
		{"header name with colon", hex(func(p *signature.Profile) { p.EventTypeHeader = "X-Event:" }), []string{"eventTypeHeader"}, "not a valid HTTP header name"},
		{"reserved header", hex(func(p *signature.Profile) { p.SignatureHeader = "content-type" }), []string{"signatureHeader"}, "set by the HTTP client"},
		{"bad signed content", hex(func(p *signature.Profile) { p.SignedContent = "body.timestamp" }), []string{"signedContent"}, `"body.timestamp" is not supported`},
		{"timestamp.body needs timestamp header", hex(func(p *signature.Profile) { p.SignedContent = signature.ContentTimestampBody }), []string{"timestampHeader"}, "is required when signedContent"},
		{"colliding headers", hex(func(p *signature.Profile) { p.TimestampHeader = "x-signature" }), []string{"timestampHeader"}, "also used by signatureHeader"},
		{"prefix with comma", hex(func(p *signature.Profile) { p.SignaturePrefix = "a,b=" }), []string{"signaturePrefix"}, "without spaces or commas"},
		{"prefix with space", hex(func(p *signature.Profile) { p.SignaturePrefix = "sha256 " }), []string{"signaturePrefix"}, "without spaces or commas"},
		{"hex field on standard", signature.Profile{SignatureHeader: "X-Sig", SignedContent: "body"}, []string{"signatureHeader", "signedContent"}, `applies only to kind "hmac-hex"`},
		{"prefix on hex", hex(func(p *signature.Profile) { p.HeaderPrefix = "svix" }), []string{"headerPrefix"}, `applies only to kind "standard"`},
		{"bad secret encoding", hex(func(p *signature.Profile) { p.SecretEncoding = "hex" }), []string{"secretEncoding"}, `"hex" is not supported`},
		{"raw secret encoding", hex(func(p *signature.Profile) { p.SecretEncoding = signature.SecretRaw }), nil, ""},
		{"secret encoding on standard", signature.Profile{SecretEncoding: signature.SecretRaw}, []string{"secretEncoding"}, `applies only to kind "hmac-hex"`},
		{"bad header prefix", signature.Profile{HeaderPrefix: "svix-"}, []string{"headerPrefix"}, "not a valid header prefix"},
		{"header prefix with space", signature.Profile{HeaderPrefix: "my hook"}, []string{"headerPrefix"}, "not a valid header prefix"},
		{"event header collides with standard", signature.Profile{EventTypeHeader: "Webhook-Id"}, []string{"eventTypeHeader"}, "also used by headerPrefix"},
		{"several problems at once", signature.Profile{Kind: signature.KindHMACHex, SignedContent: "x", IDHeader: "bad id"}, []string{"signatureHeader", "signedContent", "idHeader"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.profile.Validate()
			if len(tc.wantFields) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, signature.ErrInvalidProfile) {
				t.Fatalf("Validate = %v, want ErrInvalidProfile", err)
			}
			var pe *signature.ProfileError
			if !errors.As(err, &pe) {
				t.Fatalf("Validate = %T, want *ProfileError", err)
			}
			var fields []string
			for _, p := range pe.Problems {
				fields = append(fields, p.Field)
			}
			if strings.Join(fields, ",") != strings.Join(tc.wantFields, ",") {
				t.Errorf("problem fields = %v, want %v (%v)", fields, tc.wantFields, err)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("Validate = %q, want it to mention %q", err, tc.wantText)
			}
		})
	}
}

func TestPresets(t *testing.T) {
	t.Parallel()
	want := []string{"allfly", "cleartix", "showpass", "standard", "svix", "usetix"}
	if got := signature.PresetNames(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("PresetNames = %v, want %v", got, want)
	}
	for _, name := range want {
		p, ok := signature.Preset(strings.ToUpper(name))
		if !ok {
			t.Fatalf("Preset(%q) not found", name)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
	if allfly, _ := signature.Preset("allfly"); allfly != signature.Svix() {
		t.Errorf("allfly = %+v, want the svix profile", allfly)
	}
	if _, ok := signature.Preset("stripe"); ok {
		t.Error("Preset(stripe) found")
	}
	// Presets are copies: changing one must not change the next.
	p, _ := signature.Preset("cleartix")
	p.SignatureHeader = "X-Changed"
	if q, _ := signature.Preset("cleartix"); q.SignatureHeader != "X-ClearTix-Signature" {
		t.Error("changing a returned preset changed the preset")
	}
}

func TestParseProfile(t *testing.T) {
	t.Parallel()
	cleartix, _ := signature.Preset("cleartix")
	for _, tc := range []struct {
		name    string
		json    string
		want    signature.Profile
		wantErr string
	}{
		{"preset by name", `"cleartix"`, cleartix, ""},
		{"svix object", `{"kind":"standard","headerPrefix":"svix"}`, signature.Svix(), ""},
		{"empty object is standard", `{}`, signature.Profile{}, ""},
		{"hex object", `{"kind":"hmac-hex","signatureHeader":"X-ClearTix-Signature","signaturePrefix":"sha256=","signedContent":"body","eventTypeHeader":"X-ClearTix-Event"}`, cleartix, ""},
		{"unknown preset", `"stripe"`, signature.Profile{}, `unknown profile preset "stripe"`},
		{"unknown field", `{"kind":"hmac-hex","signatureHeadr":"X-Sig"}`, signature.Profile{}, `unknown field "signatureHeadr"`},
		{"invalid profile", `{"kind":"hmac-hex"}`, signature.Profile{}, "signatureHeader: is required"},
		{"not json", `{`, signature.Profile{}, "unexpected end"},
		{"null is the default", `null`, signature.Profile{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := signature.ParseProfile([]byte(tc.json))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseProfile = %v, want error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ParseProfile = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestProfileJSONRoundTrip checks the camelCase wire names and that every preset survives a
// trip through a config file, also when embedded in a larger document.
func TestProfileJSONRoundTrip(t *testing.T) {
	t.Parallel()
	usetix, _ := signature.Preset("usetix")
	b, err := json.Marshal(usetix)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"kind":"hmac-hex","signatureHeader":"X-Webhook-Signature","signedContent":"timestamp.body","timestampHeader":"X-Webhook-Timestamp"}`
	if string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
	for _, name := range signature.PresetNames() {
		p, _ := signature.Preset(name)
		b, err := json.Marshal(struct {
			Signature signature.Profile `json:"signature"`
		}{p})
		if err != nil {
			t.Fatal(err)
		}
		var back struct {
			Signature signature.Profile `json:"signature"`
		}
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if back.Signature != p {
			t.Errorf("%s: round trip = %+v, want %+v", name, back.Signature, p)
		}
	}
}
