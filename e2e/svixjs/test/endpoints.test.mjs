// Endpoints through the Svix JavaScript SDK: the settings routes, and what the current field
// names (eventTypes, throttleRate) do to real deliveries.
import assert from "node:assert/strict";
import { test } from "node:test";
import { apiStatus, checkModel, client, receiver, unique, verified } from "../lib.mjs";

const svix = client();

async function eventType(name) {
  await svix.eventType.create({ name, description: name });
  return name;
}

test("endpoints: create, get, upsert, patch, list, secret, headers, stats, delete", async (t) => {
  const app = await svix.application.create({ name: "Endpoints" });
  const paid = await eventType(unique("order.paid"));
  const rec = await receiver(t);
  const uid = unique("crm");
  const ep = checkModel(await svix.endpoint.create(app.id, {
    url: rec.url, uid, description: "CRM sync", channels: ["eu"], metadata: { team: "crm" }, headers: { "X-Team": "crm" },
  }), "EndpointOut");
  assert.equal(ep.url, rec.url);
  assert.equal(ep.uid, uid);
  assert.equal(ep.description, "CRM sync");
  assert.deepEqual(ep.channels, ["eu"]);
  assert.deepEqual(ep.metadata, { team: "crm" });
  for (const key of [ep.id, uid]) {
    assert.deepEqual(checkModel(await svix.endpoint.get(app.id, key), "EndpointOut"), ep);
  }

  const patched = checkModel(await svix.endpoint.patch(app.id, ep.id, { description: "CRM" }), "EndpointOut");
  assert.equal(patched.description, "CRM");
  assert.deepEqual(patched.channels, ["eu"], "PATCH keeps what it does not name");

  const upserted = checkModel(await svix.endpoint.upsert(app.id, ep.id, { url: rec.url, description: "CRM again" }), "EndpointOut");
  assert.equal(upserted.description, "CRM again");
  assert.equal(upserted.uid ?? null, null, "PUT replaces: the uid that was not sent is gone");
  const byPut = checkModel(await svix.endpoint.upsert(app.id, unique("put-created"), { url: rec.url, description: "made by PUT" }), "EndpointOut");
  assert.equal(byPut.description, "made by PUT");

  const page = checkModel(await svix.endpoint.list(app.id, { limit: 250 }), "ListResponseEndpointOut");
  assert.deepEqual(page.data.map((e) => e.id).sort(), [ep.id, byPut.id].sort());

  const secret = checkModel(await svix.endpoint.getSecret(app.id, ep.id), "EndpointSecretOut");
  assert.match(secret.key, /^whsec_/);
  await svix.endpoint.rotateSecret(app.id, ep.id, {});
  const rotated = checkModel(await svix.endpoint.getSecret(app.id, ep.id), "EndpointSecretOut");
  assert.notEqual(rotated.key, secret.key);
  const mine = "whsec_" + Buffer.alloc(32, 7).toString("base64");
  await svix.endpoint.rotateSecret(app.id, ep.id, { key: mine });
  assert.equal(checkModel(await svix.endpoint.getSecret(app.id, ep.id), "EndpointSecretOut").key, mine);

  await svix.endpoint.setHeaders(app.id, ep.id, { headers: { "X-Team": "crm", "X-Region": "eu" } });
  let headers = checkModel(await svix.endpoint.getHeaders(app.id, ep.id), "EndpointHeadersOut");
  assert.deepEqual(headers.headers, { "X-Team": "crm", "X-Region": "eu" });
  await svix.endpoint.patchHeaders(app.id, ep.id, { headers: { "X-Region": null, "X-Plan": "pro" } });
  headers = checkModel(await svix.endpoint.getHeaders(app.id, ep.id), "EndpointHeadersOut");
  assert.deepEqual(headers.headers, { "X-Team": "crm", "X-Plan": "pro" });

  const stats = checkModel(await svix.endpoint.getStats(app.id, ep.id), "EndpointStats");
  assert.deepEqual(stats, { success: 0, pending: 0, sending: 0, fail: 0, canceled: 0 });

  // A refused request is a 422 the SDK reads as Svix's HTTPValidationError: detail names the field.
  const bad = await apiStatus(svix.endpoint.create(app.id, { url: "not a url" }));
  assert.equal(bad.code, 422);
  assert.ok(Array.isArray(bad.body.detail), `detail is a list: ${JSON.stringify(bad.body)}`);
  assert.deepEqual(bad.body.detail[0].loc, ["body", "url"]);
  assert.ok(bad.body.detail[0].msg && bad.body.detail[0].type);

  await svix.endpoint.delete(app.id, byPut.id);
  assert.equal((await apiStatus(svix.endpoint.get(app.id, byPut.id))).code, 404);
});

