// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
//
// A real, strict OAuth 2.0 / OpenID Connect server for the connection tests: oidc-provider
// (tests/npm) on 127.0.0.1 with an ephemeral port.
//
//   node server.mjs [--access-ttl S] [--device-ttl S] [--device-interval S] [--code-ttl S]
//
// Prints one JSON line on stdout when listening: {"port", "issuer", "clients": {...}}, then
// logs nothing there. Exits when stdin closes (the test that started it went away).
//
// What it enforces: PKCE S256 on every authorization request, exact redirect URIs (loopback
// with any port for these native clients, RFC 8252), single-use authorization codes, refresh
// token rotation with reuse detection (an old refresh token revokes the whole grant), client
// authentication per client (client_secret_post, client_secret_basic, none), `iss` in the
// authorization response (RFC 9207), the device flow (RFC 8628, with slow_down when polled
// faster than the interval), revocation (RFC 7009), userinfo.
//
// The login and consent are automatic: /interaction/:uid signs in the test account and grants
// what was asked (or denies, see /test/deny-next). Test-only controls under /test/:
//   GET  /test/browse?url=U[&deny=1][&follow=1]  the server's scripted browser follows U (an
//        authorization URL or the device verification_uri_complete) and returns JSON: the
//        redirect that left the server (not followed unless follow=1), or the last page.
//   POST /test/fail?path=/token&status=500&count=1  answer the next requests to path with it
//   POST /test/slow-down?count=1                   answer the next device polls slow_down
//   POST /test/deny-next                           the next interaction denies access
//   GET  /test/stats                               counters: token requests per grant type,
//        device polls, slow_downs, revocations
import * as http from 'node:http';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { browse } from './browse.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const npmDir = process.env.VIVARIUM_NPM_DIR || path.resolve(here, '../../npm');
const require = createRequire(path.join(npmDir, 'package.json'));
const { default: Provider } = await import(pathToFileURL(require.resolve('oidc-provider')).href);

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}

const accessTtl = option('access-ttl', 3600);
const deviceTtl = option('device-ttl', 600);
const deviceInterval = option('device-interval', 1);
const codeTtl = option('code-ttl', 60);
const Account = 'test-user';
const DeviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';

// Client secrets are canaries too: the tests grep every artifact for them.
const clients = {
  'vivarium-post': {
    secret: 'cs-post-CANARY-7f3a9c1e5b2d4f6a8c0e2b4d',
    method: 'client_secret_post',
  },
  'vivarium-basic': {
    secret: 'cs-basic-CANARY-1b3d5f7a9c2e4b6d8f0a1c3e',
    method: 'client_secret_basic',
  },
  'vivarium-public': { method: 'none' },
};

