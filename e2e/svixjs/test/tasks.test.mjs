// Background tasks, replays, statistics and endpoint controls through the Svix JavaScript SDK;
// each test runs once its routes are served.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BackgroundTaskStatus, MessageStatus } from "svix";
import { checkModel, client, eventually, raw, receiver, unique, verified, whenServed } from "../lib.mjs";

const svix = client();
const hourAgo = () => new Date(Date.now() - 3600e3);

async function setup(t, opts) {
  const app = await svix.application.create({ name: "Tasks", uid: unique("tasks") });
  const type = unique("order.paid");
  await svix.eventType.create({ name: type, description: type });
  const rec = await receiver(t, opts);
  const ep = await svix.endpoint.create(app.id, { url: rec.url });
  const secret = (await svix.endpoint.getSecret(app.id, ep.id)).key;
  return { app, type, rec, ep, secret };
}

// finished waits until the background task has finished, and returns it.
async function finished(taskId) {
  return eventually(`background task ${taskId} finished`, async () => {
    const task = checkModel(await svix.backgroundTask.get(taskId), "BackgroundTaskOut");
    assert.notEqual(task.status, BackgroundTaskStatus.Failed, `task ${taskId} failed: ${JSON.stringify(task.data)}`);
    return task.status === BackgroundTaskStatus.Finished && task;
  });
}

test("recover runs as a background task that can be read and listed", whenServed("v1.background-task.get", "v1.background-task.list"), async (t) => {
  let fail = true;
  const { app, type, rec, ep, secret } = await setup(t, { status: () => (fail ? 500 : 200) });
  const payload = { order: "ord_recover_task" };
  const msg = await svix.message.create(app.id, { eventType: type, payload });
  await rec.waitFor(1);
  await eventually("the failure", async () => (await svix.messageAttempt.listByMsg(app.id, msg.id, { status: MessageStatus.Fail })).data.length === 1);
  fail = false;
  const out = checkModel(await svix.endpoint.recover(app.id, ep.id, { since: hourAgo() }), "RecoverOut");
  const task = await finished(out.id);
  assert.equal(task.id, out.id);
  assert.equal(task.task, out.task);
  const [, again] = await rec.waitFor(2);
  assert.equal(verified(again, secret), JSON.stringify(payload));
  const page = checkModel(await svix.backgroundTask.list({ limit: 250 }), "ListResponseBackgroundTaskOut");
  assert.ok(page.data.some((x) => x.id === out.id), "the task is listed");
});

test("replay-missing sends an endpoint the messages it never got", whenServed("v1.endpoint.replay-missing", "v1.background-task.get"), async (t) => {
  const app = await svix.application.create({ name: "Replay missing" });
  const type = unique("order.paid");
  await svix.eventType.create({ name: type, description: type });
  const payload = { order: "ord_before_the_endpoint" };
  const msg = await svix.message.create(app.id, { eventType: type, payload });
  const rec = await receiver(t);
  const ep = await svix.endpoint.create(app.id, { url: rec.url });
  const secret = (await svix.endpoint.getSecret(app.id, ep.id)).key;
  const out = checkModel(await svix.endpoint.replayMissing(app.id, ep.id, { since: hourAgo() }), "ReplayOut");
  await finished(out.id);
  const [req] = await rec.waitFor(1);
  assert.equal(verified(req, secret), JSON.stringify(payload));
  assert.equal(req.headers["webhook-id"], msg.id);
});

test("bulk-replay sends again the messages that match its filters", whenServed("v1.endpoint.bulk-replay", "v1.background-task.get"), async (t) => {
  let fail = true;
  const { app, type, rec, ep, secret } = await setup(t, { status: () => (fail ? 500 : 200) });
  const payload = { order: "ord_bulk" };
  const msg = await svix.message.create(app.id, { eventType: type, payload });
  await rec.waitFor(1);
  await eventually("the failure", async () => (await svix.messageAttempt.listByMsg(app.id, msg.id, { status: MessageStatus.Fail })).data.length === 1);
  fail = false;
  const out = checkModel(await svix.endpoint.bulkReplay(app.id, ep.id, { since: hourAgo(), status: MessageStatus.Fail, eventTypes: [type] }), "ReplayOut");
  await finished(out.id);
  const [, again] = await rec.waitFor(2);
  assert.equal(verified(again, secret), JSON.stringify(payload));
});

test("expunge-all-contents removes every payload of the application", whenServed("v1.message.expunge-all-contents", "v1.background-task.get"), async (t) => {
  const { app, type, rec } = await setup(t);
  const marker = unique("ssn");
  for (let i = 0; i < 3; i++) await svix.message.create(app.id, { eventType: type, payload: { marker: `${marker}-${i}` } });
  await rec.waitFor(3);
  const out = checkModel(await svix.message.expungeAllContents(app.id), "ExpungeAllContentsOut");
  await finished(out.id);
  const page = checkModel(await svix.message.list(app.id, { withContent: true }), "ListResponseMessageOut");
  assert.equal(page.data.length, 3);
  assert.ok(!JSON.stringify(page.data).includes(marker), "no payload is left");
});

test("usage statistics run as background tasks", whenServed("v1.statistics.aggregate-app-stats", "v1.statistics.aggregate-event-types", "v1.background-task.get"), async (t) => {
  const { app, type, rec } = await setup(t);
  await svix.message.create(app.id, { eventType: type, payload: { n: 1 } });
  await rec.waitFor(1);
  const apps = checkModel(await svix.statistics.aggregateAppStats({ since: hourAgo(), until: new Date(Date.now() + 60e3), appIds: [app.id, "no-such-app"] }), "AppUsageStatsOut");
  assert.deepEqual(apps.unresolvedAppIds, ["no-such-app"]);
  const appTask = await finished(apps.id);
  assert.ok(JSON.stringify(appTask.data).includes(app.id), `the task's result names the application: ${JSON.stringify(appTask.data)}`);
  const types = checkModel(await svix.statistics.aggregateEventTypes(), "AggregateEventTypesOut");
  const typeTask = await finished(types.id);
  assert.ok(typeTask.data !== undefined);
});

