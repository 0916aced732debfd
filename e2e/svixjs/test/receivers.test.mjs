// An endpoint's receiver settings (server CA, mutual TLS, OAuth 2.0) with the Svix JavaScript
// SDK's client, against a real HTTPS receiver and a real token server on loopback. svix@2 has no
// methods for these routes; Svix's document has them.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import http from "node:http";
import { test } from "node:test";
import { MessageStatus } from "svix";
import { client, eventually, pki, raw, receiver, unique, verified, whenServed } from "../lib.mjs";

const svix = client();

async function setup(t, opts) {
  const app = await svix.application.create({ name: "Receivers", uid: unique("receivers") });
  const type = unique("order.paid");
  await svix.eventType.create({ name: type, description: type });
  const rec = await receiver(t, opts);
  const ep = await svix.endpoint.create(app.id, { url: rec.url });
  const secret = (await svix.endpoint.getSecret(app.id, ep.id)).key;
  return { app, type, rec, ep, secret, path: `/api/v1/app/${app.id}/endpoint/${ep.id}` };
}

test("a receiver on a private CA that requires a client certificate", whenServed("v1.endpoint.set-server-ca", "v1.endpoint.get-server-ca", "v1.endpoint.set-mtls-config", "v1.endpoint.get-mtls", "v1.endpoint.get-mtls-2", "v1.endpoint.delete-mtls-config"), async (t) => {
  const { app, type, rec, path, secret } = await setup(t, { tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca } });
  assert.equal((await raw("GET", `${path}/ca`)).body.cert ?? null, null, "the system's roots until a CA is set");
  assert.equal((await raw("PUT", `${path}/ca`, { cert: pki.ca })).status, 204);
  const ca = await raw("GET", `${path}/ca`);
  assert.equal(ca.status, 200);
  assert.equal(ca.body.cert.trim(), pki.ca.trim());

  assert.equal((await raw("GET", `${path}/mtls`)).status, 404, "no client certificate yet");
  assert.equal((await raw("GET", `${path}/mtls-config`)).body.enabled, false);
  assert.equal((await raw("PUT", `${path}/mtls`, { identity: pki.clientKey + pki.clientCert })).status, 204);
  const mtls = await raw("GET", `${path}/mtls`);
  assert.equal(mtls.status, 200);
  assert.ok(!JSON.stringify(mtls.body).includes("PRIVATE KEY"), "the key is never answered");
  const config = await raw("GET", `${path}/mtls-config`);
  assert.equal(config.body.enabled, true);
  assert.ok(!JSON.stringify(config.body).includes("PRIVATE KEY"));

  const payload = { order: "ord_mtls" };
  await svix.message.create(app.id, { eventType: type, payload });
  const [req] = await rec.waitFor(1);
  assert.equal(verified(req, secret), JSON.stringify(payload));
  assert.equal(req.clientCN, "hookline-js-client", "the delivery presented the client certificate");

  // Without the certificate the receiver refuses the connection: the attempt fails.
  assert.equal((await raw("DELETE", `${path}/mtls`)).status, 204);
  assert.equal((await raw("GET", `${path}/mtls-config`)).body.enabled, false);
  const refused = await svix.message.create(app.id, { eventType: type, payload: { order: "ord_no_cert" } });
  await eventually("the attempt without a client certificate failed", async () =>
    (await svix.messageAttempt.listByMsg(app.id, refused.id, { status: MessageStatus.Fail })).data.length === 1);
  assert.equal(rec.requests.length, 1);
});

test("an OAuth 2.0 client: deliveries carry the token the token server gave", whenServed("v1.endpoint.set-oauth-config", "v1.endpoint.get-oauth", "v1.endpoint.get-oauth-2", "v1.endpoint.delete-oauth-config"), async (t) => {
  const tokenRequests = [];
  const tokenPath = `/token-${randomUUID()}`;
  const tokenServer = http.createServer((req, res) => {
    if (req.url !== tokenPath) {
      req.resume();
      res.statusCode = 404;
      res.end();
      return;
    }
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      tokenRequests.push({ auth: req.headers.authorization, body: new URLSearchParams(body) });
      const ok = req.headers.authorization === "Basic " + Buffer.from("hookline:s3cret").toString("base64");
      res.setHeader("content-type", "application/json");
      res.statusCode = ok ? 200 : 401;
      res.end(JSON.stringify(ok ? { access_token: `tok-${tokenRequests.length}`, token_type: "Bearer", expires_in: 3600 } : { error: "invalid_client" }));
    });
  });
  await new Promise((resolve) => tokenServer.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise((resolve) => { tokenServer.closeAllConnections(); tokenServer.close(resolve); }));
  const tokenUrl = `http://127.0.0.1:${tokenServer.address().port}${tokenPath}`;

  const { app, type, rec, path, secret } = await setup(t, { status: (r) => (r.headers.authorization === "Bearer tok-1" ? 200 : 401) });
  assert.equal((await raw("GET", `${path}/oauth-config`)).body.enabled, false);
  const put = await raw("PUT", `${path}/oauth`, { grantType: "clientCredentials", authMethod: "clientSecretBasic", clientId: "hookline", clientSecret: "s3cret", tokenUrl, scopes: ["webhooks.write"] });
  assert.equal(put.status, 204);
  const got = await raw("GET", `${path}/oauth`);
  assert.equal(got.status, 200);
  assert.equal(got.body.clientId, "hookline");
  assert.equal(got.body.tokenUrl, tokenUrl);
  assert.deepEqual(got.body.scopes, ["webhooks.write"]);
  assert.ok(!JSON.stringify(got.body).includes("s3cret"), "the client secret is never answered");
  const config = await raw("GET", `${path}/oauth-config`);
  assert.equal(config.body.enabled, true);
  assert.ok(!JSON.stringify(config.body).includes("s3cret"));

  const payloads = [{ order: "ord_oauth_1" }, { order: "ord_oauth_2" }];
  for (const payload of payloads) await svix.message.create(app.id, { eventType: type, payload });
  const reqs = await rec.waitFor(2);
  assert.deepEqual(reqs.map((r) => verified(r, secret)).sort(), payloads.map((p) => JSON.stringify(p)).sort());
  assert.ok(reqs.every((r) => r.headers.authorization === "Bearer tok-1"), "both deliveries carry the token");
  assert.equal(tokenRequests.length, 1, "the token is fetched once and reused");
  assert.equal(tokenRequests[0].body.get("grant_type"), "client_credentials");

  assert.equal((await raw("DELETE", `${path}/oauth`)).status, 204);
  assert.equal((await raw("GET", `${path}/oauth-config`)).body.enabled, false);
});
