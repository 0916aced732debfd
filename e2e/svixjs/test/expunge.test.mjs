// Message content through the Svix JavaScript SDK, beside content.test.mjs: the tag and channel
// filters of the attempt lists, who may expunge, search refusals, and the stream once caught up.
import assert from "node:assert/strict";
import { test } from "node:test";
import { apiStatus, checkModel, client, eventually, raw, receiver, unique, verified } from "../lib.mjs";

const svix = client();

async function setup(t) {
  const app = await svix.application.create({ name: "Content", uid: unique("content") });
  const type = unique("card.saved");
  await svix.eventType.create({ name: type, description: type });
  const rec = await receiver(t);
  const ep = await svix.endpoint.create(app.id, { url: rec.url, description: "receiver" });
  const secret = (await svix.endpoint.getSecret(app.id, ep.id)).key;
  return { app, type, rec, ep, secret };
}

test("expunge: one message, a list of messages, one attempt's body; tag filters", async (t) => {
  const { app, type, rec, ep } = await setup(t);
  const m1 = await svix.message.create(app.id, { eventType: type, payload: { card: "4242" }, tags: ["vip"], channels: ["eu"] });
  const m2 = await svix.message.create(app.id, { eventType: type, eventId: unique("evt"), payload: { card: "5555" } });
  await rec.waitFor(2);
  const attempts = await eventually("both attempts", async () => {
    const page = checkModel(await svix.messageAttempt.listByEndpoint(app.id, ep.id), "ListResponseMessageAttemptOut");
    return page.data.length === 2 && page.data;
  });

  // The tag and channel filters of the lists.
  const vip = checkModel(await svix.message.list(app.id, { tag: "vip" }), "ListResponseMessageOut");
  assert.deepEqual(vip.data.map((m) => m.id), [m1.id]);
  const byTag = checkModel(await svix.messageAttempt.listByEndpoint(app.id, ep.id, { tag: "vip", channel: "eu" }), "ListResponseMessageAttemptOut");
  assert.deepEqual(byTag.data.map((a) => a.msgId), [m1.id]);
  const byMsgTag = checkModel(await svix.messageAttempt.listByMsg(app.id, m2.id, { tag: "vip" }), "ListResponseMessageAttemptOut");
  assert.deepEqual(byMsgTag.data, []);
  const attempted = checkModel(await svix.messageAttempt.listAttemptedMessages(app.id, ep.id, { tag: "vip" }), "ListResponseEndpointMessageOut");
  assert.deepEqual(attempted.data.map((m) => m.id), [m1.id]);

  await svix.message.expungeContent(app.id, m1.id);
  const got = checkModel(await svix.message.get(app.id, m1.id, { withContent: true }), "MessageOut");
  assert.deepEqual(got.payload, { expired: true });
  const bulk = await svix.message.bulkExpungeContent(app.id, { ids: [m2.eventId, "msg_nope"] });
  assert.deepEqual(bulk.results, { [m2.eventId]: "expunged", msg_nope: "not-found" });
  const rawOut = await raw("GET", `/api/v1/app/${app.id}/msg/${m2.id}/raw`);
  assert.equal(rawOut.status, 200);
  assert.equal(rawOut.body.payload, '{"expired":true}');
  for (const a of attempts) {
    const after = checkModel(await svix.messageAttempt.get(app.id, a.msgId, a.id), "MessageAttemptOut");
    assert.equal(after.response, "EXPUNGED");
  }

  // One attempt's body, of a message that keeps its payload.
  const m3 = await svix.message.create(app.id, { eventType: type, payload: { keep: true } });
  await rec.waitFor(3);
  const a3 = await eventually("m3's attempt", async () => (await svix.messageAttempt.listByMsg(app.id, m3.id)).data[0]);
  await svix.messageAttempt.expungeContent(app.id, m3.id, a3.id);
  assert.equal((await svix.messageAttempt.get(app.id, m3.id, a3.id)).response, "EXPUNGED");
  assert.deepEqual((await svix.message.get(app.id, m3.id, { withContent: true })).payload, { keep: true });

  // An application token may not erase.
  const token = await raw("POST", "/api/v1/token", { kind: "application", appId: app.id });
  const denied = await apiStatus(client(token.body.token).message.expungeContent(app.id, m3.id));
  assert.equal(denied.code, 403);
});

