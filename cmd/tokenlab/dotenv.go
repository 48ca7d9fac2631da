package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// readDotEnv reads KEY=VALUE lines from path, as the seed articles' dotenv
// does: comments, blank lines, an optional "export ", and single or double
// quotes around a value. A missing file is no error.
func readDotEnv(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return parseDotEnv(path, data)
}

func parseDotEnv(name string, data []byte) (map[string]string, error) {
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || strings.ContainsAny(key, " \t\"'") {
			return nil, fmt.Errorf("%s:%d: expected KEY=VALUE", name, n)
		}
		val, err := dotEnvValue(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, n, err)
		}
		vars[key] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return vars, nil
}

// dotEnvValue unquotes a value; after a closing quote only a comment may
// follow, and an unquoted value ends where " #" starts a comment.
func dotEnvValue(val string) (string, error) {
	if val == "" || (val[0] != '"' && val[0] != '\'') {
		if i := strings.Index(val, " #"); i >= 0 {
			val = strings.TrimSpace(val[:i])
		}
		return val, nil
	}
	end := strings.IndexByte(val[1:], val[0])
	if end < 0 {
		return val, nil // a lone quote is part of the value, as in dotenv
	}
	rest := strings.TrimSpace(val[end+2:])
	if rest != "" && !strings.HasPrefix(rest, "#") {
		return "", fmt.Errorf("unexpected %q after the quoted value", rest)
	}
	return val[1 : end+1], nil
}
