package ui

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/hookline/hookline"
)

// The event catalogue: what customers read to build their receivers. Every live event type of
// the installation, by group, with its description, an example payload and its schema as a
// table of fields; searchable (a GET form, so a search is a link), and each type has an anchor
// (/dashboard/catalogue#order.paid). Operators and portal sessions see it; a portal does not
// see types behind a feature flag, which its session does not have.

// maxCatalogueTypes bounds the event types the page reads.
const maxCatalogueTypes = 1000

type catalogueType struct {
	EventType hookline.EventType
	Fields    []schemaField
	Example   string
	Schema    string
	Version   string
}

type catalogueGroup struct {
	Name  string // "" for types without a group
	Types []catalogueType
}

type catalogueData struct {
	Query  string
	Groups []catalogueGroup
	// Total counts the types shown, All the types there are.
	Total, All int
	Truncated  bool
}

func (d *Dashboard) catalogue(w http.ResponseWriter, r *http.Request, s *session) error {
	var types []hookline.EventType
	opts := hookline.EventTypeListOptions{ListOptions: hookline.ListOptions{Limit: 250}}
	truncated := false
	for {
		page, err := d.store.ListEventTypes(r.Context(), opts)
		if err != nil {
			return err
		}
		types = append(types, page.Data...)
		if page.Done || len(page.Data) == 0 {
			break
		}
		if len(types) >= maxCatalogueTypes {
			truncated = true
			break
		}
		opts.Iterator = page.Data[len(page.Data)-1].Name
	}
	query := strings.TrimSpace(r.URL.Query().Get("q"))
	data := catalogueData{Query: query, Truncated: truncated}
	groups := map[string]*catalogueGroup{}
	for _, et := range types {
		if et.Archived || (s.Portal && et.FeatureFlag != "") {
			continue
		}
		data.All++
		ct := catalogueTypeOf(et)
		if !ct.matches(query) {
			continue
		}
		g := groups[et.GroupName]
		if g == nil {
			g = &catalogueGroup{Name: et.GroupName}
			groups[et.GroupName] = g
		}
		g.Types = append(g.Types, ct)
		data.Total++
	}
	for _, g := range groups {
		data.Groups = append(data.Groups, *g)
	}
	// Named groups by name, then the types without one.
	sort.Slice(data.Groups, func(i, j int) bool {
		a, b := data.Groups[i].Name, data.Groups[j].Name
		if (a == "") != (b == "") {
			return b == ""
		}
		return a < b
	})
	v := &view{Title: d.tr(r).T("catalogue.eventCatalogue"), Session: s, Nav: "catalogue", Data: data}
	if s.Portal {
		if app, err := d.store.GetApplication(r.Context(), s.AppID); err == nil {
			v.App = app
		}
	}
	return d.render(w, r, http.StatusOK, pageCatalogue, v)
}

func catalogueTypeOf(et hookline.EventType) catalogueType {
	doc, examples, version := splitSchema(&et)
	ct := catalogueType{EventType: et, Version: version}
	if len(doc) > 0 {
		b, _ := json.Marshal(doc)
		ct.Schema = prettyJSON(b)
		_, raw := et.LatestSchema()
		ct.Fields = schemaFields(raw)
	}
	if len(examples) > 0 {
		ct.Example = prettyJSON([]byte(examples[0]))
	}
	return ct
}

// matches reports whether the type fits a search: every word of q is in its name, group,
// description, or a field's path or description (case-insensitively).
func (ct catalogueType) matches(q string) bool {
	if q == "" {
		return true
	}
	var b strings.Builder
	b.WriteString(ct.EventType.Name + "\n" + ct.EventType.GroupName + "\n" + ct.EventType.Description)
	for _, f := range ct.Fields {
		b.WriteString("\n" + f.Path + "\n" + f.Description)
	}
	text := strings.ToLower(b.String())
	for _, word := range strings.Fields(strings.ToLower(q)) {
		if !strings.Contains(text, word) {
			return false
		}
	}
	return true
}
