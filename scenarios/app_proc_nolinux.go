//go:build unix && !linux

package scenarios

import "syscall"

func dieWithRunner(*syscall.SysProcAttr) {}
