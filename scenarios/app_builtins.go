package scenarios

// AppBuiltinNames lists the built-in scenarios for an app under test
// (tokenlab run --app, tokenlab scenarios --app), each named for the bug
// it catches. They are not among BuiltinNames: without an app they could
// only skip.
var AppBuiltinNames = []string{
	"app-login", "app-refresh-on-expiry", "app-single-refresh", "app-rotation-persisted",
	"app-lost-refresh-response", "app-lost-refresh-response-grace", "app-reuse-relogin", "app-logout",
}

// AppBuiltins returns every built-in app scenario, in that order.
func AppBuiltins() ([]*Scenario, error) {
	var all []*Scenario
	for _, name := range AppBuiltinNames {
		sc, err := Builtin(name)
		if err != nil {
			return nil, err
		}
		all = append(all, sc)
	}
	return all, nil
}
