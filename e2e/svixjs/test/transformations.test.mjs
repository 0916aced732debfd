// An endpoint's transformation through the Svix JavaScript SDK: the delivery is what simulate
// showed, signed over the transformed body.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkModel, client, raw, receiver, unique, verified, whenServed } from "../lib.mjs";

const svix = client();

test("a transformation reshapes deliveries exactly as simulate shows", whenServed("v1.endpoint.transformation.get", "v1.endpoint.transformation.patch", "v1.endpoint.transformation.simulate"), async (t) => {
  const app = await svix.application.create({ name: "Transformations", uid: unique("transform") });
  const type = unique("order.paid");
  await svix.eventType.create({ name: type, description: type });
  const rec = await receiver(t);
  const ep = await svix.endpoint.create(app.id, { url: rec.url });
  const secret = (await svix.endpoint.getSecret(app.id, ep.id)).key;

  const none = checkModel(await svix.endpoint.transformation.get(app.id, ep.id), "EndpointTransformationOut");
  assert.equal(none.code ?? null, null);
  assert.equal(none.enabled ?? false, false);

  const code = "function handler(webhook) { webhook.payload = { order: webhook.payload.order, kind: webhook.eventType, total: webhook.payload.cents / 100 }; return webhook; }";
  await svix.endpoint.transformation.patch(app.id, ep.id, { code, enabled: true });
  const set = checkModel(await svix.endpoint.transformation.get(app.id, ep.id), "EndpointTransformationOut");
  assert.equal(set.code, code);
  assert.equal(set.enabled, true);
  assert.ok(set.updatedAt instanceof Date && !Number.isNaN(set.updatedAt.getTime()));

  const payload = { order: "ord_transform", cents: 4500, card: "4242" };
  // svix@2 has no method for simulate; Svix's document has it.
  const sim = await raw("POST", `/api/v1/app/${app.id}/endpoint/${ep.id}/transformation/simulate`, { code, eventType: type, payload });
  assert.equal(sim.status, 200);
  assert.deepEqual(JSON.parse(sim.body.payload), { order: "ord_transform", kind: type, total: 45 });
  assert.equal(sim.body.cancel, false);

  await svix.message.create(app.id, { eventType: type, payload });
  const [req] = await rec.waitFor(1);
  assert.equal(verified(req, secret), sim.body.payload, "the delivery is the simulated body, signed as sent");

  await svix.endpoint.transformation.patch(app.id, ep.id, { enabled: false });
  await svix.message.create(app.id, { eventType: type, payload });
  const [, plain] = await rec.waitFor(2);
  assert.equal(verified(plain, secret), JSON.stringify(payload), "a disabled transformation leaves the payload as sent");
});
