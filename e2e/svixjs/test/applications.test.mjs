// Applications, event types and health through the Svix JavaScript SDK.
import assert from "node:assert/strict";
import { test } from "node:test";
import { apiStatus, checkModel, client, raw, unique, whenServed } from "../lib.mjs";

const svix = client();

test("health", async () => {
  assert.equal(await svix.health.get(), undefined);
});

test("applications: create, get, get-or-create, upsert, patch, list, delete", async () => {
  const uid = unique("acme");
  const app = checkModel(await svix.application.create({ name: "Acme Events", uid, metadata: { plan: "pro" } }), "ApplicationOut");
  assert.equal(app.name, "Acme Events");
  assert.equal(app.uid, uid);
  assert.deepEqual(app.metadata, { plan: "pro" });

  for (const key of [app.id, uid]) {
    assert.deepEqual(checkModel(await svix.application.get(key), "ApplicationOut"), app);
  }
  const same = checkModel(await svix.application.getOrCreate({ name: "Other", uid }), "ApplicationOut");
  assert.equal(same.id, app.id);
  assert.equal(same.name, "Acme Events");

  const upserted = checkModel(await svix.application.upsert(app.id, { name: "Acme Ltd", uid, metadata: { plan: "enterprise" } }), "ApplicationOut");
  assert.equal(upserted.name, "Acme Ltd");
  const created = checkModel(await svix.application.upsert(unique("upserted"), { name: "Created by PUT" }), "ApplicationOut");
  assert.equal(created.name, "Created by PUT");

  const patched = checkModel(await svix.application.patch(app.id, { name: "Acme" }), "ApplicationOut");
  assert.equal(patched.name, "Acme");
  assert.deepEqual(patched.metadata, { plan: "enterprise" });

  const page = checkModel(await svix.application.list({ limit: 250 }), "ListResponseApplicationOut");
  assert.ok(page.data.some((a) => a.id === app.id));

  await svix.application.delete(app.id);
  assert.equal((await apiStatus(svix.application.get(app.id))).code, 404);
});

test("applications: throttleRate", async () => {
  const app = checkModel(await svix.application.create({ name: "Throttled", throttleRate: 20 }), "ApplicationOut");
  assert.equal(app.throttleRate, 20);
  const patched = checkModel(await svix.application.patch(app.id, { throttleRate: 7 }), "ApplicationOut");
  assert.equal(patched.throttleRate, 7);
  const upserted = checkModel(await svix.application.upsert(app.id, { name: "Throttled" }), "ApplicationOut");
  assert.equal(upserted.throttleRate ?? null, null, "PUT replaces: the throttle rate that was not sent is gone");
});

test("event types: create, get, upsert, patch, list, archive, expunge", async () => {
  const name = unique("order.paid");
  const schema = { type: "object", required: ["orderId"], properties: { orderId: { type: "string" } } };
  const et = checkModel(await svix.eventType.create({ name, description: "An order was paid", schemas: { 1: schema }, groupName: "orders" }), "EventTypeOut");
  assert.equal(et.name, name);
  assert.equal(et.description, "An order was paid");
  assert.deepEqual(et.schemas, { 1: schema });
  assert.deepEqual(checkModel(await svix.eventType.get(name), "EventTypeOut"), et);

  const upserted = checkModel(await svix.eventType.upsert(name, { description: "Paid", schemas: { 1: schema } }), "EventTypeOut");
  assert.equal(upserted.description, "Paid");
  const patched = checkModel(await svix.eventType.patch(name, { deprecated: true }), "EventTypeOut");
  assert.equal(patched.deprecated, true);
  assert.equal(patched.description, "Paid");

  const page = checkModel(await svix.eventType.list({ limit: 250, withContent: true }), "ListResponseEventTypeOut");
  assert.ok(page.data.some((e) => e.name === name));

  // svix@2 has no method for the retry schedule; Svix's document has it.
  const noSchedule = await raw("GET", `/api/v1/event-type/${name}/retry-schedule`);
  assert.equal(noSchedule.status, 200);
  assert.equal(noSchedule.body.retrySchedule ?? null, null);
  const schedule = [{ secs: 1, nanos: 0 }, { secs: 60, nanos: 500000000 }];
  const put = await raw("PUT", `/api/v1/event-type/${name}/retry-schedule`, { retrySchedule: schedule });
  assert.equal(put.status, 200);
  assert.deepEqual(put.body.retrySchedule, schedule);
  assert.deepEqual((await raw("GET", `/api/v1/event-type/${name}/retry-schedule`)).body.retrySchedule, schedule);

  await svix.eventType.delete(name);
  assert.equal(checkModel(await svix.eventType.get(name), "EventTypeOut").archived, true);
  await svix.eventType.delete(name, { expunge: true });
  assert.equal((await apiStatus(svix.eventType.get(name))).code, 404);
});

test("event types: export to and import from an OpenAPI document", whenServed("v1.event-type.export-openapi", "v1.event-type.import-openapi"), async () => {
  const name = unique("invoice.sent");
  const schema = { type: "object", required: ["invoiceId"], properties: { invoiceId: { type: "string" } } };
  await svix.eventType.create({ name, description: "An invoice went out", schemas: { 1: schema }, groupName: "billing" });
  // svix@2 has no method for the export; Svix's document has it.
  const exported = await raw("POST", "/api/v1/event-type/export/openapi");
  assert.equal(exported.status, 202);
  const webhook = exported.body.data.spec.webhooks[name];
  assert.ok(webhook, `the export holds ${name}`);
  await svix.eventType.delete(name, { expunge: true });

  const spec = { openapi: "3.1.0", info: { title: "Billing", version: "1" }, webhooks: { [name]: webhook } };
  const dry = checkModel(await svix.eventType.importOpenapi({ spec, dryRun: true }), "EventTypeImportOpenApiOut");
  assert.deepEqual(dry.data.modified, []);
  assert.deepEqual(dry.data.toModify.map((e) => e.name), [name]);
  assert.equal((await apiStatus(svix.eventType.get(name))).code, 404, "a dry run changes nothing");
  const done = checkModel(await svix.eventType.importOpenapi({ spec }), "EventTypeImportOpenApiOut");
  assert.deepEqual(done.data.modified, [name]);
  const back = checkModel(await svix.eventType.get(name), "EventTypeOut");
  assert.equal(back.description, "An invoice went out");
  assert.deepEqual(back.schemas, { 1: schema });
  assert.equal(back.groupName, "billing");
});
