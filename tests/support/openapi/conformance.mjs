// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
//
// OpenAPI conformance: puts Stoplight Prism (npm @stoplight/prism-cli, proxy mode, --errors) in
// front of a real `vivarium serve --api` and drives every route of
// server/resources/openapi.json through it, successes and the usual errors. Prism answers with
// its own problem (type https://stoplight.io/prism/errors#...) when a request or a response
// breaks the spec; any such violation, a Prism warning (an error status the operation does not
// declare), a status other than the expected one, or an operation of the spec that no request
// got a 2xx from, fails the test.
//
//   node conformance.mjs /path/to/vivarium [--closed]
//        exit 0 green, 1 failed, 77 skipped (tests/npm has no Prism: npm ci there)
// It needs vivarium-fake-model beside vivarium. One line per request on stdout: method, path,
// status, OK / VIOLATION / REQUEST-VIOLATION / UNEXPECTED and why.
//
// Two Prism instances run against the same server:
//   strict   (--errors): requests are validated too, so every request the test treats as valid
//            must be valid by the spec (a spec stricter than the server shows up here);
//   lenient  (--errors --validate-request=false): for requests that are invalid on purpose
//            (unknown fields, bad query values), so the server's error answer is still
//            checked against the spec; each of those is also sent to `strict`, which must
//            refuse it as a request violation (the spec and the server agree it is invalid)
//            or pass it on (the check is semantic, the server's alone).
// Prism checks security itself (a missing or non-Bearer Authorization gets Prism's own 401),
// routes the spec does not have are refused by Prism (so 405 cannot be checked here), and the
// Host header is rewritten by Prism to the upstream's, so host-not-allowed is not checked here
// either (tst_apiserve covers both). SSE is buffered by Prism and its body is not validated
// beyond status and content type.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const SKIP = 77;
// Well-formed ids (the spec has patterns for run ids) that name nothing.
const NO_RUN = "run_" + "0".repeat(26);
const here = path.dirname(fileURLToPath(import.meta.url));
const sourceDir = process.env.VIVARIUM_SOURCE_DIR || path.resolve(here, "..", "..", "..");
const npmDir = process.env.VIVARIUM_NPM_DIR || path.join(sourceDir, "tests", "npm");
const prismBin = path.join(npmDir, "node_modules", ".bin", "prism");
// VIVARIUM_OPENAPI_SPEC: another spec file (to check that a broken spec makes the test fail).
let specPath =
  process.env.VIVARIUM_OPENAPI_SPEC || path.join(sourceDir, "server", "resources", "openapi.json");
const vivarium =
  process.argv.slice(2).find((a) => !a.startsWith("--")) ||
  path.join(sourceDir, "build", "ci", "bin", "vivarium");

// --closed: check against a copy of the spec whose object schemas allow no undocumented
// properties (additionalProperties: false, allOf merged), so a field the server answers but the
// spec does not describe is a violation too.
const closed = process.argv.includes("--closed");

if (!fs.existsSync(prismBin)) {
  console.log(`SKIP: ${prismBin} missing (npm ci in tests/npm installs @stoplight/prism-cli)`);
  process.exit(SKIP);
}
if (!fs.existsSync(vivarium)) {
  console.error(`FAIL: no vivarium binary at ${vivarium}`);
  process.exit(1);
}

const TOTAL_TIMEOUT_MS = 240_000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "viv-openapi-"));
const dataDir = path.join(tmp, "data");
// A private home: nothing touches the real user's config or keychain, also when run by hand.
const env = {
  ...process.env,
  HOME: tmp,
  XDG_DATA_HOME: path.join(tmp, ".local", "share"),
  XDG_CONFIG_HOME: path.join(tmp, ".config"),
  XDG_CACHE_HOME: path.join(tmp, ".cache"),
  XDG_RUNTIME_DIR: path.join(tmp, "run"),
  DBUS_SESSION_BUS_ADDRESS: "",
  VIVARIUM_DATA_DIR: "",
  QT_QPA_PLATFORM: "offscreen",
};
fs.mkdirSync(env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });

const children = [];
const servers = [];
let failures = 0;
let checks = 0;
const notes = [];

function cleanup() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill("SIGTERM");
      } catch {}
    }
  }
  for (const s of servers) {
    try {
      s.closeAllConnections?.();
      s.close();
    } catch {}
  }
}
function killHard() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill("SIGKILL");
      } catch {}
    }
  }
}
process.on("exit", () => {
  killHard();
  fs.rmSync(tmp, { recursive: true, force: true });
});
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    cleanup();
    process.exit(1);
  });
}
const overall = setTimeout(() => {
  console.error(`FAIL: the whole test took over ${TOTAL_TIMEOUT_MS / 1000} s`);
  dumpLogs();
  cleanup();
  process.exit(1);
}, TOTAL_TIMEOUT_MS);
overall.unref();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- child processes ---------------------------------------------------------------------

