// Operational webhook endpoints and the portal through the Svix JavaScript SDK.
import assert from "node:assert/strict";
import { test } from "node:test";
import { apiStatus, checkModel, client, eventually, receiver, unique, verified } from "../lib.mjs";

const svix = client();
const ops = svix.operationalWebhook.endpoint;

test("operational webhook endpoints: create, get, upsert, list, secret, delete; their events verify", async (t) => {
  const rec = await receiver(t);
  const uid = unique("ops");
  const opEp = checkModel(await ops.create({ url: rec.url, uid, description: "sre", metadata: { team: "sre" } }), "OperationalWebhookEndpointOut");
  t.after(() => ops.delete(opEp.id).catch(() => {}));
  assert.equal(opEp.uid, uid);
  assert.deepEqual(opEp.metadata, { team: "sre" });
  assert.deepEqual(checkModel(await ops.get(opEp.id), "OperationalWebhookEndpointOut"), opEp);
  const page = checkModel(await ops.list({ limit: 250 }), "ListResponseOperationalWebhookEndpointOut");
  assert.ok(page.data.some((e) => e.id === opEp.id));
  const upserted = checkModel(await ops.upsert(opEp.id, { url: rec.url, uid, description: "sre on call" }), "OperationalWebhookEndpointOut");
  assert.equal(upserted.description, "sre on call");

  await ops.setHeaders(opEp.id, { headers: { "X-Team": "sre", "X-Region": "eu" } });
  const headers = checkModel(await ops.getHeaders(opEp.id), "OperationalWebhookEndpointHeadersOut");
  assert.deepEqual(headers.headers, { "X-Team": "sre", "X-Region": "eu" });

  const secret = checkModel(await ops.getSecret(opEp.id), "OperationalWebhookEndpointSecretOut");
  assert.match(secret.key, /^whsec_/);
  await ops.rotateSecret(opEp.id, {});
  const key = checkModel(await ops.getSecret(opEp.id), "OperationalWebhookEndpointSecretOut").key;
  assert.notEqual(key, secret.key);

  // Disabling an ordinary endpoint by hand sends endpoint.disabled, signed with the new secret.
  const app = await svix.application.create({ name: "Ops events" });
  const target = await receiver(t);
  const ep = await svix.endpoint.create(app.id, { url: target.url });
  await svix.endpoint.patch(app.id, ep.id, { disabled: true });
  const got = await eventually("endpoint.disabled at the operational endpoint",
    () => rec.requests.find((r) => JSON.parse(verified(r, key)).data?.endpointId === ep.id));
  assert.equal(got.headers["x-team"], "sre", "the operational endpoint's custom headers are sent");
  assert.equal(got.headers["x-region"], "eu");
  const event = JSON.parse(got.body.toString());
  assert.equal(event.type, "endpoint.disabled");
  assert.equal(event.data.appId, app.id);

  await ops.delete(opEp.id);
  assert.equal((await apiStatus(ops.get(opEp.id))).code, 404);
});

test("operational webhook endpoints: eventTypes receive only those types", async (t) => {
  const disabledRec = await receiver(t);
  const enabledRec = await receiver(t);
  const onDisabled = checkModel(await ops.create({ url: disabledRec.url, eventTypes: ["endpoint.disabled"] }), "OperationalWebhookEndpointOut");
  const onEnabled = checkModel(await ops.create({ url: enabledRec.url, eventTypes: ["endpoint.enabled"], throttleRate: 50 }), "OperationalWebhookEndpointOut");
  t.after(async () => {
    await ops.delete(onDisabled.id).catch(() => {});
    await ops.delete(onEnabled.id).catch(() => {});
  });
  assert.deepEqual(onDisabled.eventTypes, ["endpoint.disabled"]);
  assert.equal(onEnabled.throttleRate, 50);
  const disabledKey = (await ops.getSecret(onDisabled.id)).key;
  const enabledKey = (await ops.getSecret(onEnabled.id)).key;

  const app = await svix.application.create({ name: "Ops filters" });
  const target = await receiver(t);
  const ep = await svix.endpoint.create(app.id, { url: target.url });
  await svix.endpoint.patch(app.id, ep.id, { disabled: true });
  const ofMine = (r, s) => JSON.parse(verified(r, s)).data?.endpointId === ep.id;
  await eventually("endpoint.disabled", () => disabledRec.requests.find((r) => ofMine(r, disabledKey)));
  await svix.endpoint.patch(app.id, ep.id, { disabled: false });
  await eventually("endpoint.enabled", () => enabledRec.requests.find((r) => ofMine(r, enabledKey)));
  for (const r of disabledRec.requests) assert.equal(JSON.parse(verified(r, disabledKey)).type, "endpoint.disabled");
  for (const r of enabledRec.requests) assert.equal(JSON.parse(verified(r, enabledKey)).type, "endpoint.enabled");
});

test("app portal access", async () => {
  const app = await svix.application.create({ name: "Portal", uid: unique("portal") });
  const link = checkModel(await svix.authentication.appPortalAccess(app.id, {}), "AppPortalAccessOut");
  assert.ok(link.url.startsWith("http"));
  assert.ok(link.token);
  const res = await fetch(link.url, { redirect: "manual" });
  assert.ok(res.status < 400, `the magic link answers ${res.status}`);
});
