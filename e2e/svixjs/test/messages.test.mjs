// Messages and attempts through the Svix JavaScript SDK: every delivery is verified with the
// SDK's Webhook class at a real receiver, and its bytes are those that were sent.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageStatus, messageInRaw } from "svix";
import { apiStatus, checkModel, client, eventually, receiver, unique, verified, raw } from "../lib.mjs";

const svix = client();

async function setup(t, opts = {}) {
  const app = await svix.application.create({ name: "Messages", uid: unique("msgs") });
  const type = unique("ticket.sold");
  await svix.eventType.create({ name: type, description: type, schemas: opts.schemas });
  const rec = await receiver(t, opts);
  const ep = await svix.endpoint.create(app.id, { url: rec.url, description: "receiver" });
  const secret = (await svix.endpoint.getSecret(app.id, ep.id)).key;
  return { app, type, rec, ep, secret };
}

test("messages: create, get, list; deliveries verify and carry the bytes sent", async (t) => {
  const { app, type, rec, ep, secret } = await setup(t);
  const payload = { id: "evt_1", data: { orderId: "ord_1", total: "45.00", seats: [1, 2], note: "ünïcødé ✓" } };
  // The 2.x SDK asks with_content=false unless told: the answer then leaves the payload out.
  const msg = checkModel(await svix.message.create(app.id, { eventType: type, eventId: unique("evt"), payload, channels: ["eu"], tags: ["vip"] }, { withContent: true }), "MessageOut");
  assert.equal(msg.eventType, type);
  assert.deepEqual(msg.payload, payload);
  assert.deepEqual(msg.channels, ["eu"]);
  assert.deepEqual(msg.tags, ["vip"]);
  const [req] = await rec.waitFor(1);
  assert.equal(verified(req, secret), JSON.stringify(payload), "the delivered body is the payload as the SDK sent it");
  assert.equal(req.headers["webhook-id"], msg.id);

  for (const key of [msg.id, msg.eventId]) {
    const got = checkModel(await svix.message.get(app.id, key, { withContent: true }), "MessageOut");
    assert.equal(got.id, msg.id);
    assert.deepEqual(got.payload, payload);
  }
  const bare = checkModel(await svix.message.get(app.id, msg.id), "MessageOut");
  assert.deepEqual(bare.payload, {}, "svix@2 asks without content by default");
  const page = checkModel(await svix.message.list(app.id, { limit: 10, withContent: true }), "ListResponseMessageOut");
  assert.deepEqual(page.data.map((m) => m.id), [msg.id]);
  const eu = checkModel(await svix.message.list(app.id, { channel: "eu" }), "ListResponseMessageOut");
  assert.deepEqual(eu.data.map((m) => m.id), [msg.id]);
  const us = checkModel(await svix.message.list(app.id, { channel: "us" }), "ListResponseMessageOut");
  assert.deepEqual(us.data, []);

  // The message created with the application in its body creates the application.
  const newUid = unique("implicit-app");
  const viaApp = checkModel(await svix.message.create(newUid, { eventType: type, payload: { n: 1 }, application: { name: "Made by a message", uid: newUid } }), "MessageOut");
  assert.ok(viaApp.id);
  assert.deepEqual(viaApp.payload, {}, "with_content=false (the SDK's default) leaves the payload out of the answer");
  assert.equal((await svix.application.get(newUid)).name, "Made by a message");
  await svix.endpoint.delete(app.id, ep.id);
});

test("a raw payload (messageInRaw) is delivered byte for byte", async (t) => {
  const { app, type, rec, secret } = await setup(t, {
    schemas: { 1: { type: "object", required: ["orderId"], properties: { orderId: { type: "string" } } } },
  });
  const text = '{\n  "orderId" : "ord_raw",\t"total": 45.000, "z": 1e3, "a": "\\u00e9"\n}';
  const msg = checkModel(await svix.message.create(app.id, messageInRaw(type, text)), "MessageOut");
  const [req] = await rec.waitFor(1);
  assert.equal(verified(req, secret), text, "the receiver got exactly the raw text");
  assert.equal(req.body.toString("utf8"), text);
  const got = checkModel(await svix.message.get(app.id, msg.id, { withContent: true }), "MessageOut");
  assert.deepEqual(got.payload, JSON.parse(text));
  // Raw text is schema-checked like any payload.
  const bad = await apiStatus(svix.message.create(app.id, messageInRaw(type, '{"orderId": 7}')));
  assert.equal(bad.code, 422);
  assert.equal(rec.requests.length, 1, "a refused message is not delivered");
});

