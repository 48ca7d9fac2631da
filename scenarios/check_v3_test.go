package scenarios

import "testing"

// Issue 18.6: ${name} in an expected value was compared as literal text.
// It is expanded like everywhere else, and a wrong value still fails.
func TestVariablesInExpectedValuesAreExpanded(t *testing.T) {
	const steps = `name: vars-in-expect
steps:
  - login: {}
  - request: /protected
    capture: {who: body.user.username}
  - request: /protected
    expect: {body_contains: '"username":"${who}"', claims: {username: "${who}"}, headers: {Content-Type: json}}
`
	wantPass(t, steps)
	wantFail(t, `name: vars-in-expect-wrong
steps:
  - login: {}
  - request: /protected
    capture: {who: body.user.username}
  - request: /protected
    expect: {claims: {username: "not-${who}"}}
`, 3, "not-alice")
}

// Issue 18.7: login_required follows one rule, for every step that works
// on the session: true when the client holds no session afterwards. Each
// case runs against the embedded server.
func TestLoginRequiredFollowsOneRule(t *testing.T) {
	wantPass(t, `name: login-required-rule
server:
  clients: [{id: ci, secret: right-secret-of-the-ci-client}]
steps:
  - login: {flow: pkce, deny: true}
    expect: {error: access_denied, login_required: true}
  - login: {flow: device, deny: true}
    expect: {error: access_denied, login_required: true}
  - login: {flow: pkce, wrong_verifier: true}
    expect: {status: 400, error: code_rejected, login_required: true}
  - login: {password: wrong}
    expect: {status: 401, login_required: true}
  - login: {flow: client-credentials, client_id: ci, client_secret: wrong-secret}
    expect: {status: 401, error: invalid_client, login_required: true}
  - fault: {route: login, status: 503}
  - login: {}
    expect: {status: 503, login_required: true}
  - login: {}
    expect: {status: 200, login_required: false}
  - request: /protected
    expect: {status: 200, login_required: false}
  - fault: {route: token, status: 503}
  - refresh:
    expect: {status: 503, login_required: false}
  - save: {token: refresh, as: old}
  - refresh:
    expect: {login_required: false}
  - replay: old
    say: The attacker's replay leaves the client's own session alone, for now.
    expect: {error: token_reused, login_required: false}
  - refresh:
    expect: {error: token_revoked, login_required: true}
  - login: {}
  - logout:
    expect: {login_required: true}
`)
}
