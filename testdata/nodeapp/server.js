// A web app that logs its users in with openid-client (authorization code
// + PKCE) and calls an API with their access tokens: the Node app that
// tokenlab's app scenarios test (tokenlab run --app 'node server.js'). It
// follows tokenlab's environment contract (TOKENLAB_ISSUER, …, PORT) and
// path conventions (/login, /callback, /data, /logout, /healthz).
//
// APP_BUG introduces one classic bug at a time, as testdata/goapp does:
//   no-refresh          never refreshes: the API's 401 goes to the user
//   refresh-per-request every request refreshes on its own: concurrent requests send one refresh token many times
//   memory-rotation     keeps the rotated refresh token in memory only: a restart replays a spent one
//   no-retry            a refresh whose answer was lost is not retried: the user gets an error
//   error-loop          a refused refresh sends the user to log in but keeps the dead session, and tries it again on every request
//   logout-no-revoke    logout forgets the session locally and leaves its tokens valid at the server
//
// Sessions are kept in APP_STATE_DIR (the system's temporary directory by
// default), one file per OAuth client, so that a restart keeps them.
import * as client from 'openid-client';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = process.env;
const bug = env.APP_BUG || '';
const stateFile = join(env.APP_STATE_DIR || tmpdir(), `nodeapp-${env.TOKENLAB_CLIENT_ID}.json`);
const config = await client.discovery(new URL(env.TOKENLAB_ISSUER), env.TOKENLAB_CLIENT_ID, env.TOKENLAB_CLIENT_SECRET,
  undefined, { execute: [client.allowInsecureRequests] });

const pending = new Map(); // login state -> PKCE verifier
// session cookie -> { tokens: {access_token, refresh_token, expires_at}, refreshing: a promise while one refresh runs }
const sessions = new Map();
const saved = {};

try {
  for (const [sid, tokens] of Object.entries(JSON.parse(readFileSync(stateFile, 'utf8')))) {
    sessions.set(sid, { tokens });
    saved[sid] = tokens;
  }
  console.log(`nodeapp: loaded ${sessions.size} sessions from ${stateFile}`);
} catch (err) {
  if (err.code !== 'ENOENT') throw err;
}

// save records a session's tokens (null: the session ended) in the state file.
function save(sid, tokens) {
  if (tokens) saved[sid] = tokens;
  else delete saved[sid];
  writeFileSync(stateFile + '.tmp', JSON.stringify(saved), { mode: 0o600 });
  renameSync(stateFile + '.tmp', stateFile);
}

function tokensOf(response) {
  const expiresIn = response.expiresIn();
  return { access_token: response.access_token, refresh_token: response.refresh_token,
    expires_at: expiresIn === undefined ? undefined : Date.now() + expiresIn * 1000 };
}

// A refused refresh is the server's answer; anything else (a lost answer) is not.
const refused = (err) => err instanceof client.ResponseBodyError;

async function refresh(refreshToken) {
  try {
    return tokensOf(await client.refreshTokenGrant(config, refreshToken));
  } catch (err) {
    if (refused(err) || bug === 'no-retry') throw err;
    console.log(`nodeapp: refresh got no answer (${err.message}); trying once more with the same refresh token`);
    return tokensOf(await client.refreshTokenGrant(config, refreshToken));
  }
}

// token returns the session's access token, refreshing it when the app's
// clock says it expired or when stale (refused by the API) is still the
// session's. One refresh at a time per session: concurrent requests wait
// for it and share its result.
async function token(session, stale, start) {
  if (bug === 'refresh-per-request') { // each request refreshes with the tokens it started with
    if (stale === undefined && fresh(start)) return start;
    session.tokens = tokensOf(await client.refreshTokenGrant(config, start.refresh_token));
    save(session.id, session.tokens);
    return session.tokens;
  }
  while (session.refreshing) await session.refreshing.catch(() => {});
  if (fresh(session.tokens) && session.tokens.access_token !== stale) return session.tokens;
  if (bug === 'no-refresh') return session.tokens;
  session.refreshing = refresh(session.tokens.refresh_token);
  try {
    session.tokens = await session.refreshing;
  } finally {
    session.refreshing = undefined;
  }
  if (bug !== 'memory-rotation') save(session.id, session.tokens);
  return session.tokens;
}

