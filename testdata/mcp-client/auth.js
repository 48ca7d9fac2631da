// The MCP TypeScript SDK's client auth() against a tokenlab serve, as an
// MCP client meets a protected server it knows only by URL: the API's 401
// names its RFC 9728 metadata, which names the authorization server;
// then RFC 8414 metadata, RFC 7591 registration, PKCE with the RFC 8707
// resource, tokens, a refresh with rotation. The SDK has no logout of its
// own: the script calls the discovered end_session_endpoint, after which
// auth() finds the refresh token dead and starts a new authorization.
//
// The settings come from the environment: SERVER_URL (the API), and the
// user's LOGIN_USER and LOGIN_PASSWORD, typed into tokenlab's login page
// by the script, which plays the browser. One JSON object on stdout.
import { auth, extractResourceMetadataUrl } from '@modelcontextprotocol/sdk/client/auth.js'

const env = (name) => {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set`)
  return v
}
const serverUrl = new URL(env('SERVER_URL'))
const redirectUrl = 'http://127.0.0.1:9/callback'
const out = {}

// An OAuthClientProvider that keeps everything in memory.
const store = {}
const provider = {
  get redirectUrl() { return redirectUrl },
  get clientMetadata() {
    return {
      client_name: 'tokenlab MCP interop', redirect_uris: [redirectUrl], token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
    }
  },
  state: async () => (store.state = crypto.randomUUID()),
  clientInformation: () => store.client,
  saveClientInformation: (info) => { store.client = info },
  tokens: () => store.tokens,
  saveTokens: (tokens) => { store.tokens = tokens },
  redirectToAuthorization: (url) => { store.authorizeURL = url },
  saveCodeVerifier: (v) => { store.verifier = v },
  codeVerifier: () => store.verifier,
  saveDiscoveryState: (s) => { store.discovery = s },
  discoveryState: () => store.discovery,
  invalidateCredentials: (scope) => {
    if (scope === 'all' || scope === 'tokens') delete store.tokens
    if (scope === 'all' || scope === 'client') delete store.client
  },
}

// unescapeHTML reads an attribute value as a browser does.
const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
const unescapeHTML = (s) => s.replace(/&(#x?[0-9a-fA-F]+|[a-z]+);/g, (all, e) =>
  e[0] !== '#' ? (named[e] ?? all) : String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)))

// signIn is the user at the browser: the login form, approved; the
// redirect's query.
async function signIn(authorizeURL) {
  const page = await (await fetch(authorizeURL)).text()
  const fields = new URLSearchParams()
  for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields.set(m[1], unescapeHTML(m[2]))
  fields.set('username', env('LOGIN_USER'))
  fields.set('password', env('LOGIN_PASSWORD'))
  fields.set('action', 'approve')
  const res = await fetch(new URL('/oauth/authorize', authorizeURL), {
    method: 'POST', body: fields, redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
  return new URL(res.headers.get('location')).searchParams
}

// 1. The API refuses an anonymous call and says where its metadata is.
const anonymous = await fetch(serverUrl)
const resourceMetadataUrl = extractResourceMetadataUrl(anonymous)
out.anonymousStatus = anonymous.status
out.resourceMetadataUrl = resourceMetadataUrl?.href

// 2. Discovery, registration and the authorization request.
out.first = await auth(provider, { serverUrl, resourceMetadataUrl })
out.registeredClientId = store.client?.client_id
const authorizeURL = new URL(store.authorizeURL)
out.authorizeResource = authorizeURL.searchParams.get('resource')
out.authorizeChallengeMethod = authorizeURL.searchParams.get('code_challenge_method')
const answer = await signIn(authorizeURL)
out.stateMatched = answer.get('state') === store.state
out.iss = answer.get('iss')

// 3. The code for tokens.
out.second = await auth(provider, { serverUrl, resourceMetadataUrl, authorizationCode: answer.get('code') })
const first = store.tokens
const bearer = { headers: { authorization: `Bearer ${first.access_token}` } }
out.apiStatus = (await fetch(serverUrl, bearer)).status
const issuer = store.discovery.authorizationServerMetadata.issuer
out.userinfoSub = (await (await fetch(new URL('/oauth/userinfo', issuer), bearer)).json()).sub
out.accessAud = JSON.parse(Buffer.from(first.access_token.split('.')[1], 'base64url')).aud

// 4. A refresh, with rotation.
out.third = await auth(provider, { serverUrl, resourceMetadataUrl })
out.rotated = !!store.tokens.refresh_token && store.tokens.refresh_token !== first.refresh_token
out.refreshedAPIStatus = (await fetch(serverUrl, { headers: { authorization: `Bearer ${store.tokens.access_token}` } })).status

// 5. Logout at the end_session_endpoint; then auth() must log in again.
const endSession = new URL(store.discovery.authorizationServerMetadata.end_session_endpoint)
endSession.searchParams.set('id_token_hint', first.id_token ?? '')
out.logoutStatus = (await fetch(endSession, { redirect: 'manual' })).status
delete store.authorizeURL
out.fourth = await auth(provider, { serverUrl, resourceMetadataUrl })
out.newAuthorizationAsked = !!store.authorizeURL
process.stdout.write(JSON.stringify(out) + '\n')
