//go:build !unix

package client

import (
	"fmt"
	"os"
)

// openNoFollow: Windows has no O_NOFOLLOW; checkLockDir refuses a
// symlinked folder, and the lock dir is the user's own profile folder.
const openNoFollow = 0

// checkLockDir refuses a lock folder that is a symlink or not a folder.
// Who owns it is an ACL question on Windows, which the default lock dir
// (%LocalAppData%) already answers.
func checkLockDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("check the lock folder: %w", err)
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("the lock folder %s is a symlink; remove it", dir)
	case !fi.IsDir():
		return fmt.Errorf("the lock folder %s is not a folder; remove it", dir)
	}
	return nil
}
