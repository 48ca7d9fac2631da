// An independent OAuth 2.0 / OpenID Provider for tokenlab's interop tests:
// panva's oidc-provider (installed from npm, pinned by package-lock.json),
// configured the way a real deployment of it would be for a CLI like tokenlab.
//
//   node server.js [PORT]        (or OIDC_PORT; 0 or unset picks a free port)
//
// It listens on 127.0.0.1 only, and prints one JSON line on stdout once it
// serves: {"issuer":"http://127.0.0.1:PORT"}. It exits when stdin closes, so
// a test that dies never leaves it running.
//
// Settings (environment only, so no secret is ever on a command line):
//   OIDC_MACHINE_SECRET_FILE  file holding the confidential client's secret
//   OIDC_MACHINE_SECRET       the same, when no file is given
//   OIDC_ACCESS_TTL           access token lifetime in seconds (default 600)
//   OIDC_RESOURCES            extra resource indicators accepted (space separated)
//   OIDC_REDIRECT_URIS        extra redirect URIs for the public client (space separated)
//
// What it offers:
//   - public client "tokenlab" (no secret, application_type native): the
//     authorization code flow with PKCE S256 (required), the device
//     authorization grant, refresh tokens with rotation (a reused refresh
//     token revokes the grant). Its redirect URIs are loopback ones; because
//     the client is native, oidc-provider accepts them on any port
//     (RFC 8252 §7.3), so the test need not know the client's port.
//   - confidential client "tokenlab-machine": client_credentials with
//     client_secret_basic.
//   - resource indicators (RFC 8707): a token requested for the resource
//     "urn:tokenlab:api" (or one of OIDC_RESOURCES) is a JWT (RFC 9068,
//     ES256, kid in the JWKS) with that audience; without a resource the
//     access token is opaque, as oidc-provider does.
//   - revocation and introspection.
//   - a login page of our own (oidc-provider's built-in devInteractions take
//     any login without a password): user "alice", password "password123".
//     Forms: POST /interaction/{uid}/login with fields "login" and
//     "password"; POST /interaction/{uid}/confirm (consent); POST
//     /interaction/{uid}/abort (deny).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const ACCOUNTS = new Map([['alice', { password: 'password123', name: 'Alice Example' }]]);
const API_RESOURCE = 'urn:tokenlab:api';
const API_SCOPE = 'api:read';
const MAX_FORM_BYTES = 16 * 1024;

function machineSecret() {
  const file = process.env.OIDC_MACHINE_SECRET_FILE;
  if (file) return fs.readFileSync(file, 'utf8').trim();
  return process.env.OIDC_MACHINE_SECRET || crypto.randomBytes(32).toString('base64url');
}

function words(name) {
  return (process.env[name] || '').split(/\s+/).filter(Boolean);
}

function signingKeys() {
  const jwk = (type, options, alg) => ({
    ...crypto.generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }),
    alg,
    use: 'sig',
    kid: `${alg.toLowerCase()}-${crypto.randomBytes(4).toString('hex')}`,
  });
  return [
    jwk('ec', { namedCurve: 'P-256' }, 'ES256'),
    jwk('rsa', { modulusLength: 2048 }, 'RS256'), // ID tokens default to RS256
  ];
}

