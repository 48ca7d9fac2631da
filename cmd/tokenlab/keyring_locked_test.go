package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/internal/testskip"
)

// TestLockedKeyringSaysUnlock: with a real Secret Service whose login
// keyring is locked (gnome-keyring on a private D-Bus session bus, locked
// through the Secret Service's own Lock call), login says to unlock it,
// not to pick another store.
func TestLockedKeyringSaysUnlock(t *testing.T) {
	bin := tokenlabBinary(t)
	for _, tool := range []string{"dbus-daemon", "gnome-keyring-daemon", "dbus-send"} {
		if _, err := exec.LookPath(tool); err != nil {
			testskip.Real(t, "locked-keyring message", tool+" is not installed; apt-get install dbus gnome-keyring")
		}
	}
	env := lockedKeyring(t)
	cmd := exec.Command(bin, "login", "--server", "http://127.0.0.1:9", "--username", "bob", "--password-stdin")
	cmd.Env = env
	cmd.Stdin = strings.NewReader("pw\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if code := cmd.ProcessState.ExitCode(); err == nil || code != exitUsage {
		t.Fatalf("login with a locked keyring: exit %d (%v), want %d; stderr %q", code, err, exitUsage, stderr.String())
	}
	msg := stderr.String()
	if !strings.Contains(msg, "the OS keyring is locked: unlock it") || strings.Contains(msg, "--token-store") {
		t.Errorf("stderr = %q, want it to say the keyring is locked and to unlock it", msg)
	}
}

// lockedKeyring starts a private D-Bus session bus with gnome-keyring's
// Secret Service, whose new login keyring it then locks, and returns the
// environment that reaches it.
func lockedKeyring(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1").Output()
	if err != nil {
		t.Fatalf("dbus-daemon: %v", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) < 2 {
		t.Fatalf("dbus-daemon printed %q", out)
	}
	addr := lines[0]
	var pid int
	if _, err := fmt.Sscan(lines[1], &pid); err != nil {
		t.Fatalf("dbus-daemon pid %q: %v", lines[1], err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGTERM) }) // gnome-keyring-daemon exits with its bus
	home := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "DBUS_SESSION_BUS_ADDRESS=" + addr,
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"), "NO_COLOR=1"}
	unlock := exec.Command("gnome-keyring-daemon", "--unlock", "--components=secrets")
	unlock.Env, unlock.Stdin = env, strings.NewReader("test-pass") // a fresh data dir: this creates the login keyring
	if out, err := unlock.CombinedOutput(); err != nil {
		t.Fatalf("gnome-keyring-daemon --unlock: %v %s", err, out)
	}
	// The daemon claims its bus name after --unlock returns. Asking the
	// Secret Service before that would have D-Bus start another daemon,
	// one without the login keyring: wait for the name (NameHasOwner
	// starts nothing; polled and bounded, as it has no signal here).
	for i := 0; ; i++ {
		has := exec.Command("dbus-send", "--session", "--dest=org.freedesktop.DBus", "--type=method_call", "--print-reply",
			"/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets")
		has.Env = env
		if out, err := has.CombinedOutput(); err == nil && strings.Contains(string(out), "boolean true") {
			break
		}
		if i == 100 {
			t.Fatal("gnome-keyring-daemon did not claim org.freedesktop.secrets within 100 tries")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The daemon creates the login keyring after --unlock returns: Lock
	// answers with the collections it locked, so ask until it names it
	// (polled, as the condition has no signal to wait on; bounded).
	var lockOut []byte
	for range 100 {
		lock := exec.Command("dbus-send", "--session", "--dest=org.freedesktop.secrets", "--type=method_call", "--print-reply",
			"/org/freedesktop/secrets", "org.freedesktop.Secret.Service.Lock", "array:objpath:/org/freedesktop/secrets/collection/login")
		lock.Env = env
		if lockOut, err = lock.CombinedOutput(); err == nil && strings.Contains(string(lockOut), "collection/login") {
			return env
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the login keyring was not locked within 100 tries: %v %s", err, lockOut)
	return nil
}
