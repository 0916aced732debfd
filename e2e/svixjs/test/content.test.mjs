// Message content through the Svix JavaScript SDK: raw payloads, tags, precheck, search, the
// message stream, test attempts, and expunging payloads and response bodies for good.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BulkExpungeStatus, MessageStatus } from "svix";
import { checkModel, client, eventually, raw, receiver, unique, verified, whenServed } from "../lib.mjs";

const svix = client();

async function setup(t, opts) {
  const app = await svix.application.create({ name: "Content", uid: unique("content") });
  const type = unique("order.paid");
  await svix.eventType.create({ name: type, description: type });
  const rec = await receiver(t, opts);
  const ep = await svix.endpoint.create(app.id, { url: rec.url });
  const secret = (await svix.endpoint.getSecret(app.id, ep.id)).key;
  return { app, type, rec, ep, secret };
}

test("raw payload, tags, precheck and search", whenServed("v1.message.get-raw-payload", "v1.message.precheck", "v1.message.search"), async (t) => {
  const { app, type, rec, secret } = await setup(t);
  const payload = { order: "ord_1", amount: "45.00" };
  const vip = await svix.message.create(app.id, { eventType: type, payload, tags: ["vip"], channels: ["eu"] });
  const plain = await svix.message.create(app.id, { eventType: type, payload: { order: "ord_2" } });
  const got = await rec.waitFor(2);
  const bodies = got.map((r) => verified(r, secret));
  assert.ok(bodies.includes(JSON.stringify(payload)));

  // svix@2 has no method for the raw payload; Svix's document has it.
  const rawOut = await raw("GET", `/api/v1/app/${app.id}/msg/${vip.id}/raw`);
  assert.equal(rawOut.status, 200);
  assert.equal(rawOut.body.payload, JSON.stringify(payload), "the raw payload is the text the SDK sent");

  const tagged = checkModel(await svix.message.list(app.id, { tag: "vip" }), "ListResponseMessageOut");
  assert.deepEqual(tagged.data.map((m) => m.id), [vip.id]);
  const all = checkModel(await svix.message.list(app.id, {}), "ListResponseMessageOut");
  assert.deepEqual(all.data.map((m) => m.id).sort(), [vip.id, plain.id].sort());

  assert.equal(checkModel(await svix.message.precheck(app.id, { eventType: type }), "MessagePrecheckOut").active, true);
  const empty = await svix.application.create({ name: "No endpoints" });
  assert.equal(checkModel(await svix.message.precheck(empty.id, { eventType: type }), "MessagePrecheckOut").active, false);

  // svix@2 has no method for search either.
  const found = await raw("POST", `/api/v1/app/${app.id}/msg/search`, { tag: "vip" });
  assert.equal(found.status, 200);
  assert.deepEqual(found.body.data.map((m) => m.id), [vip.id]);
  const onEu = await raw("POST", `/api/v1/app/${app.id}/msg/search`, { channel: "eu", limit: 10 });
  assert.deepEqual(onEu.body.data.map((m) => m.id), [vip.id]);
});

test("the message stream reads every message once, oldest first, from an iterator", whenServed("v1.message.events"), async (t) => {
  const { app, type } = await setup(t);
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await svix.message.create(app.id, { eventType: type, payload: { n: i } })).id);
  // svix@2 has no method for the stream; Svix's document has it.
  const seen = [];
  let iterator;
  await eventually("every message in the stream", async () => {
    const q = iterator ? `?limit=2&iterator=${encodeURIComponent(iterator)}` : "?limit=2";
    const page = await raw("GET", `/api/v1/app/${app.id}/events${q}`);
    assert.equal(page.status, 200);
    seen.push(...page.body.data.map((m) => m.id));
    iterator = page.body.iterator;
    assert.ok(iterator, "a stream page always has an iterator");
    return seen.length >= ids.length;
  });
  assert.deepEqual(seen, ids);
  const later = await raw("GET", `/api/v1/app/${app.id}/events?iterator=${encodeURIComponent(iterator)}`);
  assert.deepEqual(later.body.data, [], "the iterator reads on after what was read");
});

