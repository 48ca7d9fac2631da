package scenarios

import "syscall"

// dieWithRunner: a runner killed outright (kill -9, a CI's timeout) cannot
// stop its app, so the kernel does: the app gets SIGKILL when the runner
// dies.
func dieWithRunner(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