test("attempts: a failing receiver, then resend, recover, send-example; every list and get", async (t) => {
  let fail = true;
  const { app, type, rec, ep, secret } = await setup(t, { status: () => (fail ? 500 : 200) });
  const payload = { order: "ord_attempts" };
  const msg = await svix.message.create(app.id, { eventType: type, payload });
  const [first] = await rec.waitFor(1);
  assert.equal(verified(first, secret), JSON.stringify(payload));

  const failed = await eventually("the failed attempt", async () => {
    const page = checkModel(await svix.messageAttempt.listByMsg(app.id, msg.id, { status: MessageStatus.Fail }), "ListResponseMessageAttemptOut");
    return page.data[0];
  });
  assert.equal(failed.responseStatusCode, 500);
  assert.equal(failed.msgId, msg.id);
  assert.equal(failed.endpointId, ep.id);
  const byEndpoint = checkModel(await svix.messageAttempt.listByEndpoint(app.id, ep.id, { withMsg: true }), "ListResponseMessageAttemptOut");
  assert.deepEqual(byEndpoint.data.map((a) => a.id), [failed.id]);
  const one = checkModel(await svix.messageAttempt.get(app.id, msg.id, failed.id), "MessageAttemptOut");
  assert.equal(one.id, failed.id);
  assert.equal(one.status, MessageStatus.Fail);
  // svix@2 has no methods for these two; Svix's document has them.
  const sentHeaders = await raw("GET", `/api/v1/app/${app.id}/msg/${msg.id}/attempt/${failed.id}/headers`);
  assert.equal(sentHeaders.status, 200);
  const sentId = Object.entries(sentHeaders.body.sentHeaders).find(([k]) => k.toLowerCase() === "webhook-id");
  assert.equal(sentId?.[1], msg.id, "the attempt's sent headers hold its webhook-id");
  const toEndpoint = await raw("GET", `/api/v1/app/${app.id}/msg/${msg.id}/endpoint/${ep.id}/attempt`);
  assert.equal(toEndpoint.status, 200);
  assert.deepEqual(toEndpoint.body.data.map((a) => a.id), [failed.id]);

  const attempted = checkModel(await svix.messageAttempt.listAttemptedMessages(app.id, ep.id), "ListResponseEndpointMessageOut");
  assert.deepEqual(attempted.data.map((m) => m.id), [msg.id]);
  const dests = checkModel(await svix.messageAttempt.listAttemptedDestinations(app.id, msg.id), "ListResponseMessageEndpointOut");
  assert.deepEqual(dests.data.map((d) => d.id), [ep.id]);

  // The receiver recovers: a manual resend is delivered at once and succeeds.
  fail = false;
  await svix.messageAttempt.resend(app.id, msg.id, ep.id);
  const [, resent] = await rec.waitFor(2);
  assert.equal(verified(resent, secret), JSON.stringify(payload));
  await eventually("the successful attempt", async () =>
    checkModel(await svix.messageAttempt.listByMsg(app.id, msg.id, { status: MessageStatus.Success }), "ListResponseMessageAttemptOut").data.length === 1);

  // recover sends again what failed since a time: one more message fails first.
  fail = true;
  const second = await svix.message.create(app.id, { eventType: type, payload: { order: "ord_recover" } });
  await rec.waitFor(3);
  await eventually("the second message's failure", async () =>
    (await svix.messageAttempt.listByMsg(app.id, second.id, { status: MessageStatus.Fail })).data.length === 1);
  fail = false;
  const recovered = checkModel(await svix.endpoint.recover(app.id, ep.id, { since: new Date(Date.now() - 3600e3) }), "RecoverOut");
  assert.ok(recovered.id);
  const [, , , again] = await rec.waitFor(4);
  assert.equal(verified(again, secret), JSON.stringify({ order: "ord_recover" }));

  const example = checkModel(await svix.endpoint.sendExample(app.id, ep.id, { eventType: "test.webhook" }), "MessageOut");
  const [, , , , ex] = await rec.waitFor(5);
  assert.equal(ex.headers["webhook-id"], example.id);
  assert.equal(verified(ex, secret), JSON.stringify(example.payload));

  await eventually("three messages delivered in the endpoint's stats", async () =>
    checkModel(await svix.endpoint.getStats(app.id, ep.id), "EndpointStats").success === 3);
});

test("an event type's own retry schedule decides when a failed message is tried again", async (t) => {
  // The test server retries nothing by default; this event type retries once, after a second.
  let fail = true;
  const { app, type, rec, secret } = await setup(t, { status: () => (fail ? 503 : 200) });
  const put = await raw("PUT", `/api/v1/event-type/${type}/retry-schedule`, { retrySchedule: [{ secs: 1, nanos: 0 }] });
  assert.equal(put.status, 200);
  const payload = { order: "ord_retry" };
  const msg = await svix.message.create(app.id, { eventType: type, payload });
  const [first] = await rec.waitFor(1);
  fail = false;
  const [, retried] = await rec.waitFor(2, 15000);
  assert.equal(verified(retried, secret), JSON.stringify(payload));
  assert.equal(retried.headers["webhook-id"], msg.id);
  assert.ok(retried.at - first.at >= 700, `retried after ${Math.round(retried.at - first.at)} ms; the schedule says 1 s (less at most 20 % jitter)`);
  await eventually("the retry recorded as a success", async () =>
    checkModel(await svix.messageAttempt.listByMsg(app.id, msg.id, { status: MessageStatus.Success }), "ListResponseMessageAttemptOut").data.length === 1);
});
