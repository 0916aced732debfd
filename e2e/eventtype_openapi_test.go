package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/hookline/hookline/internal/testserver"
)

// catalogue reads every event type (archived ones too) without its timestamps.
func catalogue(t *testing.T, srv *testserver.Instance) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, raw := range listAll(t, srv, "/api/v1/event-type?include_archived=true&with_content=true") {
		var et map[string]any
		if err := json.Unmarshal(raw, &et); err != nil {
			t.Fatal(err)
		}
		delete(et, "createdAt")
		delete(et, "updatedAt")
		out = append(out, et)
	}
	return out
}

type importOut struct {
	Data struct {
		Modified []string          `json:"modified"`
		ToModify *[]map[string]any `json:"to_modify"`
	} `json:"data"`
}

// TestEventTypesExportImportRoundTrip exports a catalogue as an OpenAPI document and imports it
// into a fresh server: the same catalogue, schemas (every version), groups, feature flags and
// deprecations included. Importing it once more changes nothing.
func TestEventTypesExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	a := testserver.Start(t, testserver.Options{})
	for _, et := range []map[string]any{
		{"name": "order.paid", "description": "A customer paid", "groupName": "order", "featureFlag": "beta-orders",
			"schemas": map[string]any{"1": mustJSON(t, `{"type":"object","required":["orderId"],"properties":{"orderId":{"type":"string"},"total":{"type":"number","minimum":0.5}}}`)}},
		{"name": "order.refunded", "description": "An order was refunded", "deprecated": true},
		{"name": "invoice.sent", "description": "An invoice went out",
			"schemas": map[string]any{"1": mustJSON(t, `{"type":"object"}`), "2": mustJSON(t, `{"type":"object","required":["invoiceId"]}`)}},
	} {
		a.Op("POST", "/api/v1/event-type", et, 201)
	}
	a.Op("POST", "/api/v1/event-type", map[string]any{"name": "legacy.thing", "description": "gone"}, 201)
	a.Op("DELETE", "/api/v1/event-type/legacy.thing", nil, 204) // archived: not exported

	var exp struct {
		ID        string                         `json:"id"`
		Status    string                         `json:"status"`
		Task      string                         `json:"task"`
		UpdatedAt string                         `json:"updatedAt"`
		Data      struct{ Spec json.RawMessage } `json:"data"`
	}
	a.Op("POST", "/api/v1/event-type/export/openapi", nil, 202).JSON(t, &exp)
	if !strings.HasPrefix(exp.ID, "qtask_") || exp.Status != "finished" || exp.Task != "sdk.generate" || exp.UpdatedAt == "" {
		t.Errorf("export answered %+v, want a finished sdk.generate task", exp)
	}
	// The export is a finished background task, which holds the document too.
	var task struct {
		ID, Status, Task string
		Data             struct{ Spec json.RawMessage }
	}
	a.Op("GET", "/api/v1/background-task/"+exp.ID, nil, 200).JSON(t, &task)
	if task.ID != exp.ID || task.Status != "finished" || task.Task != "sdk.generate" || string(task.Data.Spec) != string(exp.Data.Spec) {
		t.Errorf("background task %s: %+v, want the finished export with its document", exp.ID, task)
	}
	var doc struct {
		OpenAPI  string                    `json:"openapi"`
		Webhooks map[string]map[string]any `json:"webhooks"`
	}
	if err := json.Unmarshal(exp.Data.Spec, &doc); err != nil || doc.OpenAPI != "3.1.0" || len(doc.Webhooks) != 3 || doc.Webhooks["legacy.thing"] != nil {
		t.Fatalf("exported document: %v %s", err, exp.Data.Spec)
	}

	b := testserver.Start(t, testserver.Options{})
	var got importOut
	b.Op("POST", "/api/v1/event-type/import/openapi", map[string]any{"spec": exp.Data.Spec}, 200).JSON(t, &got)
	sameJSON(t, "modified", got.Data.Modified, []string{"invoice.sent", "order.paid", "order.refunded"})
	var want []map[string]any
	for _, et := range catalogue(t, a) {
		if et["archived"] != true {
			want = append(want, et)
		}
	}
	sameJSON(t, "the imported catalogue", catalogue(t, b), want)

	// Once more: nothing to change.
	b.Op("POST", "/api/v1/event-type/import/openapi", map[string]any{"spec": exp.Data.Spec}, 200).JSON(t, &got)
	if len(got.Data.Modified) != 0 {
		t.Errorf("a second import modified %v, want nothing", got.Data.Modified)
	}
}

