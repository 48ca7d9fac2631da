package client

// OAuth 2.0 Protected Resource Metadata (RFC 9728): an API says which
// authorization servers issue its tokens, either in the resource_metadata
// parameter of the WWW-Authenticate challenge of its 401 (§5.1) or at
// /.well-known/oauth-protected-resource (§3). tokenlab reads it when
// --server is an API rather than an authorization server, and when an
// API refuses a request.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxResourceMetadata bounds a metadata document read.
const maxResourceMetadata = 64 << 10

// wellKnownResource is RFC 9728 §3's well-known suffix.
const wellKnownResource = "/.well-known/oauth-protected-resource"

// ResourceMetadata is an API's Protected Resource Metadata (RFC 9728 §2),
// and where it was read.
type ResourceMetadata struct {
	Resource             string   `json:"resource"`
	AuthorizationServers []string `json:"authorization_servers"`
	ScopesSupported      []string `json:"scopes_supported"`
	BearerMethods        []string `json:"bearer_methods_supported"`
	// URL is where the document was read; Via says how it was found:
	// "WWW-Authenticate" or "well-known".
	URL string `json:"-"`
	Via string `json:"-"`
}

// AuthorizationServer is the issuer tokenlab logs in at: the first one
// the API names.
func (m ResourceMetadata) AuthorizationServer() string {
	return strings.TrimRight(m.AuthorizationServers[0], "/")
}

// Summary says in one line what the metadata told, for the terminal.
func (m ResourceMetadata) Summary(api string) string {
	how := "its WWW-Authenticate resource_metadata"
	if m.Via == "well-known" {
		how = "its " + wellKnownResource
	}
	line := fmt.Sprintf("%s is the protected resource %s; its authorization server is %s (Protected Resource Metadata %s, found through %s)",
		Printable(api), Printable(m.Resource), Printable(m.AuthorizationServer()), Printable(m.URL), how)
	if len(m.ScopesSupported) > 0 {
		line += "; scopes " + Printable(strings.Join(m.ScopesSupported, " "))
	}
	return line
}

// Sentinels of resource discovery.
var (
	// ErrNoResourceMetadata means the URL publishes no Protected Resource
	// Metadata, neither in a 401 challenge nor at the well-known path.
	ErrNoResourceMetadata = errors.New("no protected resource metadata")
	// ErrResourceMetadataRefused means a metadata document was found but
	// refused: unreadable, or naming a resource or server it may not.
	ErrResourceMetadataRefused = errors.New("protected resource metadata refused")
)

// DiscoverResource finds the Protected Resource Metadata of the API at
// apiURL: it sends one request without a token, and reads the document
// its 401 names in WWW-Authenticate resource_metadata; else the
// well-known one (RFC 9728 §3.1: inserted between the host and the
// path). hc should not follow redirects.
func DiscoverResource(ctx context.Context, hc *http.Client, apiURL string) (ResourceMetadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL, nil)
	if err != nil {
		return ResourceMetadata{}, fmt.Errorf("bad URL %q: %w", apiURL, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return ResourceMetadata{}, unreachable(apiURL, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxResourceMetadata))
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		if mdURL := ResourceMetadataURL(resp.Header); mdURL != "" {
			return FetchResourceMetadata(ctx, hc, mdURL, apiURL, "WWW-Authenticate")
		}
	}
	wk, err := wellKnownResourceURL(apiURL)
	if err != nil {
		return ResourceMetadata{}, err
	}
	return FetchResourceMetadata(ctx, hc, wk, apiURL, "well-known")
}

// wellKnownResourceURL is apiURL's well-known metadata URL.
func wellKnownResourceURL(apiURL string) (string, error) {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not a URL", apiURL)
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	return u.Scheme + "://" + u.Host + wellKnownResource + path, nil
}

// ResourceMetadataURL is the resource_metadata parameter of a Bearer
// challenge in WWW-Authenticate (RFC 9728 §5.1); "" when there is none.
func ResourceMetadataURL(h http.Header) string {
	for _, v := range h.Values("WWW-Authenticate") {
		scheme, params, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			continue
		}
		if u := authParam(params, "resource_metadata"); u != "" {
			return u
		}
	}
	return ""
}

