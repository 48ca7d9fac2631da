// openid-client v6 (panva; a certified OpenID relying party) logs in to a
// tokenlab serve: discovery, PKCE with nonce and state (iss checked, RFC
// 9207), the ID token verified, userinfo, the protected API, a refresh
// with rotation, RP-initiated logout, then a refresh that must fail.
//
// The settings come from the environment (never argv): ISSUER, CLIENT_ID,
// CLIENT_SECRET, LOGIN_USER, LOGIN_PASSWORD. The script plays the user's
// browser too: it fills tokenlab's login form with fetch, as a person
// would in a browser, and hands the redirect to openid-client. One JSON
// object on stdout says what happened.
import * as client from 'openid-client'

const env = (name) => {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set`)
  return v
}
const issuer = env('ISSUER')
const redirectURI = 'http://127.0.0.1:9/callback'
const out = {}

// unescapeHTML reads an attribute value as a browser does.
const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
const unescapeHTML = (s) => s.replace(/&(#x?[0-9a-fA-F]+|[a-z]+);/g, (all, e) =>
  e[0] !== '#' ? (named[e] ?? all) : String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)))

// tokenlab serve listens on loopback http; openid-client refuses http
// unless told it is meant (its documented switch for local servers).
const config = await client.discovery(new URL(issuer), env('CLIENT_ID'), env('CLIENT_SECRET'), undefined,
  { execute: [client.allowInsecureRequests] })
out.issuer = config.serverMetadata().issuer

const verifier = client.randomPKCECodeVerifier()
const state = client.randomState()
const nonce = client.randomNonce()
const authorizeURL = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectURI, scope: 'openid profile email', state, nonce, resource: issuer,
  code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
})

// The user at the browser: the login page's hidden fields, the password, approve.
const page = await (await fetch(authorizeURL)).text()
const fields = new URLSearchParams()
for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
  fields.set(m[1], unescapeHTML(m[2]))
}
fields.set('username', env('LOGIN_USER'))
fields.set('password', env('LOGIN_PASSWORD'))
fields.set('action', 'approve')
const submitted = await fetch(new URL('/oauth/authorize', issuer), {
  method: 'POST', body: fields, redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' },
})
const callback = new URL(submitted.headers.get('location'))
out.callbackHasIss = callback.searchParams.get('iss') === issuer

const tokens = await client.authorizationCodeGrant(config, callback,
  { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true }, { resource: issuer })
const claims = tokens.claims()
out.idToken = { sub: claims.sub, aud: claims.aud, nonceMatched: claims.nonce === nonce, email: claims.email, name: claims.name }

const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
out.userinfo = { sub: info.sub, email: info.email }

const api = await client.fetchProtectedResource(config, tokens.access_token, new URL('/protected', issuer), 'GET')
out.apiStatus = api.status

const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
out.rotated = !!refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token
out.refreshedSub = refreshed.claims()?.sub

const endURL = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token, post_logout_redirect_uri: 'http://127.0.0.1:9/bye', state: 'bye-' + state,
})
const ended = await fetch(endURL, { redirect: 'manual' })
out.logoutRedirect = ended.status === 302 && new URL(ended.headers.get('location')).searchParams.get('state') === 'bye-' + state

try {
  await client.refreshTokenGrant(config, refreshed.refresh_token)
  out.afterLogout = 'refreshed'
} catch (e) {
  out.afterLogout = e.error ?? String(e)
}
process.stdout.write(JSON.stringify(out) + '\n')
