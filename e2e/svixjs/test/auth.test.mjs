// Authentication through the Svix JavaScript SDK: whoami, message tokens, logout and expire-all.
import assert from "node:assert/strict";
import { test } from "node:test";
import { apiStatus, checkModel, client, raw, receiver, unique, verified, whenServed } from "../lib.mjs";

const svix = client();

// openPortal opens a magic link as a browser does and returns the portal's cookie and the page
// the link leads to.
async function openPortal(link) {
  const res = await fetch(link.url, { redirect: "manual" });
  assert.ok(res.status >= 300 && res.status < 400, `the magic link answers ${res.status}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  assert.ok(cookie, "the magic link sets a cookie");
  return { cookie, page: new URL(res.headers.get("location"), link.url).href };
}

async function portalPage({ cookie, page }) {
  return (await fetch(page, { headers: { cookie }, redirect: "manual" })).status;
}

test("whoami and a message token that can only create messages of its application", whenServed("v1.authentication.whoami", "v1.authentication.create-message-token"), async (t) => {
  const app = await svix.application.create({ name: "Tokens", uid: unique("tokens") });
  const other = await svix.application.create({ name: "Other" });
  const type = unique("order.paid");
  await svix.eventType.create({ name: type, description: type });
  const rec = await receiver(t);
  const ep = await svix.endpoint.create(app.id, { url: rec.url });
  const secret = (await svix.endpoint.getSecret(app.id, ep.id)).key;

  // svix@2 has no methods for whoami and create-message-token; Svix's document has them.
  const me = await raw("GET", "/api/v1/auth/whoami");
  assert.equal(me.status, 200);
  assert.equal(me.body.permissionSource, "GlobalAuthToken");
  assert.equal(me.body.appId ?? null, null);

  const created = await raw("POST", `/api/v1/auth/app/${app.id}/create-message-token`, { name: "checkout service" });
  assert.equal(created.status, 200);
  const token = created.body.token;
  assert.ok(token);
  assert.match(token, /^hlm_/);
  assert.deepEqual(created.body.scopes, ["message.create"]);

  const sender = client(token);
  const payload = { order: "ord_token" };
  const msg = checkModel(await sender.message.create(app.id, { eventType: type, payload }), "MessageOut");
  const [req] = await rec.waitFor(1);
  assert.equal(verified(req, secret), JSON.stringify(payload));
  assert.equal(req.headers["webhook-id"], msg.id);
  for (const [what, call] of [
    ["ask who it is", () => raw("GET", "/api/v1/auth/whoami", undefined, token).then((r) => { if (r.status >= 400) throw { code: r.status }; })],
    ["read its application", () => sender.application.get(app.id)],
    ["list its messages", () => sender.message.list(app.id)],
    ["send to another application", () => sender.message.create(other.id, { eventType: type, payload })],
  ]) {
    const err = await apiStatus(call());
    assert.ok([401, 403, 404].includes(err.code), `a message token may not ${what}: ${err.code}`);
  }
});

test("logout ends the portal session that calls it", whenServed("v1.authentication.logout"), async () => {
  const app = await svix.application.create({ name: "Logout", uid: unique("logout") });
  const link = checkModel(await svix.authentication.appPortalAccess(app.id, {}), "AppPortalAccessOut");
  const portalMe = await raw("GET", "/api/v1/auth/whoami", undefined, link.token);
  assert.equal(portalMe.status, 200);
  assert.equal(portalMe.body.appId, app.id);
  await client(link.token).authentication.logout();
  assert.equal((await raw("GET", "/api/v1/auth/whoami", undefined, link.token)).status, 401);
  const err = await apiStatus(svix.authentication.logout());
  assert.equal(err.code, 403, "an operator token is not a session to log out of");
});

test("expire-all ends the application's portal sessions, open ones included, and its message tokens", whenServed("v1.authentication.expire-all"), async () => {
  const app = await svix.application.create({ name: "Expire", uid: unique("expire") });
  const other = await svix.application.create({ name: "Other", uid: unique("expire-other") });
  const link = await svix.authentication.appPortalAccess(app.id, {});
  const otherLink = await svix.authentication.appPortalAccess(other.id, {});
  const browser = await openPortal(link);
  const otherBrowser = await openPortal(otherLink);
  assert.equal(await portalPage(browser), 200, "the portal is open");
  assert.equal(await portalPage(otherBrowser), 200);
  const msgToken = (await raw("POST", `/api/v1/auth/app/${app.id}/create-message-token`, { name: "x" })).body.token;

  await svix.authentication.expireAll(app.id, {});
  assert.notEqual(await portalPage(browser), 200, "the open portal session ended");
  assert.equal((await raw("GET", "/api/v1/auth/whoami", undefined, link.token)).status, 401);
  assert.equal((await raw("GET", "/api/v1/auth/whoami", undefined, msgToken)).status, 401);
  assert.equal(await portalPage(otherBrowser), 200, "another application's portal stays open");
});
