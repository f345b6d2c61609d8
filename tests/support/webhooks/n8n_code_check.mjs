// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
//
// Runs the "Verify signature" Code node of examples/n8n/vivarium-workflow.json outside n8n, the
// way n8n runs it (an async function with $input, $env, require and this.helpers), against a
// delivery the test receiver recorded. Also checks the workflow's shape (connections name real
// nodes, the Webhook node keeps the raw body).
//
//   node n8n_code_check.mjs WORKFLOW.json DELIVERY.json   (secret in VIVARIUM_WEBHOOK_SECRET)
//   DELIVERY.json: {"headers": {...}, "body": "<raw body>"}
// Prints the node's output items as JSON; exits 1 with the node's error message if it throws.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const [workflowPath, deliveryPath] = process.argv.slice(2);
const workflow = JSON.parse(readFileSync(workflowPath, "utf8"));
const delivery = JSON.parse(readFileSync(deliveryPath, "utf8"));

const names = new Set(workflow.nodes.map((n) => n.name));
for (const [from, outputs] of Object.entries(workflow.connections)) {
  if (!names.has(from)) throw new Error(`connection from unknown node ${from}`);
  for (const list of outputs.main)
    for (const c of list) if (!names.has(c.node)) throw new Error(`connection to unknown node ${c.node}`);
}
const hook = workflow.nodes.find((n) => n.type === "n8n-nodes-base.webhook");
if (!hook || hook.parameters.options.rawBody !== true) throw new Error("the Webhook node must keep the raw body");
const code = workflow.nodes.find((n) => n.name === "Verify signature");
if (!code) throw new Error("no Verify signature node");

// The Webhook node's item: headers lower-cased, the parsed body, the raw bytes as binary "data".
const raw = Buffer.from(delivery.body, "utf8");
const headers = {};
for (const [k, v] of Object.entries(delivery.headers)) headers[k.toLowerCase()] = v;
const item = {
  json: { headers, params: {}, query: {}, body: JSON.parse(delivery.body) },
  binary: { data: { data: raw.toString("base64"), mimeType: "application/json" } },
};
const items = [item];
const $input = { all: () => items, first: () => items[0], item: items[0] };
const helpers = {
  getBinaryDataBuffer: async (index, property) => Buffer.from(items[index].binary[property].data, "base64"),
};
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const run = new AsyncFunction("$input", "$env", "require", code.parameters.jsCode);
try {
  const out = await run.call({ helpers }, $input, process.env, createRequire(import.meta.url));
  process.stdout.write(JSON.stringify(out) + "\n");
} catch (e) {
  process.stderr.write(String(e && e.message ? e.message : e) + "\n");
  process.exit(1);
}
