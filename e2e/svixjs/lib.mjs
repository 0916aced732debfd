// Helpers of the Svix JavaScript SDK tests. e2e/svix_js_test.go starts a real Hookline and runs
// these tests with `node --test`, passing the server in the environment:
//
//   HOOKLINE_URL     the server's base URL
//   HOOKLINE_TOKEN   an operator token
//   HOOKLINE_RECORD  a file to which every API request and response is appended, one JSON line
//                    each, so that the Go test can check which routes were called and what they
//                    answered
//
// Every API call goes through the official SDK (`svix` from npm), unchanged but for the server
// URL and a fetch wrapper that records the exchange. Every SDK result is checked against the
// SDK's own model declarations (a required field that is undefined, or a date the SDK could not
// parse, fails the test). Every delivery is received by a real HTTP server on loopback and
// verified with the SDK's Webhook class.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { appendFileSync, readFileSync, existsSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Svix, Webhook } from "svix";

const here = dirname(fileURLToPath(import.meta.url));

export const serverUrl = process.env.HOOKLINE_URL;
export const operatorToken = process.env.HOOKLINE_TOKEN;
// A test CA, a server certificate for 127.0.0.1 and a client certificate it signed (PEM), made by
// the Go test.
export const pki = {
  ca: process.env.HOOKLINE_TEST_CA,
  serverCert: process.env.HOOKLINE_TEST_SERVER_CERT,
  serverKey: process.env.HOOKLINE_TEST_SERVER_KEY,
  clientCert: process.env.HOOKLINE_TEST_CLIENT_CERT,
  clientKey: process.env.HOOKLINE_TEST_CLIENT_KEY,
};
const recordFile = process.env.HOOKLINE_RECORD;
if (!serverUrl || !operatorToken) {
  throw new Error("HOOKLINE_URL and HOOKLINE_TOKEN must be set: run these tests with go test ./e2e -run TestSvixJS");
}

// recordingFetch is the fetch the SDK uses: it sends the request as it is and appends the
// method, path, status and response body to HOOKLINE_RECORD.
async function recordingFetch(input, init) {
  const res = await fetch(input, init);
  if (recordFile) {
    const u = new URL(String(input?.url ?? input));
    const body = await res.clone().text();
    const method = (init?.method ?? "GET").toUpperCase();
    appendFileSync(recordFile, JSON.stringify({ method, path: u.pathname, query: u.search, status: res.status, body, sdk: !init?.hooklineRaw }) + "\n");
  }
  return res;
}

// client returns an SDK client for the test server with the given token.
export function client(token = operatorToken) {
  return new Svix(token, { serverUrl, fetch: recordingFetch, retryScheduleInMs: [] });
}

