package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// discoverTokenEndpoint reads the OAuth token endpoint from the issuer's
// discovery document (the profile's issuer, or the target). The endpoint
// must pass the same loopback rule as the target.
func discoverTokenEndpoint(ctx context.Context, cfg Config) (string, error) {
	issuer := strings.TrimRight(cfg.Profile.OAuth.Issuer, "/")
	if issuer == "" {
		issuer = strings.TrimRight(cfg.Target, "/")
	}
	hc := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer hc.CloseIdleConnections()
	var last error
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		endpoint, err := tokenEndpointAt(ctx, hc, issuer+path)
		if err != nil {
			last = err
			continue
		}
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return "", fmt.Errorf("the discovery document names a token endpoint that is not an http URL: %q", endpoint)
		}
		if !cfg.AllowRemote && !Loopback(u.Hostname()) {
			return "", fmt.Errorf("the token endpoint %s is not on this machine; pass --allow-remote to load it", u.Host)
		}
		return endpoint, nil
	}
	return "", fmt.Errorf("OAuth discovery at %s: %w", issuer, last)
}

func tokenEndpointAt(ctx context.Context, hc *http.Client, docURL string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, docURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s answered %d", docURL, resp.StatusCode)
	}
	var doc struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.TokenEndpoint == "" {
		return "", fmt.Errorf("%s has no token_endpoint", docURL)
	}
	return doc.TokenEndpoint, nil
}