function viv(args, input) {
  const r = spawnSync(vivarium, [...args, "--data-dir", dataDir], {
    env,
    input: input ?? "",
    encoding: "utf8",
    timeout: 30_000,
  });
  if (r.status !== 0)
    throw new Error(`vivarium ${args.join(" ")} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const logs = new Map(); // name -> text
function startLogged(name, cmd, args) {
  const c = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(c);
  logs.set(name, "");
  const add = (d) => {
    const t = logs.get(name) + d.toString();
    logs.set(name, t.length > 400_000 ? t.slice(-200_000) : t);
  };
  c.stdout.on("data", add);
  c.stderr.on("data", add);
  return c;
}
function dumpLogs() {
  for (const [name, text] of logs) {
    console.error(`----- ${name} log (last 4000 characters) -----`);
    console.error(text.slice(-4000));
  }
}
async function waitForLog(name, child, rx, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = rx.exec(logs.get(name));
    if (m) return m;
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    await sleep(100);
  }
  throw new Error(`${name} not ready within ${timeoutMs / 1000} s`);
}
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
async function startPrism(name, upstream, extra) {
  for (let attempt = 0; attempt < 3; ++attempt) {
    const port = await freePort();
    const c = startLogged(name, prismBin, [
      "proxy", specPath, upstream, "--errors", "-h", "127.0.0.1", "-p", String(port),
      "-v", "warn", ...extra,
    ]);
    // Prism logs nothing at "warn" when it is up: poll its health route instead.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && c.exitCode === null) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/v1/health`, {
          signal: AbortSignal.timeout(2000),
        });
        if (r.status === 200) return `http://127.0.0.1:${port}`;
      } catch {}
      await sleep(250);
    }
    if (c.exitCode === null) throw new Error(`${name}: Prism not ready within 60 s`);
    // The port was taken between freePort() and Prism's listen: try another.
  }
  throw new Error(`${name}: Prism did not start`);
}

// The --closed copy of the spec.
function closeSpec(spec) {
  const resolve = (s) =>
    s && s.$ref ? resolve(s.$ref.split("/").slice(1).reduce((o, k) => o[k], spec)) : s;
  const isObject = (s) =>
    s.type === "object" || (Array.isArray(s.type) && s.type.includes("object"));
  const walk = (s) => {
    if (Array.isArray(s)) return s.forEach(walk);
    if (!s || typeof s !== "object") return;
    if (Array.isArray(s.allOf) && s.allOf.every((p) => isObject(resolve(p)) && resolve(p).properties)) {
      const parts = s.allOf.map(resolve);
      delete s.allOf;
      s.type = "object";
      s.properties = Object.assign({}, ...parts.map((p) => structuredClone(p.properties)));
      const req = parts.flatMap((p) => p.required || []);
      if (req.length) s.required = [...new Set(req)];
    }
    if (isObject(s) && s.properties && s.additionalProperties === undefined)
      s.additionalProperties = false;
    Object.values(s).forEach(walk);
  };
  walk(spec);
  return spec;
}

// ---- receivers ---------------------------------------------------------------------------

// A webhook receiver: /ok answers 204, /gone 410 (which disables the subscription).
const received = [];
async function startReceiver() {
  const s = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      received.push({ path: req.url, id: req.headers["webhook-id"], body });
      res.writeHead(req.url === "/gone" ? 410 : 204);
      res.end();
    });
  });
  servers.push(s);
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  return s.address().port;
}
// A model endpoint that never answers: runs on it stay running until cancelled.
async function startSilentModel() {
  const held = [];
  const s = http.createServer((req, res) => held.push(res));
  servers.push(s);
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  return s.address().port;
}

// ---- requests ----------------------------------------------------------------------------

const succeeded = new Set(); // "METHOD /concrete/path" answered 2xx and conforming
let problemTypes = [];
let upstream = "";
const TEXT = { "Content-Type": "text/plain" };
const JSON_TYPE = { "Content-Type": "application/json" };

// A GET straight to the server (not checked): for polling while waiting for a state.
async function direct(urlPath, key = "hooks") {
  const r = await fetch(upstream + urlPath, {
    headers: { Authorization: `Bearer ${keys[key]}` },
    signal: AbortSignal.timeout(10_000),
  });
  return r.json();
}
let strict = "";
let lenient = "";
const keys = {};

