package i18n

import (
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustNew(t *testing.T, def string, o Overrides) *Catalogue {
	t.Helper()
	c, err := New(def, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEveryLanguageHasEveryMessage: each shipped language has every id English has, no id
// English lacks, the same placeholders, and a "one" form where English has one.
func TestEveryLanguageHasEveryMessage(t *testing.T) {
	c := mustNew(t, "", nil)
	en := c.langs["en"]
	for _, lang := range Languages[1:] {
		msgs := c.langs[lang]
		for id, m := range en {
			tr, ok := msgs[id]
			if !ok {
				t.Errorf("%s lacks %q (English: %q)", lang, id, m.Other)
				continue
			}
			if !slices.Equal(placeholders(tr), placeholders(m)) {
				t.Errorf("%s %q has placeholders %v, English %v", lang, id, placeholders(tr), placeholders(m))
			}
			if (m.One == "") != (tr.One == "") {
				t.Errorf("%s %q: English and %s differ in having a \"one\" form", lang, id, lang)
			}
		}
		for id := range msgs {
			if _, ok := en[id]; !ok {
				t.Errorf("%s has %q, which English does not", lang, id)
			}
		}
	}
}

func TestPlaceholdersAndPlurals(t *testing.T) {
	c := mustNew(t, "", nil)
	en, de := c.Printer("en"), c.Printer("de")
	for _, tc := range []struct {
		p    *Printer
		n    int
		want string
	}{
		{en, 1, "1 delivery is being sent again."}, {en, 3, "3 deliveries are being sent again."},
		{en, 12345, "12,345 deliveries are being sent again."},
		{de, 1, "1 Zustellung wird erneut gesendet."}, {de, 3, "3 Zustellungen werden erneut gesendet."},
		{de, 12345, "12.345 Zustellungen werden erneut gesendet."},
	} {
		if got := tc.p.T("bulk.sent", "count", tc.n); got != tc.want {
			t.Errorf("%s bulk.sent %d = %q, want %q", tc.p.Lang(), tc.n, got, tc.want)
		}
	}
	if got := en.T("endpoint.testSent", "type", "order.paid", "id", "msg_1"); got != "Test order.paid sent (msg_1)." {
		t.Errorf("placeholders: %q", got)
	}
	// A placeholder without a value stays as it is, so the gap shows.
	if got := en.T("endpoint.deleted"); got != "Endpoint {url} deleted." {
		t.Errorf("missing value: %q", got)
	}
	if got := en.T("no.such.id"); got != "no.such.id" {
		t.Errorf("unknown id: %q", got)
	}
}

func TestHTMLEscapesTextAndValuesButNotMarkup(t *testing.T) {
	c := mustNew(t, "", Overrides{"en": {"apps.created": {Other: "<b>{name}</b> made"}}})
	p := c.Printer("en")
	if got := p.HTML("apps.created", "name", "<script>"); got != "&lt;b&gt;&lt;script&gt;&lt;/b&gt; made" {
		t.Errorf("escaped: %q", got)
	}
	if got := p.HTML("apps.created", "name", template.HTML("<code>x</code>")); got != "&lt;b&gt;<code>x</code>&lt;/b&gt; made" {
		t.Errorf("markup argument: %q", got)
	}
}

func TestFallbackToEnglish(t *testing.T) {
	c := mustNew(t, "", nil)
	delete(c.langs["de"], "endpoint.saved")
	if got := c.Printer("de").T("endpoint.saved"); got != "Endpoint saved." {
		t.Errorf("a German message that is missing: %q, want the English one", got)
	}
	if got := c.Printer("fr").Lang(); got != "en" {
		t.Errorf("a language Hookline lacks gives %q, want the default", got)
	}
	if got := mustNew(t, "de", nil).Printer("fr").Lang(); got != "de" {
		t.Errorf("with German as the default, a language Hookline lacks gives %q", got)
	}
}

func TestMatchAcceptLanguage(t *testing.T) {
	c := mustNew(t, "", nil)
	for header, want := range map[string]string{
		"de-DE,de;q=0.9,en;q=0.8": "de", "de-AT": "de", "en-US,en;q=0.9": "en", "fr-FR,de;q=0.5": "de",
		"fr-FR": "en", "": "en", "garbage;;": "en",
	} {
		if got := c.Match(header); got != want {
			t.Errorf("Match(%q) = %q, want %q", header, got, want)
		}
	}
	if got := mustNew(t, "de", nil).Match("fr"); got != "de" {
		t.Errorf("default de: Match(fr) = %q", got)
	}
	if _, err := New("fr", nil); err == nil {
		t.Error("a default language Hookline lacks was accepted")
	}
}

func TestOverrides(t *testing.T) {
	c := mustNew(t, "", Overrides{
		"de": {"common.signOut": {Other: "Ausloggen"}, "bulk.sent": {One: "Eine geht raus.", Other: "{count} gehen raus."}},
		"en": {"common.signOut": {Other: "Log out"}},
	})
	if got := c.Printer("de").T("common.signOut"); got != "Ausloggen" {
		t.Errorf("German override: %q", got)
	}
	if got := c.Printer("en").T("common.signOut"); got != "Log out" {
		t.Errorf("English override: %q", got)
	}
	if got := c.Printer("de").T("bulk.sent", "count", 1); got != "Eine geht raus." {
		t.Errorf("plural override: %q", got)
	}
	for _, tc := range []struct {
		o    Overrides
		want string
	}{
		{Overrides{"de": {"no.such.id": {Other: "x"}}}, `de: "no.such.id" is not a message id`},
		{Overrides{"fr": {"common.signOut": {Other: "x"}}}, `language "fr"`},
		{Overrides{"de": {"endpoint.deleted": {Other: "Gelöscht: {adresse}"}}}, `"endpoint.deleted" has placeholders {adresse}, the message has {url}`},
		{Overrides{"en": {"endpoint.saved": {Other: "Saved {count}"}}}, `"endpoint.saved" has placeholders {count}, the message has none`},
		{Overrides{"en": {"endpoint.saved": {One: "one", Other: "other"}}}, `has a "one" form`},
	} {
		_, err := New("", tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("override %v: error %v, want one saying %q", tc.o, err, tc.want)
		}
	}
}

func TestReadOverrides(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "strings.json")
	os.WriteFile(path, []byte(`{"de": {"common.signOut": "Tschüss", "bulk.sent": {"one": "Eine.", "other": "{count}."}}}`), 0o600)
	o, err := ReadOverrides(path)
	if err != nil {
		t.Fatal(err)
	}
	if o["de"]["common.signOut"].Other != "Tschüss" || o["de"]["bulk.sent"].One != "Eine." {
		t.Errorf("read %+v", o)
	}
	os.WriteFile(path, []byte(`{"de": {"common.signOut": {"few": "x"}}}`), 0o600)
	if _, err := ReadOverrides(path); err == nil {
		t.Error("an unknown plural form was accepted")
	}
	if _, err := ReadOverrides(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing file was accepted")
	}
	if o, err := ReadOverrides(""); o != nil || err != nil {
		t.Errorf("no file: %v %v", o, err)
	}
}

func TestNumbersAndDates(t *testing.T) {
	c := mustNew(t, "", nil)
	en, de := c.Printer("en"), c.Printer("de")
	at := time.Date(2026, 12, 6, 21, 4, 5, 0, time.UTC)
	for _, tc := range []struct{ got, want string }{
		{en.Int(1234), "1234"}, {en.Int(1234567), "1,234,567"}, {de.Int(1234567), "1.234.567"}, {de.Int(-12345), "-12.345"},
		{en.Percent(0.8333), "83.3%"}, {de.Percent(0.8333), "83,3\u00a0%"}, {en.Percent(1), "100%"},
		{en.Date(at), "6 Dec 2026, 21:04:05 UTC"}, {de.Date(at), "6. Dez. 2026, 21:04:05 UTC"},
		{en.Relative(at, at.Add(-3*time.Minute)), "3 minutes ago"}, {de.Relative(at, at.Add(-3*time.Minute)), "vor 3 Minuten"},
		{de.Relative(at, at.Add(-30*time.Hour)), "vor 1 Tag"}, {de.Relative(at, at.Add(72*time.Hour)), "in 3 Tagen"},
		{de.Relative(at, time.Time{}), "nie"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// BenchmarkT is the cost of one message on a page: a plain text, and one with a count and
// an escaped value.
func BenchmarkT(b *testing.B) {
	c, err := New("", nil)
	if err != nil {
		b.Fatal(err)
	}
	p := c.Printer("de")
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			p.HTML("common.deliveryHistory")
		}
	})
	b.Run("count", func(b *testing.B) {
		for b.Loop() {
			p.HTML("bulk.sent", "count", 12345)
		}
	})
}