// petSpec is an OpenAPI document as a platform would write one: YAML, with the webhook's
// schema in components.
const petSpec = `
openapi: 3.1.0
info:
  title: Webhook Example
  version: 1.0.0
webhooks:
  pet.new:
    post:
      summary: A new pet
      description: Information about a new pet in the system
      requestBody:
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/Pet"
      responses:
        "200":
          description: Return a 200 status to indicate that the data was received successfully
components:
  schemas:
    Pet:
      required: [id, name]
      properties:
        id: {type: integer, format: int64}
        name: {type: string}
        owner: {$ref: "#/components/schemas/Owner"}
    Owner:
      type: object
      required: [email]
      properties:
        email: {type: string}
`

// TestEventTypesImportFromAPlatformsDocument imports a YAML document with $refs: the schema
// is resolved into one that stands alone and is enforced on messages; a dry run changes
// nothing; replaceAll archives what the document does not name.
func TestEventTypesImportFromAPlatformsDocument(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "pet.old", "description": "An old pet"}, 201)

	var dry importOut
	srv.Op("POST", "/api/v1/event-type/import/openapi", map[string]any{"specRaw": petSpec, "dryRun": true, "replaceAll": true}, 200).JSON(t, &dry)
	if len(dry.Data.Modified) != 0 || dry.Data.ToModify == nil || len(*dry.Data.ToModify) != 1 {
		t.Fatalf("dry run answered %+v, want one event type to modify and none modified", dry)
	}
	wantSchema := mustJSON(t, `{"required":["id","name"],"properties":{"id":{"type":"integer","format":"int64"},"name":{"type":"string"},
		"owner":{"type":"object","required":["email"],"properties":{"email":{"type":"string"}}}}}`)
	sameJSON(t, "to_modify", (*dry.Data.ToModify)[0], map[string]any{"name": "pet.new", "description": "Information about a new pet in the system",
		"deprecated": false, "schemas": map[string]any{"1": wantSchema}})
	if n := len(catalogue(t, srv)); n != 1 {
		t.Fatalf("after a dry run the catalogue has %d event types, want 1", n)
	}

	var got importOut
	srv.Op("POST", "/api/v1/event-type/import/openapi", map[string]any{"specRaw": petSpec, "replaceAll": true}, 200).JSON(t, &got)
	sameJSON(t, "modified", got.Data.Modified, []string{"pet.new", "pet.old"})
	if got.Data.ToModify != nil {
		t.Errorf("to_modify outside a dry run: %v", *got.Data.ToModify)
	}
	cat := catalogue(t, srv)
	if len(cat) != 2 || cat[0]["name"] != "pet.new" || cat[1]["name"] != "pet.old" || cat[1]["archived"] != true {
		t.Fatalf("catalogue after the import: %v", cat)
	}
	sameJSON(t, "pet.new's schema", cat[0]["schemas"], map[string]any{"1": wantSchema})

	// The schema is enforced on messages.
	appID := createApp(t, srv, "Pets")
	if r := srv.Do("POST", "/api/v1/app/"+appID+"/msg", srv.Token, map[string]any{"eventType": "pet.new",
		"payload": map[string]any{"id": 1, "name": "Rex", "owner": map[string]any{}}}); r.Status != 422 || r.Code() != "schema_violation" {
		t.Errorf("a message without the owner's email: %d %s, want 422 schema_violation", r.Status, r.Body)
	}
	srv.Op("POST", "/api/v1/app/"+appID+"/msg", map[string]any{"eventType": "pet.new",
		"payload": map[string]any{"id": 1, "name": "Rex", "owner": map[string]any{"email": "a@b.example"}}}, 202)

	// Importing an archived event type brings it back.
	srv.Op("POST", "/api/v1/event-type/import/openapi", map[string]any{"spec": map[string]any{"openapi": "3.1.0",
		"x-webhooks": map[string]any{"pet.old": map[string]any{"post": map[string]any{"description": "An old pet"}}}}}, 200).JSON(t, &got)
	sameJSON(t, "modified", got.Data.Modified, []string{"pet.old"})
	var old struct{ Archived bool }
	srv.Op("GET", "/api/v1/event-type/pet.old", nil, 200).JSON(t, &old)
	if old.Archived {
		t.Error("pet.old is still archived after an import named it")
	}
}

