package client

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// protectedAPI serves RFC 9728 metadata at mdPath and answers every
// other path 401, with resource_metadata in its challenge when
// challenge is true. resource "" means the API's own URL.
func protectedAPI(t *testing.T, mdPath string, challenge bool, resource string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := resource
		if res == "" {
			res = srv.URL
		}
		if r.URL.Path == mdPath {
			fakeWriteJSON(w, http.StatusOK, map[string]any{"resource": res, "authorization_servers": []string{"http://127.0.0.1:9/"},
				"scopes_supported": []string{"api:read"}, "bearer_methods_supported": []string{"header"}})
			return
		}
		if challenge {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", resource_metadata="`+srv.URL+mdPath+`"`)
		} else {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		}
		fakeWriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDiscoverResource(t *testing.T) {
	hc := &http.Client{CheckRedirect: noRedirects}
	t.Run("from the 401's resource_metadata", func(t *testing.T) {
		api := protectedAPI(t, "/meta/prm.json", true, "")
		m, err := DiscoverResource(t.Context(), hc, api.URL)
		if err != nil {
			t.Fatal(err)
		}
		if m.Via != "WWW-Authenticate" || m.URL != api.URL+"/meta/prm.json" || m.AuthorizationServer() != "http://127.0.0.1:9" || m.Resource != api.URL {
			t.Errorf("got %+v", m)
		}
		if s := m.Summary(api.URL); !strings.Contains(s, "authorization server is http://127.0.0.1:9") || !strings.Contains(s, "WWW-Authenticate") {
			t.Errorf("summary %q", s)
		}
	})
	t.Run("from the well-known path", func(t *testing.T) {
		api := protectedAPI(t, "/.well-known/oauth-protected-resource", false, "")
		m, err := DiscoverResource(t.Context(), hc, api.URL)
		if err != nil || m.Via != "well-known" {
			t.Fatalf("%+v, %v", m, err)
		}
	})
	t.Run("a resource on another origin is refused", func(t *testing.T) {
		api := protectedAPI(t, "/.well-known/oauth-protected-resource", true, "https://bank.example")
		_, err := DiscoverResource(t.Context(), hc, api.URL)
		if err == nil || !strings.Contains(err.Error(), "not on the API's origin") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("no metadata", func(t *testing.T) {
		api := protectedAPI(t, "/elsewhere", false, "")
		if _, err := DiscoverResource(t.Context(), hc, api.URL); !errors.Is(err, ErrNoResourceMetadata) {
			t.Fatalf("err %v, want ErrNoResourceMetadata", err)
		}
	})
}

func TestResourceMetadataURL(t *testing.T) {
	cases := []struct {
		name   string
		values []string
		want   string
	}{
		{"quoted", []string{`Bearer resource_metadata="http://a/x"`}, "http://a/x"},
		{"after others", []string{`Bearer realm="r, with comma", error="invalid_token", resource_metadata="http://a/y"`}, "http://a/y"},
		{"token form", []string{`Bearer resource_metadata=http://a/z`}, "http://a/z"},
		{"second challenge", []string{`Basic realm="x"`, `Bearer resource_metadata="http://a/w"`}, "http://a/w"},
		{"another scheme", []string{`DPoP resource_metadata="http://a/v"`}, ""},
		{"none", []string{`Bearer error="invalid_token"`}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.values {
				h.Add("WWW-Authenticate", v)
			}
			if got := ResourceMetadataURL(h); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
