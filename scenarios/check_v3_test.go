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