test("precheck, raw payload, search and the message stream", async (t) => {
  const { app, type, rec, secret } = await setup(t);
  const other = unique("other.type");
  await svix.eventType.create({ name: other, description: other });
  await svix.endpoint.create(app.id, { url: rec.url, filterTypes: [type], channels: ["eu"] });
  checkModel(await svix.message.precheck(app.id, { eventType: type }), "MessagePrecheckOut");
  assert.equal((await svix.message.precheck(app.id, { eventType: type, channels: ["eu"] })).active, true);
  const empty = await svix.application.create({ name: "No endpoints", uid: unique("empty") });
  assert.equal((await svix.message.precheck(empty.id, { eventType: type })).active, false);

  const text = '{"b": 1,  "a": "\\u00e9"}';
  const m = await svix.message.create(app.id, { eventType: type, payload: JSON.parse(text), tags: ["t1"] });
  const [req] = await rec.waitFor(1);
  const rawOut = await raw("GET", `/api/v1/app/${app.id}/msg/${m.id}/raw`);
  assert.equal(rawOut.status, 200);
  assert.equal(rawOut.body.payload, verified(req, secret), "raw is the exact bytes delivered");
  const m2 = await svix.message.create(app.id, { eventType: other, payload: { n: 2 } });

  const found = await raw("POST", `/api/v1/app/${app.id}/msg/search`, { tag: "t1", with_content: true, limit: 5 });
  assert.equal(found.status, 200);
  assert.deepEqual(found.body.data.map((x) => x.id), [m.id]);
  assert.deepEqual(found.body.data[0].payload, JSON.parse(text));
  const byType = await raw("POST", `/api/v1/app/${app.id}/msg/search`, { event_types: [other] });
  assert.deepEqual(byType.body.data.map((x) => x.id), [m2.id]);
  assert.deepEqual(byType.body.data[0].payload, {}, "search leaves payloads out by default");
  const refused = await raw("POST", `/api/v1/app/${app.id}/msg/search`, { limit: 0 });
  assert.equal(refused.status, 422);

  // The stream: read from the start until done, oldest first; a message appears once settled.
  const seen = await eventually("both messages in the stream", async () => {
    const ids = [];
    let iterator;
    for (;;) {
      const page = await raw("GET", `/api/v1/app/${app.id}/events?limit=1` + (iterator ? `&iterator=${iterator}` : ""));
      assert.equal(page.status, 200);
      assert.equal(typeof page.body.iterator, "string");
      ids.push(...page.body.data.map((x) => x.id));
      iterator = page.body.iterator;
      if (page.body.done) break;
    }
    return ids.length === 2 && { ids, iterator };
  });
  assert.deepEqual(seen.ids, [m.id, m2.id]);
  const next = await raw("GET", `/api/v1/app/${app.id}/events?iterator=${seen.iterator}`);
  assert.deepEqual(next.body, { data: [], iterator: seen.iterator, done: true });
});

test("test-attempt sends one message to one endpoint and answers with the attempt", async (t) => {
  const { app, type, rec, ep, secret } = await setup(t);
  const payload = { test: "attempt" };
  const res = await raw("POST", `/api/v1/app/${app.id}/endpoint/${ep.id}/msg/test-attempt`, { eventType: type, payload });
  assert.equal(res.status, 201);
  assert.equal(res.body.endpointId, ep.id);
  assert.equal(res.body.responseStatusCode, 200);
  const [req] = await rec.waitFor(1);
  assert.equal(req.headers["webhook-id"], res.body.msgId);
  assert.equal(verified(req, secret), JSON.stringify(payload));
  const got = checkModel(await svix.messageAttempt.get(app.id, res.body.msgId, res.body.id), "MessageAttemptOut");
  assert.equal(got.id, res.body.id);
});