test("test-attempt sends one message to one endpoint and answers the attempt", whenServed("v1.message.test-attempt"), async (t) => {
  const { app, type, rec, ep, secret } = await setup(t);
  const other = await receiver(t);
  await svix.endpoint.create(app.id, { url: other.url });
  const payload = { order: "ord_test" };
  // svix@2 has no method for test-attempt; Svix's document has it.
  const out = await raw("POST", `/api/v1/app/${app.id}/endpoint/${ep.id}/msg/test-attempt`, { eventType: type, payload });
  assert.equal(out.status, 201);
  assert.equal(out.body.endpointId, ep.id);
  assert.equal(out.body.responseStatusCode, 200);
  assert.equal(out.body.status, MessageStatus.Success);
  const [req] = await rec.waitFor(1);
  assert.equal(verified(req, secret), JSON.stringify(payload));
  assert.equal(req.headers["webhook-id"], out.body.msgId);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(other.requests.length, 0, "only the named endpoint gets a test attempt");
});

test("expunge: a message's payload, an attempt's response body, and many messages at once", whenServed("v1.message.expunge-content", "v1.message-attempt.expunge-content", "v1.message.bulk-expunge-content"), async (t) => {
  const { app, type, rec, ep, secret } = await setup(t, { body: (r) => `receipt for ${r.body.toString()}` });
  const marker = unique("card-4242");
  const payloads = [0, 1, 2].map((i) => ({ secret: `${marker}-${i}` }));
  const msgs = [];
  for (const payload of payloads) msgs.push(await svix.message.create(app.id, { eventType: type, payload, eventId: unique("evt") }));
  const got = await rec.waitFor(3);
  got.forEach((r) => verified(r, secret));
  const attemptOf = async (m) => eventually(`the attempt of ${m.id}`, async () =>
    (await svix.messageAttempt.listByMsg(app.id, m.id, { status: MessageStatus.Success })).data[0]);
  const attempts = [];
  for (const m of msgs) attempts.push(await attemptOf(m));
  assert.ok(attempts[0].response.includes(marker), "the stored response body holds the marker before the expunge");

  // One attempt's response body.
  await svix.messageAttempt.expungeContent(app.id, msgs[0].id, attempts[0].id);
  const a0 = checkModel(await svix.messageAttempt.get(app.id, msgs[0].id, attempts[0].id), "MessageAttemptOut");
  assert.ok(!a0.response.includes(marker), `the expunged attempt still answers ${a0.response}`);

  // One message's payload, and its attempts' bodies with it.
  await svix.message.expungeContent(app.id, msgs[1].id);
  const m1 = checkModel(await svix.message.get(app.id, msgs[1].id, { withContent: true }), "MessageOut");
  assert.ok(!JSON.stringify(m1.payload).includes(marker), `the expunged message still holds ${JSON.stringify(m1.payload)}`);
  const raw1 = await raw("GET", `/api/v1/app/${app.id}/msg/${msgs[1].id}/raw`);
  assert.ok(!raw1.body.payload.includes(marker));
  const a1 = checkModel(await svix.messageAttempt.get(app.id, msgs[1].id, attempts[1].id), "MessageAttemptOut");
  assert.ok(!a1.response.includes(marker));

  // Many at once, by id or eventId; a name that is not there says so.
  const bulk = checkModel(await svix.message.bulkExpungeContent(app.id, { ids: [msgs[2].eventId, "no-such-message"] }), "BulkExpungeContentsOut");
  assert.deepEqual(bulk.results, { [msgs[2].eventId]: BulkExpungeStatus.Expunged, "no-such-message": BulkExpungeStatus.NotFound });
  const page = checkModel(await svix.message.list(app.id, { withContent: true }), "ListResponseMessageOut");
  const listed = JSON.stringify(page.data);
  assert.ok(listed.includes(`${marker}-0`), "the message whose attempt only was expunged keeps its payload");
  assert.ok(!listed.includes(`${marker}-1`) && !listed.includes(`${marker}-2`), "no listed message holds an expunged payload");
  const byEndpoint = checkModel(await svix.messageAttempt.listByEndpoint(app.id, ep.id, {}), "ListResponseMessageAttemptOut");
  assert.ok(!JSON.stringify(byEndpoint.data).includes(marker), "no attempt holds an expunged response body");
});
