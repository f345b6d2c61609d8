// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
//
// A webhook receiver for the tests: listens on 127.0.0.1 only, verifies every delivery with the
// reference Standard Webhooks library (npm `standardwebhooks`, `new Webhook(secret).verify`),
// records what arrived, and answers with scripted statuses.
//
//   node receiver.mjs [--port N]        prints {"port": N} on stdout once listening
//
// Control (JSON in and out, same server, paths under /__control):
//   POST /__control/script   {"path": "/hook", "responses": [{"status": 500}, {"status": 200}],
//                             "secrets": ["whsec_..."]}
//        responses are used in order, then {"status": 200} forever. A response may also have
//        "retry_after" (header value), "delay_ms" (answer late), "reset": true (destroy the
//        socket without answering), "body" (text).
//   POST /__control/secrets  {"path": "/hook", "secrets": ["whsec_old", "whsec_new"]}
//   GET  /__control/deliveries            every delivery received, in order
//   POST /__control/verify   {"secrets": [...]}  re-verify every recorded delivery now
//   GET  /__control/stats    {"max_concurrent": N, "open": N}: webhook requests open at once
//   POST /__control/clear                 forget deliveries, scripts and stats
// A delivery record: {path, id, timestamp, signature, body, verified: [bool per secret],
//                     verify_errors: [...], answered, received_at_ms}
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
// The library lives in tests/npm (CI runs `npm ci` there); NODE_PATH may point elsewhere.
const requireFrom = createRequire(
  process.env.VIVARIUM_NPM_DIR
    ? path.join(process.env.VIVARIUM_NPM_DIR, "package.json")
    : path.join(here, "..", "..", "npm", "package.json"),
);
const { Webhook } = requireFrom("standardwebhooks");

const args = process.argv.slice(2);
const portArg = args.indexOf("--port");
const port = portArg >= 0 ? Number(args[portArg + 1]) : 0;

const scripts = new Map(); // path -> {responses: [], secrets: []}
let deliveries = [];
let open = 0; // requests being answered now
let maxOpen = 0;

function scriptFor(p) {
  if (!scripts.has(p)) scripts.set(p, { responses: [], secrets: [] });
  return scripts.get(p);
}

function verifyAll(body, headers, secrets) {
  const verified = [];
  const errors = [];
  for (const secret of secrets) {
    try {
      new Webhook(secret).verify(body, headers);
      verified.push(true);
      errors.push(null);
    } catch (e) {
      verified.push(false);
      errors.push(String(e && e.message ? e.message : e));
    }
  }
  return { verified, errors };
}

function sendJson(res, status, value) {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function control(req, res, url, body) {
  let input = {};
  if (body.length) {
    try {
      input = JSON.parse(body.toString("utf8"));
    } catch (e) {
      return sendJson(res, 400, { error: "bad JSON: " + e.message });
    }
  }
  switch (`${req.method} ${url.pathname}`) {
    case "POST /__control/script": {
      const s = scriptFor(input.path || "/");
      s.responses = Array.isArray(input.responses) ? input.responses.slice() : [];
      if (Array.isArray(input.secrets)) s.secrets = input.secrets.slice();
      return sendJson(res, 200, { ok: true });
    }
    case "POST /__control/secrets": {
      scriptFor(input.path || "/").secrets = Array.isArray(input.secrets) ? input.secrets.slice() : [];
      return sendJson(res, 200, { ok: true });
    }
    case "GET /__control/deliveries":
      return sendJson(res, 200, deliveries);
    case "POST /__control/verify": {
      const secrets = Array.isArray(input.secrets) ? input.secrets : [];
      return sendJson(
        res,
        200,
        deliveries.map((d) => ({ id: d.id, ...verifyAll(d.body, d.headers, secrets) })),
      );
    }
    case "GET /__control/stats":
      return sendJson(res, 200, { max_concurrent: maxOpen, open });
    case "POST /__control/clear":
      deliveries = [];
      scripts.clear();
      maxOpen = open;
      return sendJson(res, 200, { ok: true });
    default:
      return sendJson(res, 404, { error: "no such control endpoint" });
  }
}

const server = http.createServer((req, res) => {
  const isControl = req.url.startsWith("/__control/");
  if (!isControl) {
    open += 1;
    maxOpen = Math.max(maxOpen, open);
    let closed = false;
    const done = () => {
      if (!closed) {
        closed = true;
        open -= 1;
      }
    };
    res.on("finish", done);
    res.on("close", done);
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname.startsWith("/__control/")) return control(req, res, url, body);

    const s = scriptFor(url.pathname);
    const response = s.responses.length ? s.responses.shift() : { status: 200 };
    const text = body.toString("utf8");
    const headers = {
      "webhook-id": req.headers["webhook-id"],
      "webhook-timestamp": req.headers["webhook-timestamp"],
      "webhook-signature": req.headers["webhook-signature"],
    };
    const { verified, errors } = verifyAll(text, headers, s.secrets);
    deliveries.push({
      path: url.pathname,
      method: req.method,
      id: headers["webhook-id"] || null,
      timestamp: headers["webhook-timestamp"] || null,
      signature: headers["webhook-signature"] || null,
      content_type: req.headers["content-type"] || null,
      headers,
      body: text,
      verified,
      verify_errors: errors,
      answered: response.reset ? "reset" : response.status || 200,
      received_at_ms: Date.now(),
    });

    const answer = () => {
      if (response.reset) {
        req.socket.destroy();
        return;
      }
      const out = { "content-type": "text/plain" };
      if (response.retry_after !== undefined) out["retry-after"] = String(response.retry_after);
      if (response.location !== undefined) out["location"] = String(response.location);
      res.writeHead(response.status || 200, out);
      res.end(response.body !== undefined ? String(response.body) : "ok");
    };
    if (response.delay_ms) setTimeout(answer, response.delay_ms);
    else answer();
  });
});

server.keepAliveTimeout = 1000;
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});

// Die with the test: stdin closes when the parent goes away.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
process.on("SIGTERM", () => process.exit(0));
