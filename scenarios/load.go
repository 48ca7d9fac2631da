package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// BuiltinNames lists the built-in scenarios in teaching order.
var BuiltinNames = []string{
	"basic-login", "access-expiry", "refresh-rotation", "reuse-detection", "refresh-expiry",
	"logout", "logout-denylist", "concurrent-refresh", "reuse-grace", "tampered-token", "session-max",
	"lost-refresh-response", "lost-refresh-response-grace", "two-devices", "logout-access-window",
	"server-restart", "key-rotation", "refresh-outage", "pkce-login", "device-login", "client-credentials",
}

// Builtin returns the built-in scenario with that name.
func Builtin(name string) (*Scenario, error) {
	file := "builtin/" + name + ".yaml"
	data, err := builtinFS.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no built-in scenario %q (see tokenlab scenarios)", name)
	}
	if err != nil {
		return nil, err
	}
	return Parse(file, data)
}

// Builtins returns every built-in scenario, in teaching order.
func Builtins() ([]*Scenario, error) {
	var all []*Scenario
	for _, name := range BuiltinNames {
		sc, err := Builtin(name)
		if err != nil {
			return nil, err
		}
		all = append(all, sc)
	}
	return all, nil
}

// Load reads a scenario file, or a built-in scenario by name.
func Load(nameOrPath string) (*Scenario, error) {
	if !strings.ContainsAny(nameOrPath, "/\\.") {
		return Builtin(nameOrPath)
	}
	data, err := os.ReadFile(nameOrPath)
	if err != nil {
		return nil, &LoadError{File: nameOrPath, Msg: "cannot read the file: " + errors.Unwrap(err).Error()}
	}
	return Parse(nameOrPath, data)
}
