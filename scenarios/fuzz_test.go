package scenarios

import (
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, and must
// give either a *LoadError naming the file or a scenario with a name and
// at least one step. Crashers are kept in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, name := range BuiltinNames {
		data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, src := range []string{
		"",
		"name: x\n",
		"name: x\nsteps: []\n",
		"name: x\nsteps:\n  - expect: {status: 200}\n",
		"name: x\nsteps:\n  - login: {}\n  - request: [unclosed\n",
		"name: x\nsteps:\n  - login: {}\n\t- refresh:\n",
		"name: x\nserver: {access_ttl: forever}\nsteps:\n  - login: {}\n",
		"name: x\nsteps:\n  - login: {}\n  - replay: ghost\n",
		"name: x\nsteps:\n  - login: {}\n  - concurrent: {n: 1001}\n",
		"name: x\nsteps:\n  - login: {}\n  - tamper: {how: rot13, claims: {a: [1, {b: c}]}}\n",
		"name: &a x\nsteps:\n  - *a\n  - {login: *a}\n",
		"a: &a [*a]\n",
		"name: x\nsteps:\n  - login: {}\n    refresh:\n    expect: {claims: {exp: 1.5e9}}\n",
		"--- \nname: x\nsteps:\n  - login: {}\n---\nname: y\n",
		// Version 2.
		"name: x\ntags: [a]\nsteps:\n  - login: {}\n    client: b\n    capture: {v: body.a.0}\n  - request: {path: /${v}, headers: {X: ${run_id}}, auth: none}\n",
		"name: x\nsteps:\n  - repeat: {times: 1000, steps: [{repeat: {times: 1000, steps: [{refresh: }]}}]}\n",
		"name: x\nsteps:\n  - login: {}\n  - fault: {route: token, status: 503, delay: 2s, times: 3}\n  - restart:\n  - rotate_keys:\n",
		"name: x\nsteps:\n  - login: {}\n    expect: {status: [200, 4xx], error: [a, b], events: {a: 1}, no_events: [b], headers: {A: b}, cookies: {C: {httponly: true}}}\n",
		"name: x\nsteps:\n  - refresh: {lose_response: true}\n    expect: {status: \"200\"}\n",
		// Login flows.
		"name: x\nserver: {clients: [{id: m, secret: s}, {id: tokenlab}]}\nsteps:\n  - login: {flow: device, polls: [authorization_pending, slow_down], deny: true}\n  - save: {token: code, as: c}\n  - replay: c\n",
		"name: x\nsteps:\n  - login: {flow: client-credentials, client_id: m, client_secret_env: \"1X\", scope: a, resource: b}\n    expect: {has_refresh_token: false}\n",
	} {
		f.Add([]byte(src))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse("fuzz.yaml", data)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %T %v, want a *LoadError", err, err)
			}
			if le.File != "fuzz.yaml" || le.Line < 0 || le.Msg == "" {
				t.Fatalf("LoadError %+v: want the file, a line ≥ 0 and a message", le)
			}
			if sc != nil {
				t.Fatalf("a scenario and an error")
			}
			return
		}
		if sc == nil || sc.Name == "" || len(sc.Steps) == 0 {
			t.Fatalf("no error, but scenario %+v has no name or no steps", sc)
		}
		for i, st := range sc.Steps {
			if st.Kind == "" || st.Line < 1 {
				t.Fatalf("step %d = %+v: no kind or no line", i+1, st)
			}
		}
	})
}