// authParam reads one auth-param (name=token or name="quoted") of a
// challenge (RFC 9110 §11.2).
func authParam(params, name string) string {
	s := params
	for s != "" {
		s = strings.TrimLeft(s, " ,")
		key, rest, ok := strings.Cut(s, "=")
		if !ok {
			return ""
		}
		key = strings.TrimSpace(key)
		rest = strings.TrimLeft(rest, " ")
		var value string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				b.WriteByte(rest[i])
			}
			value, s = b.String(), rest[min(i+1, len(rest)):]
		} else {
			value, s, _ = strings.Cut(rest, ",")
			value = strings.TrimSpace(value)
		}
		if strings.EqualFold(key, name) {
			return value
		}
	}
	return ""
}

// FetchResourceMetadata reads the metadata document at mdURL for the API
// at apiURL and checks it: its resource must be on the API's origin (RFC
// 9728 §3.3 and §7.3: an API may not speak for another), and it must name
// an http(s) authorization server.
func FetchResourceMetadata(ctx context.Context, hc *http.Client, mdURL, apiURL, via string) (ResourceMetadata, error) {
	if !browsable(mdURL) {
		return ResourceMetadata{}, fmt.Errorf("the resource_metadata %q is not an http(s) URL", Printable(mdURL))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, mdURL, nil)
	if err != nil {
		return ResourceMetadata{}, fmt.Errorf("bad resource_metadata %q: %w", Printable(mdURL), err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return ResourceMetadata{}, unreachable(mdURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResourceMetadata+1))
	if err != nil {
		return ResourceMetadata{}, fmt.Errorf("the metadata at %s broke off: %w", mdURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return ResourceMetadata{}, fmt.Errorf("%w: %s answered %d", ErrNoResourceMetadata, mdURL, resp.StatusCode)
	}
	if len(body) > maxResourceMetadata {
		return ResourceMetadata{}, fmt.Errorf("%w: the metadata at %s is larger than %d bytes", ErrResourceMetadataRefused, mdURL, maxResourceMetadata)
	}
	var m ResourceMetadata
	if err := json.Unmarshal(body, &m); err != nil {
		return ResourceMetadata{}, fmt.Errorf("%w: %s is not a JSON metadata document", ErrNoResourceMetadata, mdURL)
	}
	m.URL, m.Via = mdURL, via
	if err := m.check(apiURL); err != nil {
		return ResourceMetadata{}, fmt.Errorf("%w: the Protected Resource Metadata at %s was refused: %w", ErrResourceMetadataRefused, mdURL, err)
	}
	return m, nil
}

func (m ResourceMetadata) check(apiURL string) error {
	if m.Resource == "" {
		return errors.New("it names no resource")
	}
	want, err := Origin(apiURL)
	if err != nil {
		return err
	}
	if got, err := Origin(m.Resource); err != nil || got != want {
		return fmt.Errorf("its resource %q is not on the API's origin %s, so the API may not speak for it (RFC 9728 §7.3)", Printable(m.Resource), want)
	}
	if len(m.AuthorizationServers) == 0 {
		return errors.New("it names no authorization_servers")
	}
	if !browsable(m.AuthorizationServers[0]) {
		return fmt.Errorf("its authorization server %q is not an http(s) URL", Printable(m.AuthorizationServers[0]))
	}
	return nil
}

// IsAuthorizationServer says whether server publishes authorization
// server metadata (OpenID discovery or RFC 8414) at its well-known paths.
func IsAuthorizationServer(ctx context.Context, hc *http.Client, server string) bool {
	server = strings.TrimRight(server, "/")
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+path, nil)
		if err != nil {
			return false
		}
		resp, err := hc.Do(req)
		if err != nil {
			return false
		}
		var d discovery
		err = json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(&d)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && err == nil && d.Token != "" {
			return true
		}
	}
	return false
}