function configuration() {
  const accessTTL = Number(process.env.OIDC_ACCESS_TTL || 600);
  const resources = new Set([API_RESOURCE, ...words('OIDC_RESOURCES')]);
  return {
    clients: [
      {
        client_id: 'tokenlab',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
        redirect_uris: [
          'http://127.0.0.1/callback',
          'http://127.0.0.1/',
          'http://localhost/callback',
          ...words('OIDC_REDIRECT_URIS'),
        ],
      },
      {
        client_id: 'tokenlab-machine',
        client_secret: machineSecret(),
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    jwks: { keys: signingKeys() },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], profile: ['name'] },
    scopes: ['openid', 'offline_access', API_SCOPE],
    async findAccount(_ctx, sub) {
      const account = ACCOUNTS.get(sub);
      if (!account) return undefined;
      return { accountId: sub, async claims() { return { sub, name: account.name }; } };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    rotateRefreshToken: true,
    // A CLI always wants a refresh token, with or without offline_access.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    features: {
      devInteractions: { enabled: false },
      deviceFlow: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        useGrantedResource: async () => true,
        async getResourceServerInfo(_ctx, resourceIndicator) {
          if (!resources.has(resourceIndicator)) throw new errors.InvalidTarget();
          return {
            scope: API_SCOPE,
            audience: resourceIndicator,
            accessTokenTTL: accessTTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    ttl: {
      AccessToken: accessTTL,
      ClientCredentials: accessTTL,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: 3600,
      RefreshToken: 24 * 3600,
      Interaction: 600,
      Session: 24 * 3600,
      Grant: 24 * 3600,
    },
  };
}

function escapeHTML(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res, status, title, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHTML(title)}</title></head>`
    + `<body><h1>${escapeHTML(title)}</h1>${body}</body></html>`);
}

function loginForm(uid, clientId, error) {
  return `<p>${escapeHTML(clientId)} asks you to sign in.</p>`
    + (error ? `<p class="error">${escapeHTML(error)}</p>` : '')
    + `<form method="post" action="/interaction/${escapeHTML(uid)}/login">`
    + '<label>Username <input type="text" name="login" autofocus required></label>'
    + '<label>Password <input type="password" name="password" required></label>'
    + '<button type="submit" id="sign-in">Sign in</button></form>'
    + `<form method="post" action="/interaction/${escapeHTML(uid)}/abort"><button type="submit" id="deny">Deny</button></form>`;
}

function consentForm(uid, clientId, details) {
  const asked = [...(details.missingOIDCScope || []), ...Object.values(details.missingResourceScopes || {}).flat()];
  return `<p>${escapeHTML(clientId)} asks for: ${escapeHTML(asked.join(' ') || 'access')}</p>`
    + `<form method="post" action="/interaction/${escapeHTML(uid)}/confirm"><button type="submit" id="allow">Allow</button></form>`
    + `<form method="post" action="/interaction/${escapeHTML(uid)}/abort"><button type="submit" id="deny">Deny</button></form>`;
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) {
        reject(new Error('form too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

// interaction serves /interaction/{uid}[/{action}]: the pages oidc-provider
// sends the browser to when it needs a login or a consent.
async function interaction(provider, req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    page(res, 400, 'Error', '<p>This sign-in request does not match your browser session.</p>');
    return;
  }
  const { prompt, params } = details;
  if (req.method === 'GET' && !action) {
    if (prompt.name === 'login') page(res, 200, 'Sign in', loginForm(uid, params.client_id));
    else page(res, 200, 'Authorize', consentForm(uid, params.client_id, prompt.details));
    return;
  }
  if (req.method !== 'POST') {
    page(res, 405, 'Error', '<p>Method not allowed.</p>');
    return;
  }
  const form = await readForm(req);
  switch (action) {
    case 'login': {
      const account = ACCOUNTS.get(form.get('login') || '');
      if (prompt.name !== 'login' || !account || account.password !== form.get('password')) {
        page(res, 200, 'Sign in', loginForm(uid, params.client_id, 'Wrong username or password.'));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: form.get('login') } }, { mergeWithLastSubmission: false });
      return;
    }
    case 'confirm': {
      if (prompt.name !== 'consent') {
        page(res, 400, 'Error', '<p>Nothing to confirm.</p>');
        return;
      }
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
      const missing = prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    case 'abort':
      await provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'End-User denied the request',
      }, { mergeWithLastSubmission: false });
      return;
    default:
      page(res, 404, 'Error', '<p>No such page.</p>');
  }
}

function main() {
  const port = Number(process.argv[2] || process.env.OIDC_PORT || 0);
  const server = http.createServer();
  server.listen(port, '127.0.0.1', () => {
    const issuer = `http://127.0.0.1:${server.address().port}`;
    const provider = new Provider(issuer, configuration());
    const oidc = provider.callback();
    server.on('request', (req, res) => {
      const match = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/.exec(new URL(req.url, issuer).pathname);
      if (!match) {
        oidc(req, res);
        return;
      }
      interaction(provider, req, res, match[1], match[2]).catch((err) => {
        // SessionNotFound and friends: the browser's cookie is gone or stale.
        if (!res.headersSent) page(res, err.statusCode || 400, 'Error', `<p>${escapeHTML(err.error_description || err.message)}</p>`);
      });
    });
    process.stdout.write(`${JSON.stringify({ issuer })}\n`);
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
}

main();
