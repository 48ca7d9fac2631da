//go:build unix

package client

import (
	"fmt"
	"os"
	"syscall"
)

// openNoFollow is added when the PID file is opened: a symlink planted
// where it goes makes the open fail instead of clobbering its target.
const openNoFollow = syscall.O_NOFOLLOW

// checkLockDir refuses a lock folder that another user could have made or
// could write to: a symlink, a folder owned by someone else, or one that
// its group or others may write (the temp-dir fallback has a predictable
// name, so another user can create it first).
func checkLockDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("check the lock folder: %w", err)
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("the lock folder %s is a symlink, which another user may have planted; remove it", dir)
	case !fi.IsDir():
		return fmt.Errorf("the lock folder %s is not a folder; remove it", dir)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("the lock folder %s may be written by other users (mode %v); chmod 700 it or remove it", dir, fi.Mode().Perm())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("the lock folder %s belongs to another user (uid %d); remove it or use another cache dir", dir, st.Uid)
	}
	return nil
}
