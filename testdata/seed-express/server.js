// A seed-style JWT API, as the "access and refresh tokens with Express"
// articles build it: POST /register, /login, /token, /logout and GET
// /protected, access tokens of 15 minutes and refresh tokens of 7 days
// signed with jsonwebtoken, refresh tokens kept in memory and rotated on
// every use, and 403 for an invalid or expired token.
//
// Tokens travel both ways the articles show: in JSON bodies
// ({accessToken, refreshToken}; POST /token and /logout take {token}) and
// in httpOnly cookies (AccessToken, RefreshToken), so tokenlab's seed-json
// and seed-cookie profiles both work.
//
// Start: node server.js [PORT]   (or PORT=8081 node server.js)
// It listens on 127.0.0.1 only and prints one line:
//   seed-express listening on http://127.0.0.1:PORT
// PORT 0 (the default) picks a free port.
'use strict';

const crypto = require('crypto');
const express = require('express');
const jwt = require('jsonwebtoken');
const cookieParser = require('cookie-parser');

const ACCESS_TOKEN_EXPIRY = process.env.ACCESS_TOKEN_EXPIRY || '15m';
const REFRESH_TOKEN_EXPIRY = process.env.REFRESH_TOKEN_EXPIRY || '7d';
// Fresh secrets per start unless given: an in-memory lab server.
const ACCESS_TOKEN_SECRET = process.env.ACCESS_TOKEN_SECRET || crypto.randomBytes(32).toString('hex');
const REFRESH_TOKEN_SECRET = process.env.REFRESH_TOKEN_SECRET || crypto.randomBytes(32).toString('hex');
const MAX_USERS = 10000;
const MAX_REFRESH_TOKENS = 100000;

const users = new Map([['alice', hashPassword('password123')]]); // username -> salt:hash
const refreshTokens = new Set(); // the refresh tokens that may still be used

function hashPassword(password, salt = crypto.randomBytes(16).toString('hex')) {
  return salt + ':' + crypto.scryptSync(password, salt, 32).toString('hex');
}

function passwordMatches(password, stored) {
  const [salt, hash] = stored.split(':');
  const got = crypto.scryptSync(password, salt, 32);
  return crypto.timingSafeEqual(got, Buffer.from(hash, 'hex'));
}

function fail(res, status, error, message) {
  return res.status(status).json({ error, message });
}

function issue(res, username) {
  const accessToken = jwt.sign({ username }, ACCESS_TOKEN_SECRET, { expiresIn: ACCESS_TOKEN_EXPIRY, jwtid: crypto.randomUUID() });
  const refreshToken = jwt.sign({ username }, REFRESH_TOKEN_SECRET, { expiresIn: REFRESH_TOKEN_EXPIRY, jwtid: crypto.randomUUID() });
  if (refreshTokens.size >= MAX_REFRESH_TOKENS) refreshTokens.clear(); // bounded: a lab server
  refreshTokens.add(refreshToken);
  const cookie = { httpOnly: true, sameSite: 'strict', path: '/' };
  res.cookie('AccessToken', accessToken, cookie);
  res.cookie('RefreshToken', refreshToken, cookie);
  const expiresIn = jwt.decode(accessToken).exp - Math.floor(Date.now() / 1000);
  return res.json({ accessToken, refreshToken, expiresIn });
}

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '16kb' }));
app.use(cookieParser());

app.post('/register', (req, res) => {
  const { username, password } = req.body || {};
  if (typeof username !== 'string' || typeof password !== 'string' || !username || password.length < 8) {
    return fail(res, 400, 'invalid_request', 'send {username, password} with a password of 8 characters or more');
  }
  if (users.has(username)) return fail(res, 409, 'user_exists', 'that username is taken');
  if (users.size >= MAX_USERS) return fail(res, 503, 'full', 'the lab server holds no more users');
  users.set(username, hashPassword(password));
  return res.status(201).json({ username });
});

app.post('/login', (req, res) => {
  const { username, password } = req.body || {};
  const stored = typeof username === 'string' && users.get(username);
  if (!stored || typeof password !== 'string' || !passwordMatches(password, stored)) {
    return fail(res, 401, 'invalid_credentials', 'wrong username or password');
  }
  return issue(res, username);
});

app.post('/token', (req, res) => {
  const token = (req.body && req.body.token) || req.cookies.RefreshToken;
  if (!token) return fail(res, 401, 'missing_token', 'send the refresh token as {token} or the RefreshToken cookie');
  if (!refreshTokens.has(token)) return fail(res, 403, 'invalid_token', 'the refresh token is unknown or already used');
  jwt.verify(token, REFRESH_TOKEN_SECRET, (err, claims) => {
    refreshTokens.delete(token); // rotation: each refresh token works once
    if (err) return fail(res, 403, 'invalid_token', 'the refresh token is invalid or expired');
    return issue(res, claims.username);
  });
});

app.post('/logout', (req, res) => {
  const token = (req.body && req.body.token) || req.cookies.RefreshToken;
  refreshTokens.delete(token);
  res.clearCookie('AccessToken');
  res.clearCookie('RefreshToken');
  return res.json({ message: 'logged out' });
});

function authenticate(req, res, next) {
  const header = req.headers.authorization || '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : req.cookies.AccessToken;
  if (!token) return fail(res, 401, 'missing_token', 'send the access token as a Bearer header or the AccessToken cookie');
  jwt.verify(token, ACCESS_TOKEN_SECRET, { algorithms: ['HS256'] }, (err, claims) => {
    if (err) return fail(res, 403, 'invalid_token', 'the access token is invalid or expired');
    req.user = claims;
    return next();
  });
}

app.get('/protected', authenticate, (req, res) => {
  res.json({ message: 'hello ' + req.user.username, username: req.user.username });
});

app.use((req, res) => fail(res, 404, 'not_found', 'no such route: ' + req.path));
app.use((err, req, res, next) => fail(res, 400, 'invalid_request', 'the request could not be read'));

const port = Number(process.argv[2] || process.env.PORT || 0);
const server = app.listen(port, '127.0.0.1', () => {
  console.log('seed-express listening on http://127.0.0.1:' + server.address().port);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