// TestEventTypesImportRefusals: what cannot be imported is refused, naming the place, and
// changes nothing.
func TestEventTypesImportRefusals(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "Paid"}, 201)
	before := catalogue(t, srv)
	hook := func(post any) map[string]any {
		return map[string]any{"openapi": "3.1.0", "webhooks": map[string]any{"a.b": map[string]any{"post": post}}}
	}
	body := func(schema any) map[string]any {
		return map[string]any{"requestBody": map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": schema}}}}
	}
	appID := createApp(t, srv, "Acme")
	_, key := createToken(t, srv, map[string]any{"kind": "application", "appId": appID})
	for _, c := range []struct {
		what  string
		token string
		body  any
		want  int
		code  string
		loc   string
	}{
		{"neither spec nor specRaw", srv.Token, map[string]any{"dryRun": true}, 400, "bad_request", ""},
		{"both spec and specRaw", srv.Token, map[string]any{"spec": hook(map[string]any{}), "specRaw": "openapi: 3.1.0"}, 400, "bad_request", ""},
		{"a spec that is not an object", srv.Token, map[string]any{"spec": []any{1}}, 422, "validation", `["body","spec"]`},
		{"no webhooks", srv.Token, map[string]any{"spec": map[string]any{"openapi": "3.1.0", "paths": map[string]any{}}}, 422, "validation", `["body","spec"]`},
		{"text that is not YAML", srv.Token, map[string]any{"specRaw": "webhooks: [unclosed"}, 422, "validation", `["body","specRaw"]`},
		{"a webhook without post", srv.Token, map[string]any{"spec": map[string]any{"webhooks": map[string]any{"a.b": map[string]any{"get": map[string]any{}}}}}, 422, "validation", `["body","spec","webhooks","a.b"]`},
		{"a bad event type name", srv.Token, map[string]any{"spec": map[string]any{"webhooks": map[string]any{"a b": map[string]any{"post": map[string]any{}}}}}, 422, "validation", `["body","spec","webhooks","a b","name"]`},
		{"a $ref outside the document", srv.Token, map[string]any{"spec": hook(body(map[string]any{"$ref": "https://example.com/pet.json"}))}, 422, "validation", `["body","spec","webhooks","a.b","post","requestBody","content","application/json","schema"]`},
		{"a $ref to nothing", srv.Token, map[string]any{"spec": hook(body(map[string]any{"$ref": "#/components/schemas/Nope"}))}, 422, "validation", `["body","spec","webhooks","a.b","post","requestBody","content","application/json","schema"]`},
		{"a recursive schema", srv.Token, map[string]any{"spec": map[string]any{"webhooks": hook(body(map[string]any{"$ref": "#/components/schemas/Node"}))["webhooks"],
			"components": map[string]any{"schemas": map[string]any{"Node": map[string]any{"properties": map[string]any{"next": map[string]any{"$ref": "#/components/schemas/Node"}}}}}}}, 422, "validation", ""},
		{"a schema that does not compile", srv.Token, map[string]any{"spec": hook(body(map[string]any{"type": 5}))}, 422, "schema", `["body","spec","webhooks","a.b","schemas","1"]`},
		{"an unknown field", srv.Token, map[string]any{"spec": hook(map[string]any{}), "overwrite": true}, 422, "validation", `["body","overwrite"]`},
		{"dryRun and dry_run disagreeing", srv.Token, map[string]any{"spec": hook(map[string]any{}), "dryRun": true, "dry_run": false}, 422, "validation", `["body","dry_run"]`},
		{"an application token", key, map[string]any{"spec": hook(map[string]any{})}, 403, "forbidden", ""},
	} {
		r := srv.Do("POST", "/api/v1/event-type/import/openapi", c.token, c.body)
		if r.Status != c.want || (c.code != "" && r.Code() != c.code && !(c.code == "schema" && r.Code() == "validation")) {
			t.Errorf("import with %s: %d %s, want %d %s", c.what, r.Status, r.Body, c.want, c.code)
			continue
		}
		if c.loc != "" {
			var e struct {
				Detail []struct {
					Loc json.RawMessage `json:"loc"`
				} `json:"detail"`
			}
			r.JSON(t, &e)
			if len(e.Detail) == 0 || string(e.Detail[0].Loc) != c.loc {
				t.Errorf("import with %s: %s, want the error at %s", c.what, r.Body, c.loc)
			}
		}
	}
	if r := srv.Do("POST", "/api/v1/event-type/export/openapi", key, nil); r.Status != 403 {
		t.Errorf("export with an application token: %d, want 403", r.Status)
	}
	sameJSON(t, "the catalogue after the refusals", catalogue(t, srv), before)
}