test("endpoints: eventTypes and throttleRate on create, get, patch and upsert", async (t) => {
  const app = await svix.application.create({ name: "Endpoint fields" });
  const paid = await eventType(unique("order.paid"));
  const rec = await receiver(t);
  const ep = checkModel(await svix.endpoint.create(app.id, { url: rec.url, eventTypes: [paid], throttleRate: 10 }), "EndpointOut");
  assert.deepEqual(ep.eventTypes, [paid]);
  assert.equal(ep.throttleRate, 10);
  assert.deepEqual(checkModel(await svix.endpoint.get(app.id, ep.id), "EndpointOut"), ep);
  const patched = checkModel(await svix.endpoint.patch(app.id, ep.id, { throttleRate: 3 }), "EndpointOut");
  assert.equal(patched.throttleRate, 3);
  assert.deepEqual(patched.eventTypes, [paid], "PATCH keeps what it does not name");
  const cleared = checkModel(await svix.endpoint.patch(app.id, ep.id, { eventTypes: null, throttleRate: null }), "EndpointOut");
  assert.equal(cleared.eventTypes ?? null, null);
  assert.equal(cleared.throttleRate ?? null, null);
  const upserted = checkModel(await svix.endpoint.upsert(app.id, ep.id, { url: rec.url, eventTypes: [paid], throttleRate: 4 }), "EndpointOut");
  assert.deepEqual(upserted.eventTypes, [paid]);
  assert.equal(upserted.throttleRate, 4);
});

test("an endpoint created with eventTypes receives only those types", async (t) => {
  const app = await svix.application.create({ name: "Filters" });
  const paid = await eventType(unique("order.paid"));
  const refunded = await eventType(unique("order.refunded"));
  const only = await receiver(t);
  const all = await receiver(t);
  const onlyEp = await svix.endpoint.create(app.id, { url: only.url, eventTypes: [paid] });
  const allEp = await svix.endpoint.create(app.id, { url: all.url });
  const onlySecret = (await svix.endpoint.getSecret(app.id, onlyEp.id)).key;
  const allSecret = (await svix.endpoint.getSecret(app.id, allEp.id)).key;

  const sent = [];
  for (let i = 0; i < 3; i++) {
    for (const type of [paid, refunded]) {
      const payload = { type, n: i };
      const msg = checkModel(await svix.message.create(app.id, { eventType: type, payload }), "MessageOut");
      sent.push({ id: msg.id, type, body: JSON.stringify(payload) });
    }
  }
  const got = await all.waitFor(sent.length);
  const bodies = got.map((r) => verified(r, allSecret)).sort();
  assert.deepEqual(bodies, sent.map((s) => s.body).sort(), "the endpoint without a filter gets every message, byte for byte");

  // Every message has been delivered to the unfiltered endpoint; the filtered one had the same
  // chance. Wait for its three, then make sure the refunds never came.
  const filtered = await only.waitFor(3);
  await new Promise((r) => setTimeout(r, 300));
  const onlyBodies = only.requests.map((r) => verified(r, onlySecret)).sort();
  assert.deepEqual(onlyBodies, sent.filter((s) => s.type === paid).map((s) => s.body).sort(),
    `eventTypes [${paid}] must deliver only ${paid}`);
  assert.equal(filtered.length, 3);
  for (const s of sent) {
    const dests = checkModel(await svix.messageAttempt.listAttemptedDestinations(app.id, s.id), "ListResponseMessageEndpointOut");
    const ids = dests.data.map((d) => d.id).sort();
    assert.deepEqual(ids, (s.type === paid ? [onlyEp.id, allEp.id] : [allEp.id]).sort(), `destinations of ${s.type}`);
  }
});

test("an endpoint created with throttleRate 2 is throttled", async (t) => {
  const app = await svix.application.create({ name: "Throttle" });
  const type = await eventType(unique("order.paid"));
  const slow = await receiver(t);
  const free = await receiver(t);
  const ep = await svix.endpoint.create(app.id, { url: slow.url, throttleRate: 2 });
  assert.equal(ep.throttleRate, 2);
  await svix.endpoint.create(app.id, { url: free.url });
  const secret = (await svix.endpoint.getSecret(app.id, ep.id)).key;
  const total = 6;
  // Posted all at once, so that only the throttle spaces the requests (posts one after another
  // would space them too on a busy machine).
  await Promise.all(Array.from({ length: total }, (_, i) => svix.message.create(app.id, { eventType: type, payload: { n: i } })));
  await free.waitFor(total);
  const reqs = await slow.waitFor(total, 30000);
  reqs.forEach((r) => verified(r, secret));
  // At 2 a second, six requests leave 500 ms apart and span 2.5 s. An arrival may come late by
  // the jitter of a busy machine (up to 500 ms is allowed for here), which brings it closer to
  // the next: no window of 500 ms holds more than two, and the six span more than 2 s. Without
  // the throttle all six arrive within a few milliseconds; at 3 a second they would span 1.67 s.
  const at = reqs.map((r) => r.at);
  let most = 0;
  for (let i = 0; i < at.length; i++) {
    let n = 0;
    for (let j = i; j < at.length && at[j] - at[i] < 500; j++) n++;
    most = Math.max(most, n);
  }
  const span = at[at.length - 1] - at[0];
  t.diagnostic(`throttleRate 2: ${total} requests over ${Math.round(span)} ms, at most ${most} within 500 ms`);
  assert.ok(most <= 2, `${most} requests within 500 ms; throttleRate 2 allows 2 a second`);
  assert.ok(span >= 2000, `${total} requests in ${Math.round(span)} ms: faster than 2 a second`);
});
