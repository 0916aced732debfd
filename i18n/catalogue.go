// Package i18n is the one catalogue of every string the dashboard and the customer portal show:
// message ids mapped to English and German text (messages/en.json, messages/de.json), with
// named placeholders ("{count}") and plural forms, plus an installation's overrides (a JSON
// file named by --strings, checked at start). A Printer is the catalogue in one language; it
// also formats numbers and dates the way that language writes them.
//
// Adding a language: copy messages/en.json to messages/<tag>.json, translate every value (keep
// each placeholder), add the tag to Languages and, when its plural rule is not English's, to
// pluralRules. TestEveryLanguageHasEveryMessage fails until every id is there.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

// Languages are the languages shipped, English first: it is the fallback for any id a
// language lacks, and the language of a browser that asks for none of them.
var Languages = []string{"en", "de"}

// Default is the language of pages whose visitor names no language Hookline has.
const Default = "en"

//go:embed messages/*.json
var messagesFS embed.FS

// Message is one entry of the catalogue: Other is its text, and One, when set, its text for a
// count of one (the message then takes a {count} placeholder that picks the form).
type Message struct {
	One   string `json:"one,omitempty"`
	Other string `json:"other"`
}

// UnmarshalJSON reads a message written as a plain string or as {"one": …, "other": …}.
func (m *Message) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*m = Message{Other: s}
		return nil
	}
	type plain Message
	var p plain
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("a message is a string or {\"one\": …, \"other\": …}: %w", err)
	}
	if p.Other == "" {
		return fmt.Errorf("a plural message needs \"other\"")
	}
	*m = Message(p)
	return nil
}

// Catalogue holds every language's messages, overrides applied.
type Catalogue struct {
	langs   map[string]map[string]Message
	tags    []language.Tag
	matcher language.Matcher
	def     string
	// printers are made once per language; Printers are read-only.
	printers map[string]*Printer
}

// Overrides are an installation's own texts: language → message id → text.
type Overrides map[string]map[string]Message

var placeholderRE = regexp.MustCompile(`\{([a-zA-Z][a-zA-Z0-9]*)\}`)

// placeholders returns the sorted set of placeholder names of a message's forms.
func placeholders(m Message) []string {
	set := map[string]bool{}
	for _, text := range []string{m.One, m.Other} {
		for _, p := range placeholderRE.FindAllStringSubmatch(text, -1) {
			set[p[1]] = true
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// New loads the shipped catalogue and applies overrides; def is the installation's default
// language ("" for English). It refuses an override of an id the catalogue does not have, of
// a language it does not have, or whose placeholders are not the English message's.
func New(def string, overrides Overrides) (*Catalogue, error) {
	c := &Catalogue{langs: map[string]map[string]Message{}, printers: map[string]*Printer{}}
	for _, lang := range Languages {
		b, err := messagesFS.ReadFile("messages/" + lang + ".json")
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		msgs := map[string]Message{}
		if err := json.Unmarshal(b, &msgs); err != nil {
			return nil, fmt.Errorf("i18n: messages/%s.json: %w", lang, err)
		}
		c.langs[lang] = msgs
		c.tags = append(c.tags, language.MustParse(lang))
	}
	c.matcher = language.NewMatcher(c.tags)
	if def == "" {
		def = Default
	}
	if !c.Has(def) {
		return nil, fmt.Errorf("i18n: default language %q: Hookline has %s", def, strings.Join(Languages, ", "))
	}
	c.def = def
	if err := c.apply(overrides); err != nil {
		return nil, err
	}
	for _, lang := range Languages {
		c.printers[lang] = newPrinter(c, lang)
	}
	return c, nil
}

// apply checks and applies overrides, naming every problem at once.
func (c *Catalogue) apply(o Overrides) error {
	var problems []string
	langs := make([]string, 0, len(o))
	for lang := range o {
		langs = append(langs, lang)
	}
	sort.Strings(langs)
	en := c.langs["en"]
	for _, lang := range langs {
		msgs, ok := c.langs[lang]
		if !ok {
			problems = append(problems, fmt.Sprintf("language %q: Hookline has %s", lang, strings.Join(Languages, ", ")))
			continue
		}
		ids := make([]string, 0, len(o[lang]))
		for id := range o[lang] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			m := o[lang][id]
			base, ok := en[id]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: %q is not a message id", lang, id))
				continue
			}
			if got, want := placeholders(m), placeholders(base); !slices.Equal(got, want) {
				problems = append(problems, fmt.Sprintf("%s: %q has placeholders %s, the message has %s", lang, id, braces(got), braces(want)))
				continue
			}
			if m.One != "" && base.One == "" {
				problems = append(problems, fmt.Sprintf("%s: %q has a \"one\" form, but the message has no count", lang, id))
				continue
			}
			msgs[id] = m
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("i18n: overrides refused: %s", strings.Join(problems, "; "))
	}
	return nil
}

func braces(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "{" + n + "}"
	}
	return strings.Join(out, " ")
}

// Has reports whether lang is a language of the catalogue.
func (c *Catalogue) Has(lang string) bool {
	_, ok := c.langs[lang]
	return ok
}

// Default is the installation's default language.
func (c *Catalogue) Default() string { return c.def }

// Match picks the language for an Accept-Language header; the default when it names none of
// the catalogue's languages.
func (c *Catalogue) Match(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return c.def
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return c.def
	}
	return Languages[i]
}

// Printer returns the catalogue in lang; in the default language when lang is not one of
// the catalogue's.
func (c *Catalogue) Printer(lang string) *Printer {
	if p, ok := c.printers[lang]; ok {
		return p
	}
	return c.printers[c.def]
}

// IDs returns every message id, sorted.
func (c *Catalogue) IDs() []string {
	ids := make([]string, 0, len(c.langs["en"]))
	for id := range c.langs["en"] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Lookup returns a language's message by id.
func (c *Catalogue) Lookup(lang, id string) (Message, bool) {
	m, ok := c.langs[lang][id]
	return m, ok
}
