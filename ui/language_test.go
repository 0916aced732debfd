package ui

import (
	"regexp"
	"strings"
	"testing"
	"text/template/parse"
	"unicode"

	"github.com/hookline/hookline/i18n"
)

// visibleAttrs are the attributes whose values people read or hear.
var visibleAttrs = map[string]bool{"title": true, "aria-label": true, "placeholder": true, "alt": true, "data-confirm": true,
	"data-label": true}

// notWords are texts in templates that are not words of a language: a code sample's value.
var notWords = map[string]bool{"test.webhook": true}

// technicalPlaceholder matches placeholders that show the form of a value (a URL, a PEM
// block, a JSON object, a header name, a token prefix) rather than words.
var technicalPlaceholder = regexp.MustCompile(`://|-----|^\{|^function |_|^[^ ]*[-:.][^ ]*$`)

// TestTemplatesHaveNoTextOutsideTheCatalogue walks every parsed template's text nodes (the
// markup between actions) and fails on visible text, or a visible attribute's value, that
// holds a letter: every word a page shows must come from the catalogue through t. It also
// fails when t names an id the catalogue does not have.
func TestTemplatesHaveNoTextOutsideTheCatalogue(t *testing.T) {
	cat, err := i18n.New("", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &Dashboard{staticVer: "test"}
	pages, err := d.parsePages(cat.Printer("en"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[*parse.Tree]bool{}
	ids := 0
	for _, page := range pages {
		for _, tmpl := range page.Templates() {
			if tmpl.Tree == nil || seen[tmpl.Tree] {
				continue
			}
			seen[tmpl.Tree] = true
			var texts []string
			walk(tmpl.Tree.Root, func(n parse.Node) {
				switch n := n.(type) {
				case *parse.TextNode:
					texts = append(texts, string(n.Text))
				case *parse.ActionNode, *parse.TemplateNode:
					texts = append(texts, "\x00")
				}
				if c, ok := n.(*parse.CommandNode); ok && len(c.Args) >= 2 {
					if id, ok := c.Args[0].(*parse.IdentifierNode); ok && id.Ident == "t" {
						ids++
						if s, ok := c.Args[1].(*parse.StringNode); !ok {
							t.Errorf("template %s: t takes a literal message id: %s", tmpl.Name(), c)
						} else if _, ok := cat.Lookup("en", s.Text); !ok {
							t.Errorf("template %s: message id %q is not in the catalogue", tmpl.Name(), s.Text)
						}
					}
				}
			})
			// "invalid" writes attributes into the tag of the template that calls it.
			if tmpl.Name() == "invalid" {
				continue
			}
			for _, v := range visibleText(strings.Join(texts, "")) {
				t.Errorf("template %s: %q is not in the catalogue: use {{t \"id\"}}", tmpl.Name(), v)
			}
		}
	}
	if ids < 300 {
		t.Errorf("only %d t calls in the templates: the walk missed them", ids)
	}
}

// walk visits every node under n, in order.
func walk(n parse.Node, visit func(parse.Node)) {
	if n == nil {
		return
	}
	visit(n)
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, visit)
		}
	case *parse.ActionNode:
		walk(n.Pipe, visit)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walk(c, visit)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walk(a, visit)
		}
	case *parse.IfNode:
		walk(n.Pipe, visit)
		walk(n.List, visit)
		walk(n.ElseList, visit)
	case *parse.RangeNode:
		walk(n.Pipe, visit)
		walk(n.List, visit)
		walk(n.ElseList, visit)
	case *parse.WithNode:
		walk(n.Pipe, visit)
		walk(n.List, visit)
		walk(n.ElseList, visit)
	case *parse.TemplateNode:
		walk(n.Pipe, visit)
	}
}

// visibleText returns the pieces of markup that a browser shows as words: text outside tags,
// and the values of visibleAttrs; \x00 stands for an action and splits pieces.
func visibleText(markup string) []string {
	var out []string
	add := func(s string, attr string) {
		for _, piece := range strings.Split(s, "\x00") {
			piece = strings.Join(strings.Fields(piece), " ")
			if !strings.ContainsFunc(piece, unicode.IsLetter) || notWords[piece] {
				continue
			}
			if attr == "placeholder" && technicalPlaceholder.MatchString(piece) {
				continue
			}
			out = append(out, piece)
		}
	}
	state, attr, quote, name := "out", "", byte(0), ""
	var run strings.Builder
	for i := 0; i < len(markup); i++ {
		c := markup[i]
		switch state {
		case "out":
			if c == '<' && i+1 < len(markup) && (unicode.IsLetter(rune(markup[i+1])) || markup[i+1] == '/' || markup[i+1] == '!') {
				add(run.String(), "")
				run.Reset()
				state, name = "tag", ""
				continue
			}
			run.WriteByte(c)
		case "tag":
			switch {
			case c == '>':
				state = "out"
			case c == '=' && i+1 < len(markup) && (markup[i+1] == '"' || markup[i+1] == '\''):
				attr, quote, name = name, markup[i+1], ""
				i++
				state = "value"
			case c == ' ' || c == '\n' || c == '\t' || c == '\x00':
				name = ""
			default:
				name += string(c)
			}
		case "value":
			if c == quote {
				if visibleAttrs[attr] {
					add(run.String(), attr)
				}
				run.Reset()
				state = "tag"
				continue
			}
			run.WriteByte(c)
		}
	}
	add(run.String(), "")
	return out
}

// TestVisibleText checks the scanner the template test relies on.
func TestVisibleText(t *testing.T) {
	got := visibleText(`<p class="x" title="Hover me">Hello <a href="/y" aria-label="` + "\x00" + `">` + "\x00" + `</a> world</p><input placeholder="https://example.com"><input placeholder="any">`)
	want := []string{"Hover me", "Hello", "world", "any"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("visibleText = %q, want %q", got, want)
	}
}