// TestEventTypesImportAndLogoutWithTheGoSDK drives the routes of this file the Go SDK v1.44 has
// methods for: ImportOpenApi (which names dryRun dry_run, the 1.x spelling) and Logout.
func TestEventTypesImportAndLogoutWithTheGoSDK(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	sdk := newSDK(t, srv, srv.Token)
	ctx := t.Context()
	spec := petSpec
	dry, err := sdk.EventType.ImportOpenApi(ctx, svix.EventTypeImportOpenApiIn{SpecRaw: &spec, DryRun: ptr(true)})
	if err != nil {
		t.Fatalf("ImportOpenApi (dry run): %v", err)
	}
	if len(dry.Data.Modified) != 0 || len(dry.Data.ToModify) != 1 || dry.Data.ToModify[0].Name != "pet.new" {
		t.Fatalf("dry run answered %+v, want pet.new to modify and nothing modified", dry.Data)
	}
	if _, err := sdk.EventType.Get(ctx, "pet.new"); sdkStatus(err) != 404 {
		t.Fatalf("pet.new after a dry run: %v, want 404", err)
	}
	done, err := sdk.EventType.ImportOpenApi(ctx, svix.EventTypeImportOpenApiIn{SpecRaw: &spec})
	if err != nil || len(done.Data.Modified) != 1 || done.Data.Modified[0] != "pet.new" {
		t.Fatalf("ImportOpenApi = %+v, %v; want pet.new modified", done, err)
	}
	et, err := sdk.EventType.Get(ctx, "pet.new")
	if err != nil || et.Description != "Information about a new pet in the system" || len(et.Schemas) != 1 {
		t.Fatalf("pet.new = %+v, %v", et, err)
	}

	appID := createApp(t, srv, "Acme")
	link, err := sdk.Authentication.AppPortalAccess(ctx, appID, &svix.AppPortalAccessIn{})
	if err != nil {
		t.Fatalf("AppPortalAccess: %v", err)
	}
	if err := newSDK(t, srv, link.Token).Authentication.Logout(ctx); err != nil {
		t.Fatalf("Logout with the portal token: %v", err)
	}
	if r := srv.Do("GET", "/api/v1/auth/whoami", link.Token, nil); r.Status != 401 {
		t.Errorf("the portal token after Logout: status %d, want 401", r.Status)
	}
	if err := sdk.Authentication.Logout(ctx); sdkStatus(err) != 403 {
		t.Errorf("Logout with the operator token: %v, want 403", err)
	}
}