const fresh = (t) => t.expires_at === undefined || t.expires_at - 10_000 > Date.now();

async function callAPI(tokens) {
  const resp = await fetch(env.TOKENLAB_API, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  return { status: resp.status, body: await resp.text() };
}

function answer(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function sessionOf(req) {
  const m = /(?:^|;\s*)sid=([^;]+)/.exec(req.headers.cookie || '');
  const sid = m ? m[1] : '';
  const s = sessions.get(sid);
  return s ? Object.assign(s, { id: sid }) : undefined;
}

function end(sid) {
  sessions.delete(sid);
  save(sid, null);
}

const routes = {
  'GET /healthz': async (req, res) => answer(res, 200, { status: 'ok' }),

  'GET /login': async (req, res) => {
    const state = client.randomState();
    const verifier = client.randomPKCECodeVerifier();
    pending.set(state, verifier);
    const url = client.buildAuthorizationUrl(config, { redirect_uri: env.TOKENLAB_REDIRECT_URI, state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    res.writeHead(302, { location: url.href });
    res.end();
  },

  'GET /callback': async (req, res, url) => {
    const state = url.searchParams.get('state');
    const verifier = pending.get(state);
    pending.delete(state);
    if (url.searchParams.get('error')) {
      return answer(res, 401, { error: 'login_required', message: 'the login was refused: ' + url.searchParams.get('error') });
    }
    if (!verifier) return answer(res, 400, { error: 'invalid_state' });
    let tokens;
    try {
      tokens = tokensOf(await client.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier, expectedState: state }));
    } catch (err) {
      console.log(`nodeapp: code exchange: ${err.message}`);
      return answer(res, 502, { error: 'exchange_failed' });
    }
    const sid = randomBytes(16).toString('hex');
    sessions.set(sid, { tokens });
    save(sid, tokens);
    res.setHeader('set-cookie', `sid=${sid}; Path=/; HttpOnly; SameSite=Lax`);
    answer(res, 200, { logged_in: true });
  },

  // data calls the API with the user's access token: refreshed when the
  // app's clock says it expired, and once more when the API refuses it.
  'GET /data': async (req, res) => {
    const session = sessionOf(req);
    if (!session) return answer(res, 401, { error: 'login_required' });
    const start = { ...session.tokens };
    try {
      let tokens = await token(session, undefined, start);
      let got = await callAPI(tokens);
      if (got.status === 401 && bug !== 'no-refresh') {
        tokens = await token(session, tokens.access_token, start);
        got = await callAPI(tokens);
      }
      return answer(res, got.status, got.body);
    } catch (err) {
      if (refused(err)) {
        if (bug !== 'error-loop') end(session.id); // dead at the server: the user logs in again
        return answer(res, 401, { error: 'login_required' });
      }
      console.log(`nodeapp: ${err.message}`);
      return answer(res, 502, { error: 'upstream', message: err.message });
    }
  },

  // logout revokes the refresh token at the server (RFC 7009), then forgets the session.
  'GET /logout': async (req, res) => {
    const session = sessionOf(req);
    if (session && bug !== 'logout-no-revoke') {
      try {
        await client.tokenRevocation(config, session.tokens.refresh_token, { token_type_hint: 'refresh_token' });
      } catch (err) {
        console.log(`nodeapp: revoke: ${err.message}`);
      }
    }
    if (session) end(session.id);
    res.setHeader('set-cookie', 'sid=; Path=/; Max-Age=0');
    answer(res, 200, { logged_out: true });
  },
};

const server = createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  const route = routes[`${req.method} ${url.pathname}`];
  if (!route) return answer(res, 404, { error: 'not_found' });
  try {
    await route(req, res, url);
  } catch (err) {
    console.log(`nodeapp: ${err.stack}`);
    if (!res.headersSent) answer(res, 500, { error: 'internal' });
  }
});

server.listen(Number(env.PORT), '127.0.0.1', () => console.log(`nodeapp: listening on 127.0.0.1:${env.PORT} (APP_BUG=${JSON.stringify(bug)})`));
process.on('SIGTERM', () => server.close(() => { console.log('nodeapp: stopped'); process.exit(0); }));