test("statistics: active applications, endpoint counts and attempt statistics", whenServed("v1.application.count-active", "v1.application.stats.attempts", "v1.stats.app-attempts", "v1.statistics.endpoint-count"), async (t) => {
  const { app, type, rec } = await setup(t);
  await svix.message.create(app.id, { eventType: type, payload: { n: 1 } });
  await rec.waitFor(1);
  await eventually("the attempt recorded", async () => (await svix.messageAttempt.listByEndpoint(app.id, (await svix.endpoint.list(app.id)).data[0].id)).data.length === 1);
  // svix@2 has no methods for these; Svix's document has them (the Go test checks their shapes).
  const active = await raw("GET", "/api/v1/app/stats/count-active");
  assert.equal(active.status, 200);
  const endpoints = await raw("GET", "/api/v1/stats/endpoint/count");
  assert.equal(endpoints.status, 200);
  assert.ok(endpoints.body.active >= 1);
  const since = encodeURIComponent(hourAgo().toISOString());
  const until = encodeURIComponent(new Date(Date.now() + 60e3).toISOString());
  const appStats = await raw("GET", `/api/v1/app/${app.id}/stats/attempts?since=${since}&until=${until}`);
  assert.equal(appStats.status, 200);
  assert.equal(appStats.body.total_success, 1);
  const attemptStats = await raw("GET", `/api/v1/stats/app/${app.id}/attempt?startDate=${since}&endDate=${until}`);
  assert.equal(attemptStats.status, 200);
});

test("an endpoint's attempt count", whenServed("v1.message-attempt.count-by-endpoint"), async (t) => {
  const { app, type, rec, ep } = await setup(t);
  for (let i = 0; i < 2; i++) await svix.message.create(app.id, { eventType: type, payload: { n: i } });
  await rec.waitFor(2);
  // svix@2 has no method for the count; Svix's document has it.
  await eventually("two attempts counted", async () => {
    const count = await raw("GET", `/api/v1/app/${app.id}/attempt/endpoint/${ep.id}/count`);
    assert.equal(count.status, 200);
    return count.body.count === 2;
  });
});

test("rate-limit-status says while an endpoint's throttle holds its deliveries back", whenServed("v1.endpoint.get-throttling-status"), async (t) => {
  const { app, type, rec, ep } = await setup(t);
  await svix.endpoint.patch(app.id, ep.id, { throttleRate: 1 });
  // svix@2 has no method for the throttle status; Svix's document has it.
  const status = async () => {
    const out = await raw("GET", `/api/v1/app/${app.id}/endpoint/${ep.id}/rate-limit-status`);
    assert.equal(out.status, 200);
    return out.body;
  };
  assert.equal((await status()).status, "Ok");
  for (let i = 0; i < 4; i++) await svix.message.create(app.id, { eventType: type, payload: { n: i } });
  const held = await eventually("RateLimited while the throttle holds deliveries", async () => {
    const s = await status();
    return s.status === "RateLimited" && s;
  });
  assert.ok(held.throttledSince, "a throttled endpoint says since when");
  await rec.waitFor(4);
  await eventually("Ok once every delivery went", async () => (await status()).status === "Ok");
});

test("cancel-msgs cancels an endpoint's pending messages", whenServed("v1.endpoint.cancel-msgs"), async (t) => {
  const { app, type, rec, ep } = await setup(t, { status: () => 500 });
  // The event type retries in an hour: its failed message stays pending at the endpoint.
  assert.equal((await raw("PUT", `/api/v1/event-type/${type}/retry-schedule`, { retrySchedule: [{ secs: 3600, nanos: 0 }] })).status, 200);
  const msg = await svix.message.create(app.id, { eventType: type, payload: { order: "ord_cancel" } });
  await rec.waitFor(1);
  await eventually("the message pending at the endpoint", async () =>
    (await svix.endpoint.getStats(app.id, ep.id)).pending === 1);
  // svix@2 has no method for cancel-msgs; Svix's document has it.
  const out = await raw("POST", `/api/v1/app/${app.id}/endpoint/${ep.id}/cancel-msgs`, { createdBefore: new Date(Date.now() + 1000).toISOString() });
  assert.equal(out.status, 204);
  await eventually("the message canceled", async () => {
    const stats = checkModel(await svix.endpoint.getStats(app.id, ep.id), "EndpointStats");
    return stats.canceled === 1 && stats.pending === 0;
  });
  const attempted = checkModel(await svix.messageAttempt.listAttemptedMessages(app.id, ep.id), "ListResponseEndpointMessageOut");
  assert.deepEqual(attempted.data.map((m) => [m.id, m.status]), [[msg.id, MessageStatus.Canceled]]);
});

test("broadcast sends one message to every application", whenServed("v1.message.broadcast", "v1.background-task.get"), async (t) => {
  const a = await setup(t);
  const b = await setup(t);
  // svix@2 has no method for broadcast; Svix's document has it.
  const type = unique("announcement");
  await svix.eventType.create({ name: type, description: type });
  const payload = { text: unique("maintenance tonight") };
  const out = await raw("POST", "/api/v1/msg/broadcast", { eventType: type, payload });
  assert.equal(out.status, 202);
  await finished(out.body.id);
  for (const { rec, secret } of [a, b]) {
    const [req] = await rec.waitFor(1);
    assert.equal(verified(req, secret), JSON.stringify(payload));
  }
});
