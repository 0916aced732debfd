package i18n

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"
)

// Printer is the catalogue in one language.
type Printer struct {
	lang     string
	msgs     map[string]Message
	fallback map[string]Message
	plural   func(n int) bool // reports whether n takes the "one" form
	months   [12]string
	dec, grp string
}

// pluralRules say which counts take a message's "one" form, by language; a language not
// listed uses English's rule (exactly 1), which German shares.
var pluralRules = map[string]func(n int) bool{}

func newPrinter(c *Catalogue, lang string) *Printer {
	p := &Printer{lang: lang, msgs: c.langs[lang], fallback: c.langs["en"], plural: func(n int) bool { return n == 1 }}
	if rule, ok := pluralRules[lang]; ok {
		p.plural = rule
	}
	for i := range p.months {
		p.months[i] = p.T(fmt.Sprintf("date.month.%d", i+1))
	}
	p.dec, p.grp = p.T("number.decimal"), p.T("number.group")
	return p
}

// Lang is the printer's language tag, for <html lang>.
func (p *Printer) Lang() string { return p.lang }

// message finds id in the language, else in English.
func (p *Printer) message(id string) (Message, bool) {
	if m, ok := p.msgs[id]; ok {
		return m, true
	}
	m, ok := p.fallback[id]
	return m, ok
}

// T returns the message id with its placeholders filled from args, pairs of a name and a
// value: T("endpoints.count", "count", 3). An int argument named count picks the plural
// form; ints are written with the language's digit grouping. An id the catalogue lacks is
// returned as it is, so a missing message shows and a test finds it.
func (p *Printer) T(id string, args ...any) string {
	return p.format(id, args, func(s string) string { return s }, func(v any) string { return p.value(v) })
}

// HTML is T for templates: the message's text is escaped, an argument of type template.HTML
// (a link, a <time>, a <code>) is put in as it is, and every other argument is escaped.
func (p *Printer) HTML(id string, args ...any) template.HTML {
	return template.HTML(p.format(id, args, template.HTMLEscapeString, func(v any) string {
		if h, ok := v.(template.HTML); ok {
			return string(h)
		}
		return template.HTMLEscapeString(p.value(v))
	}))
}

func (p *Printer) format(id string, args []any, text func(string) string, value func(any) string) string {
	m, ok := p.message(id)
	if !ok {
		return text(id)
	}
	form := m.Other
	var named map[string]any
	if len(args) > 1 {
		named = make(map[string]any, len(args)/2)
	}
	for i := 0; i+1 < len(args); i += 2 {
		name, ok := args[i].(string)
		if !ok {
			name = fmt.Sprint(args[i])
		}
		named[name] = args[i+1]
		if name == "count" && m.One != "" {
			if n, ok := asInt(args[i+1]); ok && p.plural(n) {
				form = m.One
			}
		}
	}
	if !strings.Contains(form, "{") {
		return text(form)
	}
	var b strings.Builder
	rest := form
	for {
		open := strings.IndexByte(rest, '{')
		end := -1
		if open >= 0 {
			end = strings.IndexByte(rest[open:], '}')
		}
		if open < 0 || end < 0 {
			b.WriteString(text(rest))
			break
		}
		end += open
		b.WriteString(text(rest[:open]))
		if v, ok := named[rest[open+1:end]]; ok {
			b.WriteString(value(v))
		} else {
			b.WriteString(text(rest[open : end+1]))
		}
		rest = rest[end+1:]
	}
	return b.String()
}

func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case int32:
		return int(n), true
	case uint16:
		return int(n), true
	}
	return 0, false
}

func (p *Printer) value(v any) string {
	if n, ok := asInt(v); ok {
		return p.Int(n)
	}
	switch x := v.(type) {
	case float64:
		return p.Decimal(x, 1)
	case template.HTML:
		return string(x)
	}
	return fmt.Sprint(v)
}

// Int writes n with the language's digit grouping: 12,345 in English, 12.345 in German.
func (p *Printer) Int(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if len(s) > 4 { // 1234 stays as it is in both languages; 12,345 is grouped
		var b strings.Builder
		for i, r := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteString(p.grp)
			}
			b.WriteRune(r)
		}
		s = b.String()
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Number writes an integer of any Go integer type, or a float with one decimal, the
// language's way.
func (p *Printer) Number(v any) string { return p.value(v) }

// Decimal writes f with prec digits after the language's decimal separator (trailing zeros
// and a bare separator dropped): 97.5 in English, 97,5 in German.
func (p *Printer) Decimal(f float64, prec int) string {
	s := strconv.FormatFloat(f, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	whole, frac, _ := strings.Cut(s, ".")
	n, _ := strconv.Atoi(whole)
	out := p.Int(n)
	if strings.HasPrefix(whole, "-") && n == 0 {
		out = "-" + out
	}
	if frac != "" {
		out += p.dec + frac
	}
	return out
}

// Percent writes a share (0..1) as a percentage with at most one decimal: "97.5%", "97,5 %".
func (p *Printer) Percent(share float64) string {
	return p.T("number.percent", "n", p.Decimal(share*100, 1))
}

// Date writes t in UTC as the language writes a date and time: "6 Dec 2026, 21:04:05 UTC",
// "6. Dez. 2026, 21:04:05 UTC".
func (p *Printer) Date(t time.Time) string {
	t = t.UTC()
	return p.T("date.abs", "day", strconv.Itoa(t.Day()), "month", p.months[t.Month()-1],
		"year", strconv.Itoa(t.Year()), "time", t.Format("15:04:05"))
}

// Month is the short name of a month.
func (p *Printer) Month(m time.Month) string { return p.months[m-1] }

// Relative says how long ago (or how soon) t is from now, in words: "3 minutes ago",
// "vor 3 Minuten".
func (p *Printer) Relative(now, t time.Time) string {
	if t.IsZero() {
		return p.T("time.never")
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < 45*time.Second:
		return p.T("time.justNow")
	case d < 90*time.Second:
		s = p.T("time.minutes", "count", 1)
	case d < time.Hour:
		s = p.T("time.minutes", "count", int(d.Round(time.Minute)/time.Minute))
	case d < 90*time.Minute:
		s = p.T("time.hours", "count", 1)
	case d < 24*time.Hour:
		s = p.T("time.hours", "count", int(d.Round(time.Hour)/time.Hour))
	case d < 36*time.Hour:
		s = p.T("time.days", "count", 1)
	default:
		s = p.T("time.days", "count", int((d+12*time.Hour)/(24*time.Hour)))
	}
	if future {
		return p.T("time.in", "time", s)
	}
	return p.T("time.ago", "time", s)
}

// Script returns the messages app.js shows (relative times, "Copied"), by id, for the page
// to hand it: the script then speaks the page's language.
func (p *Printer) Script() map[string]string {
	out := map[string]string{}
	for _, id := range []string{"time.justNow", "time.ago", "time.in", "script.copied", "script.copiedAnnounce"} {
		out[id] = p.T(id)
	}
	for _, id := range []string{"time.minutes", "time.hours", "time.days", "script.newAttempts"} {
		m, _ := p.message(id)
		out[id+".one"] = m.One
		out[id+".other"] = m.Other
	}
	return out
}
