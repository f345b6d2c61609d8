// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
//
// An SSE client for the API tests and the benchmark: the npm `eventsource` package (the WHATWG
// EventSource algorithm: Last-Event-ID on reconnect, retry hints, 204 stops it) follows
// GET /v1/runs/{id}/events with N clients at once. With --drop-every K each client talks
// through its own TCP proxy that cuts the connection in the middle of the event after the
// K-th, on every connection, so resuming is exercised repeatedly and at awkward boundaries.
//
//   node sse_client.mjs --url http://127.0.0.1:P/v1/runs/RUN/events --key viv_...
//        [--clients N] [--drop-every K] [--timeout-ms T]
//
// Prints one JSON object: per client the seq ids and types received in order, how many
// connections it made, and whether it ended closed (the server's 204 after run.finished).
// Needs VIVARIUM_NPM_DIR (tests/npm, where `npm ci` installed eventsource).
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = Object.fromEntries(
    process.argv.slice(2).reduce((acc, a, i, all) => {
        if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
        return acc;
    }, []));
const npmDir = process.env.VIVARIUM_NPM_DIR;
if (!npmDir || !args.url || !args.key) {
    console.error('usage: VIVARIUM_NPM_DIR=... node sse_client.mjs --url URL --key KEY ' +
                  '[--clients N] [--drop-every K] [--timeout-ms T]');
    process.exit(2);
}
const { EventSource } = await import(
    pathToFileURL(path.join(npmDir, 'node_modules', 'eventsource', 'dist', 'index.js')).href);

const clients = Number(args.clients ?? 1);
const dropEvery = Number(args['drop-every'] ?? 0);
const timeoutMs = Number(args['timeout-ms'] ?? 60000);
const target = new URL(args.url);

/** A proxy that rewrites Host to the target's and cuts each connection mid-event. */
function startProxy(state) {
    return new Promise((resolve) => {
        const server = net.createServer((client) => {
            state.connections += 1;
            const upstream = net.connect(Number(target.port), target.hostname);
            let seen = 0;
            let head = true;
            client.on('data', (d) => {
                if (head) {
                    // Only the request head: the API checks Host against its own port.
                    head = false;
                    d = Buffer.from(d.toString('latin1').replace(
                        /\r\nhost: [^\r]*/i, `\r\nHost: ${target.host}`), 'latin1');
                }
                upstream.write(d);
            });
            upstream.on('data', (d) => {
                if (dropEvery <= 0) return client.write(d);
                const text = d.toString('latin1');
                let at = 0;
                for (;;) {
                    const i = text.indexOf('\nid: ', at);
                    if (i < 0) break;
                    seen += 1;
                    if (seen === dropEvery + 1) {
                        // Forward half of this event, then drop both sides: the client holds
                        // an incomplete event it must discard.
                        client.write(Buffer.from(text.slice(0, i + 8), 'latin1'));
                        state.drops += 1;
                        client.destroy();
                        upstream.destroy();
                        return;
                    }
                    at = i + 1;
                }
                client.write(d);
            });
            const end = () => { client.destroy(); upstream.destroy(); };
            client.on('error', end); upstream.on('error', end);
            client.on('close', end); upstream.on('close', end);
        });
        server.listen(0, '127.0.0.1', () => resolve(server));
    });
}

async function follow(index) {
    const state = { connections: 0, drops: 0 };
    let url = target;
    let proxy = null;
    if (dropEvery > 0) {
        proxy = await startProxy(state);
        url = new URL(target);
        url.port = String(proxy.address().port);
    }
    const result = { client: index, ids: [], types: [], closed: false, errors: 0 };
    await new Promise((resolve) => {
        const es = new EventSource(url, {
            fetch: (input, init) => {
                if (!proxy) state.connections += 1;
                return fetch(input, {
                    ...init,
                    headers: { ...init.headers, Authorization: `Bearer ${args.key}` },
                });
            },
        });
        const done = () => { clearTimeout(timer); es.close(); resolve(); };
        const timer = setTimeout(done, timeoutMs);
        const onEvent = (e) => {
            result.ids.push(Number(e.lastEventId));
            result.types.push(e.type);
            const data = JSON.parse(e.data);
            if (data.seq !== Number(e.lastEventId)) result.mismatch = true;
        };
        for (const t of ['run.queued', 'run.started', 'llm.request', 'llm.response', 'tool.call',
                         'tool.result', 'log', 'approval.requested', 'approval.resolved',
                         'run.output', 'run.finished']) {
            es.addEventListener(t, onEvent);
        }
        es.onerror = () => {
            result.errors += 1;
            // After run.finished the server closes; the reconnect gets 204 and EventSource
            // gives up (readyState CLOSED): the end a client should see.
            if (es.readyState === EventSource.CLOSED) {
                result.closed = true;
                done();
            }
        };
    });
    if (proxy) proxy.close();
    result.connections = state.connections;
    result.drops = state.drops;
    return result;
}

const results = await Promise.all(Array.from({ length: clients }, (_, i) => follow(i)));
process.stdout.write(JSON.stringify({ clients: results }) + '\n');
process.exit(0);
