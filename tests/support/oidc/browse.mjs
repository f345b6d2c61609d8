// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
//
// A tiny scripted browser for the OAuth tests: follows redirects with a cookie jar, submits the
// authorization server's own forms (device code entry and confirmation), and stops at the first
// redirect that leaves the server's origin (the client's loopback redirect), which it returns
// or follows. No JavaScript, no rendering: just what a user's clicks would send.
//
// As a module: browse(url, {deny, follow}) -> {redirect, status, url, body}.
// As a program (the $BROWSER of a test): node browse.mjs [--deny] URL
//   follows everything, the loopback redirect included, and exits 0 when the last page loaded.

const MaxHops = 40;

function parseSetCookie(jar, header) {
  const [pair, ...attributes] = header.split(';');
  const eq = pair.indexOf('=');
  if (eq <= 0) return;
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  const expired = attributes.some((a) => {
    const [k, v] = a.split('=').map((s) => s && s.trim().toLowerCase());
    return (k === 'max-age' && Number(v) <= 0)
      || (k === 'expires' && Date.parse(v) < Date.now());
  });
  if (expired || value === '') jar.delete(name);
  else jar.set(name, value);
}

function decodeEntities(s) {
  return s.replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function attribute(tag, name) {
  const m = tag.match(new RegExp(`\\s${name}="([^"]*)"`, 'i'));
  return m ? decodeEntities(m[1]) : undefined;
}

// The first form of the page with its hidden inputs; for the device confirmation, what the
// "Continue" or "[ Abort ]" button would add.
function pickForm(html, deny) {
  const m = html.match(/<form\b([^>]*)>([\s\S]*?)<\/form>/i);
  if (!m) return null;
  const [, formAttrs, inner] = m;
  const fields = new URLSearchParams();
  for (const input of inner.match(/<input\b[^>]*>/gi) || []) {
    const type = (attribute(input, 'type') || 'text').toLowerCase();
    const name = attribute(input, 'name');
    if (!name || type !== 'hidden') continue;
    fields.append(name, attribute(input, 'value') ?? '');
  }
  const id = attribute(formAttrs, 'id');
  if (id === 'op.deviceConfirmForm' && deny) {
    fields.delete('confirm');
    fields.append('abort', 'yes');
  }
  if (id === 'op.deviceInputForm' && !fields.has('user_code')) return null; // needs a human
  return {
    method: (attribute(formAttrs, 'method') || 'GET').toUpperCase(),
    action: attribute(formAttrs, 'action') || '',
    fields,
  };
}

export async function browse(start, { deny = false, follow = false } = {}) {
  const origin = new URL(start).origin;
  const jar = new Map();
  let url = start;
  let method = 'GET';
  let body;
  for (let hop = 0; hop < MaxHops; hop += 1) {
    const headers = {};
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method, body, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) parseSetCookie(jar, c);
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      await res.arrayBuffer();
      const next = new URL(res.headers.get('location'), url).href;
      if (new URL(next).origin !== origin) {
        if (!follow) return { redirect: next };
        const last = await fetch(next, { redirect: 'manual' });
        return { redirect: next, status: last.status, url: next, body: (await last.text()).slice(0, 4000) };
      }
      url = next;
      method = 'GET';
      body = undefined;
      continue;
    }
    const text = await res.text();
    const form = res.headers.get('content-type')?.includes('html') ? pickForm(text, deny) : null;
    if (form) {
      const target = new URL(form.action, url);
      if (form.method === 'GET') {
        target.search = form.fields.toString();
        url = target.href;
        body = undefined;
      } else {
        url = target.href;
        body = form.fields.toString();
      }
      method = form.method;
      continue;
    }
    return { status: res.status, url, body: text.slice(0, 4000) };
  }
  throw new Error(`more than ${MaxHops} hops from ${start}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const deny = args.includes('--deny');
  const target = args.filter((a) => a !== '--deny')[0];
  browse(target, { deny, follow: true }).then(
    (r) => process.exit(r.status && r.status < 500 ? 0 : 1),
    (e) => { process.stderr.write(`browse.mjs: ${e.message}\n`); process.exit(1); },
  );
}