// raw calls a route for which svix@2 has no method (the Go SDK or Svix's document has it, the
// JavaScript SDK does not). It is recorded like an SDK call, marked as not through the SDK, and
// its answer is checked against Svix's document by the Go test.
export async function raw(method, path, body, token = operatorToken) {
  const init = { method, headers: { authorization: `Bearer ${token}`, accept: "application/json" }, hooklineRaw: true };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await recordingFetch(serverUrl.replace(/\/$/, "") + path, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

// --- the SDK's model declarations -------------------------------------------------------------

const modelsDir = join(here, "node_modules", "svix", "src", "models");
const modelCache = new Map();

// model reads the declaration of one of the SDK's response models (src/models/<name>.ts, the
// files the SDK is generated into) and returns its fields: name, whether it is required, and its
// type as declared.
function model(name) {
  if (modelCache.has(name)) return modelCache.get(name);
  const file = join(modelsDir, name[0].toLowerCase() + name.slice(1) + ".ts");
  let fields = null;
  if (existsSync(file)) {
    const src = readFileSync(file, "utf8");
    const m = src.match(new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`));
    if (m) {
      fields = [];
      for (const line of m[1].split("\n")) {
        const f = line.match(/^  (\w+)(\??): (.+);$/);
        if (f) fields.push({ name: f[1], required: f[2] === "", type: f[3] });
      }
    }
  }
  modelCache.set(name, fields);
  return fields;
}

// checkModel fails the test when value, as the SDK returned it, lacks a field that the SDK's
// model declares required, or holds a date the SDK could not parse; it follows nested models.
export function checkModel(value, name, path = name) {
  const fields = model(name);
  assert.ok(fields, `the SDK declares no model ${name}`);
  assert.ok(value !== null && typeof value === "object", `${path}: not an object: ${JSON.stringify(value)}`);
  for (const f of fields) {
    let v = value[f.name];
    // The SDK turns a missing date into an Invalid Date: that is a missing field too.
    if (v instanceof Date && Number.isNaN(v.getTime()) && f.type.startsWith("Date")) v = undefined;
    if (v === undefined || v === null) {
      if (f.required && !/\| null$/.test(f.type)) {
        assert.fail(`${path}.${f.name}: required by the SDK's ${name} but missing in ${JSON.stringify(value)}`);
      }
      continue;
    }
    const type = f.type.replace(/ \| null$/, "");
    const elem = type.endsWith("[]") ? type.slice(0, -2) : null;
    const check = (x, t, p) => {
      if (t === "Date") {
        assert.ok(x instanceof Date && !Number.isNaN(x.getTime()), `${p}: not a date the SDK could parse`);
      } else if (/^[A-Z]\w*$/.test(t) && model(t)) {
        checkModel(x, t, p);
      }
    };
    if (elem) {
      assert.ok(Array.isArray(v), `${path}.${f.name}: not an array`);
      v.forEach((x, i) => check(x, elem, `${path}.${f.name}[${i}]`));
    } else {
      check(v, type, `${path}.${f.name}`);
    }
  }
  return value;
}

// served holds the operation ids of the routes the server serves, from its own OpenAPI document.
const served = new Set();
{
  const doc = await (await fetch(serverUrl.replace(/\/$/, "") + "/api/v1/openapi.json")).json();
  for (const ops of Object.values(doc.paths)) for (const op of Object.values(ops)) if (op?.operationId) served.add(op.operationId);
}

// whenServed skips a test of routes the server does not serve yet, so that it runs from the
// moment they land. (The Go test fails when a served route is called by no test.)
export function whenServed(...operationIds) {
  const missing = operationIds.filter((id) => !served.has(id));
  return missing.length ? { skip: `not served yet: ${missing.join(", ")}` } : {};
}

// --- receivers --------------------------------------------------------------------------------

// receiver starts an HTTP server on loopback that records every request to its URL (headers and
// the exact body bytes) and answers with status() and body() (200 "ok" unless changed). It is
// closed when the test ends.
//
// With tls ({key, cert, ca?}) it is an HTTPS server; with tls.ca it requires a client
// certificate signed by that CA, and records its subject's common name as clientCN.
export async function receiver(t, { status = () => 200, body = () => "ok", tls } = {}) {
  const requests = [];
  const waiters = [];
  // A path of its own: another test's server that still retries to a port this receiver took
  // over gets a 404 and is not recorded.
  const path = `/hook-${randomUUID()}`;
  const listener = (req, res) => {
    if (req.url !== path) {
      req.resume();
      res.statusCode = 404;
      res.end();
      return;
    }
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const r = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks), at: performance.now() };
      if (tls) r.clientCN = req.socket.getPeerCertificate?.()?.subject?.CN;
      requests.push(r);
      res.statusCode = status(r);
      res.end(body(r));
      for (const w of [...waiters]) w();
    });
  };
  const server = tls
    ? https.createServer({ key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: !!tls.ca, rejectUnauthorized: !!tls.ca }, listener)
    : http.createServer(listener);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `${tls ? "https" : "http"}://127.0.0.1:${server.address().port}${path}`;
  const rec = {
    url,
    requests,
    // waitFor resolves once at least n requests have arrived, failing after timeoutMs.
    waitFor(n, timeoutMs = 20000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length >= n) {
            waiters.splice(waiters.indexOf(check), 1);
            clearTimeout(timer);
            resolve(requests.slice());
          }
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          reject(new Error(`${url}: ${requests.length} requests after ${timeoutMs} ms, want ${n}`));
        }, timeoutMs);
        waiters.push(check);
        check();
      });
    },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
  t.after(rec.close);
  return rec;
}

// verified checks a delivery with the SDK's Webhook class and the endpoint's secret, and returns
// its body as text. It throws when the signature does not verify.
export function verified(req, secret) {
  const body = req.body.toString("utf8");
  new Webhook(secret).verify(body, req.headers);
  return body;
}

// eventually calls fn until it returns a truthy value, failing after timeoutMs.
export async function eventually(what, fn, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// unique returns a name no other test of this run uses.
let counter = 0;
export function unique(prefix) {
  counter++;
  return `${prefix}-${process.pid}-${counter}`;
}

// status returns the HTTP status of an SDK error (ApiException), or throws err again.
export async function apiStatus(promise) {
  try {
    await promise;
  } catch (err) {
    if (typeof err?.code === "number") return err;
    throw err;
  }
  assert.fail("the call succeeded; want an API error");
}