const configuration = {
  clients: Object.entries(clients).map(([id, c]) => ({
    client_id: id,
    ...(c.secret ? { client_secret: c.secret } : {}),
    application_type: 'native',
    redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code', 'refresh_token', DeviceGrant],
    response_types: ['code'],
    token_endpoint_auth_method: c.method,
  })),
  pkce: { required: () => true, methods: ['S256'] },
  features: {
    devInteractions: { enabled: false },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    userinfo: { enabled: true },
  },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'things:read', 'things:write'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, email: `${sub}@example.test`, email_verified: true, name: 'Test User' };
      },
    };
  },
  // A refresh token for every grant of a client allowed to refresh, offline_access or not
  // (most OAuth 2.0 providers work this way), and always rotated.
  async issueRefreshToken(ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: accessTtl,
    AuthorizationCode: codeTtl,
    DeviceCode: deviceTtl,
    Grant: 86400,
    IdToken: 3600,
    Interaction: 600,
    RefreshToken: 86400,
    Session: 86400,
  },
  cookies: { keys: ['vivarium-oidc-test-cookies'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><title>error</title><p>${out.error}: ${out.error_description || ''}</p>`;
  },
};

// Listen first: the issuer names the port, which exists only then.
const server = http.createServer();
await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, configuration);

// --- test state -----------------------------------------------------------------------------

const stats = {
  token: {},          // grant_type -> count
  devicePolls: 0,
  slowDowns: 0,
  tooFast: 0,
  revocations: 0,
  interactions: 0,
};
const failures = new Map(); // path -> {status, count}
let forcedSlowDowns = 0;
let denyNext = false;
const devices = new Map(); // device_code -> {last, interval}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}

function json(ctx, status, body) {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.set('cache-control', 'no-store');
  ctx.body = body;
}

provider.use(async (ctx, next) => {
  const url = new URL(ctx.url, 'http://127.0.0.1');

  // --- controls ---
  if (ctx.path === '/test/stats') return json(ctx, 200, stats);
  if (ctx.path === '/test/fail' && ctx.method === 'POST') {
    failures.set(url.searchParams.get('path') || '/token', {
      status: Number(url.searchParams.get('status') || 500),
      count: Number(url.searchParams.get('count') || 1),
    });
    return json(ctx, 200, { ok: true });
  }
  if (ctx.path === '/test/slow-down' && ctx.method === 'POST') {
    forcedSlowDowns = Number(url.searchParams.get('count') || 1);
    return json(ctx, 200, { ok: true });
  }
  if (ctx.path === '/test/deny-next' && ctx.method === 'POST') {
    denyNext = true;
    return json(ctx, 200, { ok: true });
  }
  if (ctx.path === '/test/browse') {
    try {
      const result = await browse(url.searchParams.get('url'), {
        deny: url.searchParams.get('deny') === '1',
        follow: url.searchParams.get('follow') === '1',
      });
      return json(ctx, 200, result);
    } catch (e) {
      return json(ctx, 500, { error: e.message });
    }
  }

  // --- injected failures ---
  const failure = failures.get(ctx.path);
  if (failure && failure.count > 0) {
    failure.count -= 1;
    ctx.status = failure.status;
    ctx.type = 'html';
    ctx.body = '<!DOCTYPE html><h1>Internal Server Error</h1><p>the test asked for it</p>';
    return undefined;
  }

  // --- automatic login and consent ---
  if (ctx.path.startsWith('/interaction/') && ctx.method === 'GET') {
    stats.interactions += 1;
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    let result;
    if (denyNext) {
      denyNext = false;
      result = { error: 'access_denied', error_description: 'the test user declined' };
    } else {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: Account, clientId: details.params.client_id });
      if (details.params.scope) grant.addOIDCScope(details.params.scope);
      const grantId = await grant.save();
      result = { login: { accountId: Account }, consent: { grantId } };
    }
    const to = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: false,
    });
    ctx.status = 303;
    ctx.redirect(to);
    return undefined;
  }

  // --- the token endpoint: counters and the device flow's polling discipline ---
  if (ctx.path === '/token' && ctx.method === 'POST') {
    const raw = await readBody(ctx.req);
    ctx.request.body = raw; // oidc-provider reads an already read body from here
    const params = new URLSearchParams(raw);
    const grantType = params.get('grant_type') || '';
    stats.token[grantType] = (stats.token[grantType] || 0) + 1;
    if (grantType === DeviceGrant) {
      stats.devicePolls += 1;
      const state = devices.get(params.get('device_code'));
      const now = Date.now();
      if (state) {
        const tooSoon = now - state.last < state.interval * 1000 - 300;
        if (forcedSlowDowns > 0 || tooSoon) {
          if (forcedSlowDowns > 0) forcedSlowDowns -= 1;
          else stats.tooFast += 1;
          stats.slowDowns += 1;
          state.interval += 5; // RFC 8628 3.5: the client must add 5 s for good
          state.last = now;
          return json(ctx, 400, {
            error: 'slow_down',
            error_description: `poll at most every ${state.interval} s`,
          });
        }
        state.last = now;
      }
    }
  }
  if (ctx.path === '/token/revocation' && ctx.method === 'POST') stats.revocations += 1;

  await next();

  if (ctx.path === '/device/auth' && ctx.status === 200 && ctx.body?.device_code) {
    ctx.body.interval = deviceInterval;
    devices.set(ctx.body.device_code, { last: Date.now(), interval: deviceInterval });
  }
  return undefined;
});

server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({
  port,
  issuer,
  clients: Object.fromEntries(Object.entries(clients).map(([id, c]) => [id, {
    secret: c.secret || null,
    method: c.method,
  }])),
})}\n`);

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
