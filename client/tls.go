package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// ErrUntrustedCertificate means the server's TLS certificate could not be
// verified: self-signed, from a private CA, expired, or for another name.
// It is no network failure: the server answered.
var ErrUntrustedCertificate = errors.New("the server's TLS certificate cannot be verified")

// WithCACertFile makes the client trust the CA certificates in a PEM file
// besides the system's (SSL_CERT_FILE and SSL_CERT_DIR still choose the
// system's on Linux), for servers with a self-signed certificate or a
// private CA.
func WithCACertFile(path string) (Option, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return func(c *Client) {
		base, ok := c.http.Transport.(*http.Transport)
		if !ok || base == nil {
			base = http.DefaultTransport.(*http.Transport)
		}
		t := base.Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		h := *c.http
		h.Transport = t
		c.http = &h
	}, nil
}

// untrusted says whether err is a failed certificate check.
func untrusted(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &hostname)
}

// certReason is what the certificate check said, without the request's
// "Get URL:" prefix.
func certReason(err error) string {
	var verify *tls.CertificateVerificationError
	if errors.As(err, &verify) {
		return verify.Err.Error()
	}
	return err.Error()
}
