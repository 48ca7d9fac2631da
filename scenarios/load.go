package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io"
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

// MaxFileSize bounds a scenario file: the largest built-in is a few KB,
// and a file is parsed whole, so a bigger one is a mistake (or a symlink
// to /dev/zero), refused before it is read.
const MaxFileSize = 1 << 20

// Load reads a scenario file, or a built-in scenario by name. Only a
// regular file of at most MaxFileSize bytes is read.
func Load(nameOrPath string) (*Scenario, error) {
	if !strings.ContainsAny(nameOrPath, "/\\.") {
		return Builtin(nameOrPath)
	}
	data, err := readBounded(nameOrPath)
	if err != nil {
		return nil, &LoadError{File: nameOrPath, Msg: err.Error()}
	}
	return Parse(nameOrPath, data)
}

// readBounded reads a regular file of at most MaxFileSize bytes. The
// limit holds while reading too: the file may grow after the check.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", errors.Unwrap(err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", err)
	}
	switch {
	case !info.Mode().IsRegular():
		return nil, fmt.Errorf("not a regular file (%s): a scenario is a YAML file", info.Mode().Type())
	case info.Size() > MaxFileSize:
		return nil, fmt.Errorf("the file is %d bytes; a scenario file may have at most %d (1 MiB)", info.Size(), MaxFileSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("the file grew past %d bytes (1 MiB) while it was read", MaxFileSize)
	}
	return data, nil
}