// One request through Prism, checked and printed. opts: {via, key, headers, json, body,
// expect (status or array), prismRefuses (a request violation from strict Prism is expected)}
async function call(method, urlPath, opts = {}) {
  const base = opts.via === "lenient" ? lenient : strict;
  const headers = { ...(opts.headers || {}) };
  if (opts.key) headers.Authorization = `Bearer ${keys[opts.key] ?? opts.key}`;
  let body = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers["Content-Type"] ??= "application/json";
  }
  let status = 0;
  let text = "";
  let resHeaders = new Headers();
  let error = "";
  try {
    const r = await fetch(base + urlPath, {
      method,
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
    status = r.status;
    resHeaders = r.headers;
    text = await r.text();
  } catch (e) {
    error = `${e.name}: ${e.message}${e.cause ? ` (${e.cause.message ?? e.cause})` : ""}`;
  }
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {}
  const prismType =
    data && typeof data.type === "string" && data.type.startsWith("https://stoplight.io/prism/")
      ? data.type.replace(/.*#/, "")
      : "";
  const expect = [].concat(opts.expect ?? 200);
  ++checks;
  let verdict = "OK";
  let message = "";
  const warnings = resHeaders.get("sl-violations");
  // Prism reports some mismatches only as warnings (an error status the operation does not
  // declare): they are spec gaps all the same.
  const warned = warnings && !prismType ? JSON.parse(warnings) : [];
  if (error) {
    verdict = "ERROR";
    message = error;
  } else if (prismType === "VIOLATIONS") {
    verdict = "VIOLATION";
    message = (data.validation || [])
      .map((v) => `${(v.location || []).join(".")}: ${v.message}`)
      .join("; ");
  } else if (prismType && opts.prismRefuses) {
    verdict = "OK";
    message = `Prism refused the request (${prismType}): ${describeValidation(data)}`;
  } else if (prismType) {
    verdict = "REQUEST-VIOLATION";
    message = `${prismType}: ${data.detail ?? ""} ${describeValidation(data)}`;
  } else if (opts.prismRefuses === true) {
    verdict = "UNEXPECTED";
    message = "strict Prism passed a request the spec should refuse";
  } else if (!expect.includes(status)) {
    verdict = "UNEXPECTED";
    message = `expected ${expect.join("|")}: ${text.slice(0, 300)}`;
  } else if (warned.length) {
    verdict = "VIOLATION";
    message = `(Prism warning) ${warned.map((v) => `${(v.location || []).join(".")}: ${v.message}`).join("; ")}`;
  } else if (status >= 400 && !problemTypes.includes(data?.type)) {
    verdict = "UNEXPECTED";
    message = `an error that is not one of the spec's problem types: ${text.slice(0, 200)}`;
  } else if (status >= 400 && (data.status !== status || !/^application\/problem\+json/.test(resHeaders.get("content-type")))) {
    verdict = "UNEXPECTED";
    message = `a problem whose status or content type is off: ${resHeaders.get("content-type")} ${text.slice(0, 200)}`;
  } else if (status >= 400) {
    message = data.type.replace("https://vivarium.dev/problems/", "");
  }
  if (verdict !== "OK") ++failures;
  else if (status < 300 && !prismType) succeeded.add(`${method} ${urlPath.split("?")[0]}`);
  const via = opts.via === "lenient" ? " [lenient]" : "";
  const line = `${method} ${urlPath}${via} ${status} ${verdict}${message ? ` ${message}` : ""}`;
  if (!opts.quiet) console.log(line);
  return { status, data, text, headers: resHeaders, verdict, line };
}
function describeValidation(data) {
  return (data?.validation || [])
    .map((v) => `${(v.location || []).join(".")} ${v.message}`)
    .join("; ");
}

// An invalid-on-purpose request: the server's answer through lenient Prism (checked against the
// spec), and strict Prism's verdict on the request. specRefuses: the spec itself makes the
// request invalid (strict Prism must refuse it), false: only the server can tell.
async function invalid(method, urlPath, opts, specRefuses) {
  const r = await call(method, urlPath, { ...opts, via: "lenient" });
  if (specRefuses)
    await call(method, urlPath, { ...opts, via: "strict", prismRefuses: true, expect: [422, 401] });
  return r;
}

function check(cond, what) {
  ++checks;
  if (!cond) {
    ++failures;
    console.log(`CHECK FAILED: ${what}`);
  }
}

async function poll(what, fn, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return true;
    await sleep(200);
  }
  check(false, `${what} within ${timeoutMs / 1000} s`);
  return false;
}

// ---- the scenario ------------------------------------------------------------------------

async function main() {
  fs.mkdirSync(dataDir, { recursive: true });
  problemTypes = JSON.parse(fs.readFileSync(specPath, "utf8"))["x-vivarium-problem-types"];
  if (closed) {
    const closedPath = path.join(tmp, "openapi-closed.json");
    fs.writeFileSync(closedPath, JSON.stringify(closeSpec(JSON.parse(fs.readFileSync(specPath, "utf8")))));
    specPath = closedPath;
  }
  const silentPort = await startSilentModel();
  const receiverPort = await startReceiver();
  const hook = (p) => `http://127.0.0.1:${receiverPort}${p}`;

  // Keys with the scopes the checks need.
  const mk = (name, scopes) =>
    JSON.parse(viv(["api-key", "create", name, "--json", ...scopes.flatMap((s) => ["--scope", s])]))
      .key;
  keys.admin = mk("admin", ["admin"]);
  keys.runs = mk("ci", ["runs:read", "runs:write"]);
  keys.reader = mk("reader", ["runs:read"]);
  keys.agents = mk("agents-ro", ["agents:read"]);
  keys.agentsw = mk("agents-rw", ["agents:read", "agents:write"]);
  keys.hooks = mk("hooks", ["webhooks:write", "runs:read", "runs:write"]);
  keys.doomed = mk("doomed", ["runs:read"]);
  keys.bogus = "viv_" + "A".repeat(43);

  // Agents: one on an endpoint that does not exist (its runs fail fast), one on a model that
  // never answers (its runs stay running until cancelled).
  viv(["model", "add", "silent", "--api", "openai", "--base-url", `http://127.0.0.1:${silentPort}/v1`, "--no-key"]);
  // A scripted model (vivarium-fake-model, built beside vivarium): a tool call, then an answer,
  // so a run succeeds with tool events, output and priced usage.
  const fakeBin = path.join(path.dirname(vivarium), "vivarium-fake-model");
  if (!fs.existsSync(fakeBin)) throw new Error(`no ${fakeBin} (build the vivarium-fake-model target)`);
  const script = path.join(tmp, "script.json");
  fs.writeFileSync(script, JSON.stringify([
    { tool_calls: [{ name: "file_write", arguments: { path: "notes.txt", content: "noted" } }] },
    { text: "all noted", usage: { input_tokens: 120, output_tokens: 30 } },
  ]));
  const fake = startLogged("fake-model", fakeBin, ["--script", script, "--repeat"]);
  const fakePort = (await waitForLog("fake-model", fake, /PORT (\d+)/, 15_000))[1];
  viv(["model", "add", "scripted", "--api", "openai", "--base-url", `http://127.0.0.1:${fakePort}/v1`,
       "--no-key", "--price-input", "1.5", "--price-output", "6"]);
  const base = JSON.parse(fs.readFileSync(path.join(sourceDir, "resources", "examples", "daily-digest.json")));
  const fast = { ...base, id: "fast", model: { endpoint: "nowhere", name: "none" }, schedules: [{ cron: "0 9 * * 1", tz: "UTC" }] };
  const slow = { ...base, id: "slow", model: { endpoint: "silent", name: "none" }, schedules: [] };
  const good = {
    id: "good", name: "Good", prompt: "Write notes.", model: { endpoint: "scripted", name: "gpt-4o-mini" },
    tools: { memory: false, files: true, shell: false }, sandbox: { tier: "none", min_tier: "none" },
  };
  for (const a of [fast, slow, good]) {
    const f = path.join(tmp, `${a.id}.json`);
    fs.writeFileSync(f, JSON.stringify(a));
    viv(["agent", "add", f]);
  }
  viv(["connect", "http_api_key", "--name", "demo", "--field", "base_url=https://api.example.com"],
      "canary-not-a-real-key\n");

  const serve = startLogged("serve", vivarium, [
    "serve", "--api", "--listen", "127.0.0.1:0", "--rate-limit", "0", "--data-dir", dataDir,
  ]);
  const m = await waitForLog("serve", serve, /HTTP API on http:\/\/127\.0\.0\.1:(\d+)/, 30_000);
  upstream = `http://127.0.0.1:${m[1]}`;
  [strict, lenient] = await Promise.all([
    startPrism("prism-strict", upstream, []),
    startPrism("prism-lenient", upstream, ["--validate-request=false"]),
  ]);
  console.log(`# vivarium ${upstream}, Prism strict ${strict}, lenient ${lenient}`);

  // -- system
  await call("GET", "/v1/health");
  await call("GET", "/openapi.json", { key: "reader" });
  await call("GET", "/metrics", { key: "reader" });
  await call("GET", "/metrics", { prismRefuses: true, expect: 401 }); // no key: Prism's own 401
  await call("GET", "/metrics", { key: "bogus", expect: 401 });
  await call("GET", "/openapi.json", { key: "bogus", expect: 401 });
  await call("GET", "/metrics", { key: "agents", expect: 403 });
  await call("GET", "/v1/runs", { key: "reader", headers: { Origin: "https://evil.example" }, expect: 403 });
  await call("GET", "/v1/health", { headers: { Origin: "https://evil.example" }, expect: 403 });

  // -- runs
  const created = await call("POST", "/v1/runs", { key: "runs", json: { agent: "fast", input: { n: 1 } }, expect: 202 });
  const runId = created.data?.id;
  check(created.headers.get("location") === `/v1/runs/${runId}`, "POST /v1/runs Location names the run");
  const idem = { key: "runs", headers: { "Idempotency-Key": "order-1234" }, expect: 202 };
  const first = await call("POST", "/v1/runs", { ...idem, json: { agent: "fast", input: "a" } });
  const replay = await call("POST", "/v1/runs", { ...idem, json: { agent: "fast", input: "a" } });
  check(replay.headers.get("idempotent-replayed") === "true" && replay.data?.id === first.data?.id,
        "an Idempotency-Key replay returns the same run with Idempotent-Replayed: true");
  await call("POST", "/v1/runs", { ...idem, json: { agent: "fast", input: "b" }, expect: 422 });
  const longIdem = { "Idempotency-Key": "x".repeat(300) };
  await invalid("POST", "/v1/runs", { key: "runs", headers: longIdem, json: { agent: "fast" }, expect: 400 }, true);
  await call("POST", "/v1/runs", { key: "runs", json: { agent: "no-such-agent" }, expect: [404, 422] });
  await invalid("POST", "/v1/runs", { key: "runs", json: { agnt: "fast" }, expect: 422 }, true);
  await invalid("POST", "/v1/runs", { key: "runs", json: { agent: 7 }, expect: 422 }, true);
  await call("POST", "/v1/runs", { key: "runs", via: "lenient", headers: TEXT, body: "agent=fast", expect: 415 });
  await call("POST", "/v1/runs", { key: "runs", via: "lenient", headers: JSON_TYPE, body: "[1,2]", expect: 400 });
  await call("POST", "/v1/runs", { key: "runs", via: "lenient", json: { agent: "fast", input: "x".repeat(1_100_000) }, expect: 413 });
  await call("POST", "/v1/runs", { key: "reader", json: { agent: "fast" }, expect: 403 });
  await call("POST", "/v1/runs", { key: "runs", json: { agent: "fast", webhook: hook("/ok") }, expect: 403 });
  const withHook = await call("POST", "/v1/runs", { key: "hooks", json: { agent: "fast", webhook: hook("/ok") }, expect: 202 });
  check(typeof withHook.data?.webhook?.secret === "string", "a per-run webhook answers its secret once");

  // A run that succeeds: output, usage, tool events, and its own webhook's run.finished.
  const ownSecret = "whsec_" + Buffer.alloc(32, 7).toString("base64");
  const ok = await call("POST", "/v1/agents/good/runs", {
    key: "hooks", json: { input: { topic: "x" }, webhook: { url: hook("/ok"), secret: ownSecret } }, expect: 202,
  });
  const okId = ok.data?.id;
  const okDone = await call("GET", `/v1/runs/${okId}?wait=30`, { key: "reader", timeoutMs: 40_000 });
  check(okDone.data?.status === "succeeded", `the scripted run succeeds: ${okDone.data?.status} ${okDone.data?.reason ?? ""}`);
  await call("GET", `/v1/runs/${okId}/events?limit=1000`, { key: "reader", headers: { Accept: "application/json" } });
  const okSse = await call("GET", `/v1/runs/${okId}/events?after=0`, { key: "reader", headers: { Accept: "text/event-stream" } });
  check(/event: tool\.call/.test(okSse.text), "the scripted run's stream has tool.call");
  await call("GET", "/v1/runs?status=succeeded&trigger=api:hooks", { key: "reader" });

  await call("GET", `/v1/runs/${runId}`, { key: "reader" });
  const waited = await call("GET", `/v1/runs/${runId}?wait=20`, { key: "reader", timeoutMs: 40_000 });
  check(waited.data?.terminal === true, `run ${runId} (endpoint missing) ends within 20 s: ${waited.data?.status}`);
  await invalid("GET", `/v1/runs/${runId}?wait=abc`, { key: "reader", expect: 400 }, true);
  await invalid("GET", `/v1/runs/${runId}?wait=61`, { key: "reader", expect: 400 }, true);
  await call("GET", `/v1/runs/${NO_RUN}`, { key: "reader", expect: 404 });
  await call("GET", `/v1/runs/${runId}`, { key: "agents", expect: 403 });

  const page1 = await call("GET", "/v1/runs?limit=1", { key: "reader" });
  check(page1.data?.next_cursor && page1.data?.links?.next, "a one-run page has next_cursor and links.next");
  if (page1.data?.next_cursor)
    await call("GET", `/v1/runs?limit=1&cursor=${encodeURIComponent(page1.data.next_cursor)}`, { key: "reader" });
  const filters = `agent=fast&status=${waited.data?.status ?? "failed"}&trigger=api&since=2020-01-01T00:00:00Z`;
  await call("GET", `/v1/runs?${filters}&limit=200`, { key: "reader" });
  await call("GET", "/v1/runs?trigger=api:ci", { key: "reader" });
  await invalid("GET", "/v1/runs?limit=0", { key: "reader", expect: 400 }, true);
  await invalid("GET", "/v1/runs?status=bogus", { key: "reader", expect: 400 }, true);
  await invalid("GET", "/v1/runs?since=yesterday", { key: "reader", expect: 400 }, true);
  await call("GET", "/v1/runs?cursor=not-a-cursor", { key: "reader", expect: 400 });

  const ev = await call("GET", `/v1/runs/${runId}/events`, { key: "reader", headers: { Accept: "application/json" } });
  const lastSeq = ev.data?.events?.at(-1)?.seq ?? 0;
  await call("GET", `/v1/runs/${runId}/events?after=1&limit=2`, { key: "reader", headers: { Accept: "application/json" } });
  await invalid("GET", `/v1/runs/${runId}/events?limit=0`, { key: "reader", headers: { Accept: "application/json" }, expect: 400 }, true);
  const sse = await call("GET", `/v1/runs/${runId}/events`, { key: "reader", headers: { Accept: "text/event-stream" } });
  check(/event: run\.finished/.test(sse.text), "the SSE stream of an ended run replays up to run.finished");
  const resume = { Accept: "text/event-stream", "Last-Event-ID": String(lastSeq) };
  await call("GET", `/v1/runs/${runId}/events`, { key: "reader", headers: resume, expect: 204 });
  await call("GET", `/v1/runs/${runId}/events`, { key: "reader", headers: { Accept: "text/html" }, expect: 406 });
  await call("GET", `/v1/runs/${NO_RUN}/events`, { key: "reader", headers: { Accept: "application/json" }, expect: 404 });

  await call("POST", `/v1/runs/${runId}/cancel`, { key: "runs", expect: 409 });
  await call("POST", `/v1/runs/${NO_RUN}/cancel`, { key: "runs", expect: 404 });
  await call("POST", `/v1/runs/${runId}/cancel`, { key: "reader", expect: 403 });
  const live = await call("POST", "/v1/agents/slow/runs", { key: "runs", json: { input: { q: 1 } }, expect: 202 });
  const liveState = await call("GET", `/v1/runs/${live.data?.id}?wait=1`, { key: "reader" });
  check(liveState.data?.terminal === false, `?wait=1 on a live run answers its live state: ${liveState.data?.status}`);
  await call("POST", `/v1/runs/${live.data?.id}/cancel`, { key: "runs", expect: 202 });
  await call("GET", `/v1/runs/${live.data?.id}?wait=20`, { key: "reader", timeoutMs: 40_000 });

  await call("POST", "/v1/agents/fast/runs", { key: "runs", expect: 202 }); // no body at all
  await call("POST", "/v1/agents/fast/runs", { key: "runs", json: {}, expect: 202 });
  await call("POST", "/v1/agents/no-such-agent/runs", { key: "runs", json: {}, expect: 404 });
  await invalid("POST", "/v1/agents/fast/runs", { key: "runs", json: { agent: "fast" }, expect: 422 }, true);
  await call("POST", "/v1/agents/fast/runs", { key: "runs", via: "lenient", headers: TEXT, body: "hi", expect: 415 });

  // -- agents
  await call("GET", "/v1/agents", { key: "agents" });
  const def = { ...base, id: "api-agent", schedules: [] };
  await call("POST", "/v1/agents", { key: "agentsw", json: def, expect: 201 });
  const again = await call("POST", "/v1/agents", { key: "agentsw", json: def, expect: 200 });
  check(again.data?.created === false, "saving an unchanged agent answers created: false");
  await call("POST", "/v1/agents", { key: "agentsw", json: { ...def, limits: { max_steps: "25" }, bogus: 1 }, expect: 422 });
  await call("POST", "/v1/agents", { key: "agentsw", via: "lenient", json: [def], expect: 400 });
  await call("POST", "/v1/agents", { key: "agents", json: def, expect: 403 });
  await call("GET", "/v1/agents/api-agent", { key: "agents" });
  await call("GET", "/v1/agents/api-agent?version=1", { key: "agents" });
  await call("GET", "/v1/agents/api-agent?version=99", { key: "agents", expect: 404 });
  await invalid("GET", "/v1/agents/api-agent?version=x", { key: "agents", expect: 400 }, true);
  await call("GET", "/v1/agents/no-such-agent", { key: "agents", expect: 404 });
  await call("PUT", "/v1/agents/api-agent", { key: "agentsw", json: { ...def, description: "changed" }, expect: 200 });
  await call("PUT", "/v1/agents/put-agent", { key: "agentsw", json: { ...def, id: "put-agent" }, expect: 201 });
  await call("PUT", "/v1/agents/api-agent", { key: "agentsw", json: { ...def, id: "other" }, expect: 422 });
  await call("GET", "/v1/agents/api-agent/versions", { key: "agents" });
  await call("GET", "/v1/agents/no-such-agent/versions", { key: "agents", expect: 404 });
  await call("DELETE", "/v1/agents/put-agent", { key: "agentsw", expect: 204 });
  await call("DELETE", "/v1/agents/put-agent", { key: "agentsw", expect: 404 });
  await call("GET", "/v1/agents/put-agent", { key: "agents", expect: 404 });
  await call("GET", "/v1/agents/put-agent/versions", { key: "agents" }); // versions stay readable
  await call("GET", "/v1/agents/put-agent?version=1", { key: "agents" });
  await call("DELETE", "/v1/agents/api-agent", { key: "agents", expect: 403 });

  // -- schedules
  await call("GET", "/v1/schedules", { key: "agents" });
  await call("GET", "/v1/schedules?agent=fast", { key: "agents" });
  const schedule = { agent: "fast", cron: "0 9 * * 1-5", tz: "Europe/Paris", input: { from: "api" } };
  const sch = await call("POST", "/v1/schedules", { key: "agentsw", json: schedule, expect: 201 });
  const schId = encodeURIComponent(sch.data?.id ?? "none");
  await call("POST", "/v1/schedules", { key: "agentsw", json: { agent: "fast", cron: "61 * * * *" }, expect: 422 });
  await call("POST", "/v1/schedules", { key: "agentsw", json: { agent: "no-such-agent", cron: "0 9 * * *" }, expect: [404, 422] });
  await invalid("POST", "/v1/schedules", { key: "agentsw", json: { agent: "fast", cron: "0 9 * * *", cronn: 1 }, expect: 422 }, true);
  await call("POST", "/v1/schedules", { key: "agents", json: { agent: "fast", cron: "0 9 * * *" }, expect: 403 });
  await call("GET", `/v1/schedules/${schId}`, { key: "agents" });
  await call("GET", "/v1/schedules/sch_nosuch", { key: "agents", expect: 404 });
  await call("POST", `/v1/schedules/${schId}/pause`, { key: "agentsw" });
  await call("POST", `/v1/schedules/${schId}/resume`, { key: "agentsw" });
  await call("POST", `/v1/schedules/${schId}/resume`, { key: "agentsw", expect: [200, 409] });
  await call("POST", "/v1/schedules/sch_nosuch/pause", { key: "agentsw", expect: 404 });
  await call("POST", "/v1/schedules/sch_nosuch/resume", { key: "agentsw", expect: 404 });
  await call("DELETE", `/v1/schedules/${encodeURIComponent("fast#1")}`, { key: "agentsw", expect: 409 });
  await call("DELETE", `/v1/schedules/${schId}`, { key: "agentsw", expect: 204 });
  await call("DELETE", `/v1/schedules/${schId}`, { key: "agentsw", expect: 404 });

  // -- connections
  const conns = await call("GET", "/v1/connections", { key: "agents" });
  check(!conns.text.includes("canary-not-a-real-key"), "connections never show a secret");
  await call("GET", "/v1/connections/demo", { key: "agents" });
  await call("GET", "/v1/connections/nosuch", { key: "agents", expect: 404 });
  await call("GET", "/v1/connections", { key: "reader", expect: 403 });

  // -- api keys
  const list = await call("GET", "/v1/api-keys", { key: "admin" });
  await call("GET", "/v1/api-keys", { key: "runs", expect: 403 });
  const nk = await call("POST", "/v1/api-keys", { key: "admin", json: { name: "temp", scopes: ["runs:read"] }, expect: 201 });
  await call("POST", "/v1/api-keys", { key: "admin", json: { name: "temp", scopes: ["runs:read"] }, expect: 409 });
  await invalid("POST", "/v1/api-keys", { key: "admin", json: { name: "temp2", scopes: ["runs:everything"] }, expect: 422 }, true);
  await invalid("POST", "/v1/api-keys", { key: "admin", json: { nam: "x" }, expect: 422 }, true);
  await call("GET", `/v1/api-keys/${nk.data?.id}`, { key: "admin" });
  await call("GET", "/v1/api-keys/key_NoSuchKy", { key: "admin", expect: 404 });
  await call("DELETE", `/v1/api-keys/${nk.data?.id}`, { key: "admin" });
  await call("DELETE", `/v1/api-keys/${nk.data?.id}`, { key: "admin", expect: 409 });
  await call("DELETE", "/v1/api-keys/key_NoSuchKy", { key: "admin", expect: 404 });
  const doomedId = list.data?.api_keys?.find((k) => k.name === "doomed")?.id;
  check(doomedId, "GET /v1/api-keys lists the keys made by the CLI");
  await call("DELETE", `/v1/api-keys/${doomedId}`, { key: "admin" });
  await call("GET", "/v1/runs", { key: "doomed", expect: 401 });

  // -- webhooks
  const subscription = { url: hook("/ok"), events: ["run.finished", "webhook.test"], description: "conformance" };
  const wh = await call("POST", "/v1/webhooks", { key: "hooks", json: subscription, expect: 201 });
  const whId = wh.data?.id;
  await call("POST", "/v1/webhooks", { key: "hooks", json: { url: hook("/ok"), events: null }, expect: 201 });
  await call("POST", "/v1/webhooks", { key: "hooks", json: { url: "ftp://127.0.0.1/x" }, expect: 422 });
  await invalid("POST", "/v1/webhooks", { key: "hooks", json: { uri: hook("/ok") }, expect: 422 }, true);
  await call("POST", "/v1/webhooks", { key: "runs", json: { url: hook("/ok") }, expect: 403 });
  await call("GET", "/v1/webhooks", { key: "hooks" });
  await call("GET", `/v1/webhooks?run_id=${withHook.data?.id}`, { key: "hooks" });
  const perRun = await call("GET", `/v1/webhooks?run_id=${okId}`, { key: "hooks" });
  const perRunId = perRun.data?.data?.[0]?.id;
  await poll("the per-run webhook's run.finished is delivered", async () => {
    return (await direct(`/v1/webhooks/${perRunId}/deliveries`)).data?.[0]?.status === "succeeded";
  });
  const prd = await call("GET", `/v1/webhooks/${perRunId}/deliveries`, { key: "hooks" });
  await call("GET", `/v1/webhooks/${perRunId}/deliveries/${prd.data?.data?.[0]?.id}`, { key: "hooks" });
  await call("GET", `/v1/webhooks/${whId}`, { key: "hooks" });
  await call("GET", "/v1/webhooks/wh_01JNOSUCHWEBHOOK000000000", { key: "hooks", expect: 404 });
  const t = await call("POST", `/v1/webhooks/${whId}/test`, { key: "hooks", expect: 202 });
  const deliveryId = t.data?.id;
  await poll("the test delivery reaches the receiver", () => received.some((r) => r.id === deliveryId));
  await poll("the test delivery is recorded as succeeded", async () => {
    return (await direct(`/v1/webhooks/${whId}/deliveries/${deliveryId}`)).status === "succeeded";
  });
  await call("GET", `/v1/webhooks/${whId}/deliveries`, { key: "hooks" });
  await call("GET", `/v1/webhooks/${whId}/deliveries?limit=1&before=${deliveryId}`, { key: "hooks" });
  await invalid("GET", `/v1/webhooks/${whId}/deliveries?limit=0`, { key: "hooks", expect: 400 }, true);
  await call("GET", `/v1/webhooks/${whId}/deliveries/${deliveryId}`, { key: "hooks" });
  await call("GET", `/v1/webhooks/${whId}/deliveries/msg_01JNOSUCHDELIVERY0000000`, { key: "hooks", expect: 404 });
  await call("GET", "/v1/webhooks/wh_01JNOSUCHWEBHOOK000000000/deliveries", { key: "hooks", expect: 404 });
  await call("POST", `/v1/webhooks/${whId}/rotate`, { key: "hooks", json: { overlap_s: 60 } });
  await call("POST", `/v1/webhooks/${whId}/rotate`, { key: "hooks" });
  await invalid("POST", `/v1/webhooks/${whId}/rotate`, { key: "hooks", json: { overlap_s: -5 }, expect: 422 }, true);
  await call("POST", "/v1/webhooks/wh_01JNOSUCHWEBHOOK000000000/rotate", { key: "hooks", json: {}, expect: 404 });
  await call("POST", "/v1/webhooks/wh_01JNOSUCHWEBHOOK000000000/test", { key: "hooks", expect: 404 });
  // A receiver answering 410 Gone disables its subscription; testing it then is a conflict.
  const gone = await call("POST", "/v1/webhooks", { key: "hooks", json: { url: hook("/gone"), events: ["webhook.test"] }, expect: 201 });
  await call("POST", `/v1/webhooks/${gone.data?.id}/test`, { key: "hooks", expect: 202 });
  await poll("a 410 Gone disables the subscription", async () => {
    return (await direct(`/v1/webhooks/${gone.data?.id}`)).enabled === false;
  });
  await call("GET", `/v1/webhooks/${gone.data?.id}`, { key: "hooks" });
  await call("GET", `/v1/webhooks/${gone.data?.id}/deliveries`, { key: "hooks" });
  await call("POST", `/v1/webhooks/${gone.data?.id}/test`, { key: "hooks", expect: 409 });

  // -- 413 on every POST and PUT, 415 on those that take a body (the server refuses both before
  // the handler).
  const concrete = {
    "{id}": (p) =>
      p.startsWith("/v1/runs/") ? runId
      : p.startsWith("/v1/agents/") ? (p.endsWith("/runs") ? "fast" : "api-agent")
      : p.startsWith("/v1/schedules/") ? encodeURIComponent("fast#1")
      : p.startsWith("/v1/webhooks/") ? gone.data?.id
      : p.startsWith("/v1/api-keys/") ? nk.data?.id
      : "x",
  };
  const spec = JSON.parse(fs.readFileSync(specPath, "utf8"));
  for (const [tpl, ops] of Object.entries(spec.paths)) {
    for (const method of ["post", "put", "patch"]) {
      if (!ops[method]) continue;
      const p = tpl.replace(/\{[a-z]+\}/g, (m) => concrete[m]?.(tpl) ?? "x");
      const M = method.toUpperCase();
      // Routes without a request body ignore one, whatever its type.
      if (ops[method].requestBody)
        await call(M, p, { key: "admin", via: "lenient", headers: TEXT, body: "not json", expect: 415 });
      await call(M, p, { key: "admin", via: "lenient", json: { padding: "x".repeat(1_100_000) }, expect: 413 });
    }
  }

  await call("DELETE", `/v1/webhooks/${whId}`, { key: "hooks", expect: 204 });
  await call("DELETE", `/v1/webhooks/${whId}`, { key: "hooks", expect: 404 });
  await call("DELETE", `/v1/webhooks/${gone.data?.id}`, { key: "runs", expect: 403 });

  // -- every operation of the spec was exercised with a success
  for (const [tpl, ops] of Object.entries(spec.paths)) {
    const rx = new RegExp(`^${tpl.replace(/\{[a-z]+\}/g, "[^/]+")}$`);
    for (const method of Object.keys(ops).filter((k) => k !== "parameters")) {
      const M = method.toUpperCase();
      check([...succeeded].some((c) => c.startsWith(`${M} `) && rx.test(c.slice(M.length + 1))),
            `${M} ${tpl} (${ops[method].operationId}) was exercised with a 2xx answer`);
    }
  }

  // -- rate limit of failed authentications (10/s per address, burst 20): last, since it
  // refuses everything without a valid key from this address for a while. Sent at once, so
  // the bucket empties faster than it refills; every answer is still checked by Prism.
  const burst = await Promise.all(
    Array.from({ length: 40 }, () =>
      call("GET", "/v1/runs", { key: "bogus", expect: [401, 429], quiet: true }),
    ),
  );
  const by = (st) => burst.filter((r) => r.status === st).length;
  const bad = burst.filter((r) => r.verdict !== "OK");
  console.log(
    `GET /v1/runs x40 at once, unknown key: ${by(401)} x 401, ${by(429)} x 429 ` +
      (bad.length ? `VIOLATION\n${bad.map((r) => r.line).join("\n")}` : "OK"),
  );
  check(by(429) > 0, "failed authentications are rate limited (429)");
  const limited = burst.find((r) => r.status === 429);
  check(!limited || Number(limited.headers.get("retry-after")) >= 1, "a 429 has Retry-After");
}

let exitCode = 1;
try {
  await main();
  exitCode = failures === 0 ? 0 : 1;
  console.log(`# ${checks} checks, ${failures} failed`);
} catch (e) {
  console.error(`FAIL: ${e.stack || e}`);
}
if (exitCode !== 0) dumpLogs();
cleanup();
await sleep(300);
process.exit(exitCode);
