package main

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestSelfSignedServerSaysCertificate: an https server with a self-signed
// certificate is a certificate problem, not "cannot reach … (is the
// server running?)", and the message offers --cacert; with --cacert
// naming its certificate, login, token and request work.
func TestSelfSignedServerSaysCertificate(t *testing.T) {
	privateDirs(t)
	idp := &hostileProvider{verificationURI: "https://idp.example/device"}
	idp.Server = httptest.NewTLSServer(http.HandlerFunc(idp.serve))
	t.Cleanup(idp.Close)
	login := []string{"login", "--server", idp.URL, "--profile", "oauth2", "--client-id", "tokenlab",
		"--flow", "password", "--username", "bob", "--password-stdin", "--token-store", "file"}

	code, _, stderr := runBuffered(t, "pw\n", login...)
	if code == 0 {
		t.Fatal("login trusted a self-signed certificate")
	}
	if strings.Contains(stderr, "is the server running") || !strings.Contains(stderr, "certificate") || !strings.Contains(stderr, "--cacert FILE") {
		t.Fatalf("stderr = %q, want a certificate problem that offers --cacert", stderr)
	}

	certFile := writeFile(t, t.TempDir(), "idp.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idp.Certificate().Raw})))
	if code, _, stderr := runBuffered(t, "pw\n", append(login, "--cacert", certFile)...); code != 0 {
		t.Fatalf("login --cacert: %d %s", code, stderr)
	}
	if code, stdout, stderr := runBuffered(t, "", "token", "--cacert", certFile); code != 0 || !strings.HasPrefix(stdout, "eyJ") {
		t.Fatalf("token --cacert: %d %q %s", code, stdout, stderr)
	}
	if code, _, stderr := runBuffered(t, "", "request", "--cacert", certFile, "/revoke"); code != 0 {
		t.Fatalf("request --cacert: %d %s", code, stderr)
	}
	if code, _, stderr := runBuffered(t, "", "request", "--cacert", filepath.Join(t.TempDir(), "missing.pem"), "/revoke"); code != exitUsage || !strings.Contains(stderr, "--cacert") {
		t.Errorf("a missing --cacert file: %d %q, want a usage error naming the flag", code, stderr)
	}
}
