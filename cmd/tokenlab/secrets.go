package main

// Secrets without the command line: the first line of a file or of stdin,
// read one way by every command.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// maxSecretLine bounds what is read looking for a secret's first line.
const maxSecretLine = 64 << 10

// firstLine reads the first line of r, without its line ending.
func firstLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, maxSecretLine)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// readSecretFile reads a secret from the first line of the file at path;
// flag names the flag that gave the path in errors.
func readSecretFile(flag, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", usagef("%s: %v", flag, err)
	}
	defer f.Close()
	secret, err := firstLine(f)
	if err != nil {
		return "", usagef("%s: %v", flag, err)
	}
	if secret == "" {
		return "", usagef("%s %s: the file's first line is empty", flag, path)
	}
	return secret, nil
}

// passwordFromStdin reads the password from the first line of stdin.
func passwordFromStdin(in io.Reader) (string, error) {
	pw, err := firstLine(in)
	if err != nil {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	if pw == "" {
		return "", usagef("--password-stdin: stdin holds no password; pipe it in on the first line, e.g. printf '%%s\\n' \"$PASSWORD\" | tokenlab … --password-stdin")
	}
	return pw, nil
}

// passwordSource says where a password comes from without the command
// line: --password-file, --password-stdin, or TOKENLAB_PASSWORD.
type passwordSource struct {
	file  string
	stdin bool
}

// addFlags adds --password-file and --password-stdin; whose says whose
// password it is ("the", "that user's").
func (s *passwordSource) addFlags(f *pflag.FlagSet, whose string) {
	f.StringVar(&s.file, "password-file", "", "read "+whose+" password from the first line of this file")
	f.BoolVar(&s.stdin, "password-stdin", false, "read "+whose+" password from the first line of stdin")
}

// given reports whether --password-file or --password-stdin was given.
func (s passwordSource) given() bool { return s.file != "" || s.stdin }

// flag names the flag that gives the password.
func (s passwordSource) flag() string {
	if s.file != "" {
		return "--password-file"
	}
	return "--password-stdin"
}

// check refuses a password given two ways.
func (s passwordSource) check() error {
	if s.file != "" && s.stdin {
		return usagef("give the password one way: --password-file or --password-stdin, not both")
	}
	return nil
}

// read returns the password from --password-file or --password-stdin,
// or "" when neither was given.
func (s passwordSource) read(std streams) (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	switch {
	case s.file != "":
		return readSecretFile("--password-file", s.file)
	case s.stdin:
		return passwordFromStdin(std.in)
	}
	return "", nil
}

// password resolves the password: --password-file, else
// --password-stdin, else TOKENLAB_PASSWORD; "" when none gives one.
func (s passwordSource) password(std streams) (string, error) {
	pw, err := s.read(std)
	if err != nil || pw != "" {
		return pw, err
	}
	if v, ok := std.env("TOKENLAB_PASSWORD"); ok && v != "" {
		return v, nil
	}
	return "", nil
}
