package client

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Exchange is one HTTP request and its answer as a viewer may show them
// (the TUI's request view): bounded, and with every secret masked here, at
// the source, so no viewer can show one by mistake. Passwords and client
// secrets are hidden; tokens, codes and verifiers are shortened to their
// first characters, enough to tell them apart.
type Exchange struct {
	Method          string `json:"method"`
	URL             string `json:"url"`
	Authorization   string `json:"authorization,omitempty"`
	RequestType     string `json:"requestType,omitempty"`
	RequestBody     string `json:"requestBody,omitempty"`
	Status          int    `json:"status"`
	WWWAuthenticate string `json:"wwwAuthenticate,omitempty"`
	ResponseType    string `json:"responseType,omitempty"`
	ResponseBody    string `json:"responseBody,omitempty"`
}

// maxRecorded bounds each body an Exchange keeps.
const maxRecorded = 4 << 10

// fieldKey is a field's name without case or underscores: the OAuth
// dialect says refresh_token, the tokenlab dialect refreshToken.
func fieldKey(k string) string { return strings.ToLower(strings.ReplaceAll(k, "_", "")) }

// hidden: a field never shown, not even in part (passwords, secrets).
func hidden(k string) bool {
	k = fieldKey(k)
	return strings.Contains(k, "password") || strings.Contains(k, "secret")
}

// shortened: a field shown by its first characters only (tokens, codes,
// verifiers).
func shortened(k string) bool {
	k = fieldKey(k)
	return strings.HasSuffix(k, "token") || strings.HasSuffix(k, "tokenhint") || k == "code" || k == "codeverifier" ||
		k == "devicecode" || k == "assertion"
}

// Hidden is what a masked secret reads as.
const Hidden = "•••• (hidden)"

// shortSecret keeps a token's first eight characters and says how long
// it was.
func shortSecret(s string) string {
	if len(s) <= 12 {
		return "… (" + itoa(len(s)) + " chars)"
	}
	return s[:8] + "… (" + itoa(len(s)) + " chars)"
}

func maskValue(key, v string) string {
	switch {
	case hidden(key):
		return Hidden
	case shortened(key):
		return shortSecret(v)
	}
	return v
}

// maskAuthorization shortens a bearer token and hides Basic credentials.
func maskAuthorization(h string) string {
	scheme, cred, ok := strings.Cut(h, " ")
	switch {
	case h == "":
		return ""
	case !ok:
		return Hidden
	case strings.EqualFold(scheme, "basic"):
		return scheme + " " + Hidden + " (client id and secret)"
	}
	return scheme + " " + shortSecret(cred)
}

// maskBody masks a form or JSON body; anything else is left out, being
// of no known shape.
func maskBody(contentType string, body []byte) string {
	if len(body) == 0 {
		return ""
	}
	if len(body) > maxRecorded {
		return "(" + itoa(len(body)) + " bytes, not recorded)"
	}
	switch {
	case strings.Contains(contentType, "application/x-www-form-urlencoded"):
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return "(a form that does not parse)"
		}
		keys := make([]string, 0, len(form))
		for k := range form {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			for _, v := range form[k] {
				parts = append(parts, k+"="+maskValue(k, v))
			}
		}
		return strings.Join(parts, "&")
	case strings.Contains(contentType, "json"):
		var v any
		if json.Unmarshal(body, &v) != nil {
			return "(JSON that does not parse)"
		}
		out, err := json.MarshalIndent(maskJSON(v), "", "  ")
		if err != nil {
			return ""
		}
		return string(out)
	}
	return "(" + itoa(len(body)) + " bytes of " + contentType + ")"
}

func maskJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (hidden(k) || shortened(k)) {
				v[k] = maskValue(k, s)
				continue
			}
			v[k] = maskJSON(x)
		}
	case []any:
		for i := range v {
			v[i] = maskJSON(v[i])
		}
	}
	return v
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// requestBody reads a copy of a request's body, when it can be read again.
func requestBody(req *http.Request) []byte {
	if req.GetBody == nil || req.ContentLength > maxRecorded {
		return nil
	}
	rc, err := req.GetBody()
	if err != nil {
		return nil
	}
	defer rc.Close()
	data, _ := io.ReadAll(io.LimitReader(rc, maxRecorded+1))
	return data
}

// record is the masked exchange of a request and its answer; body is the
// answer's body, nil when it was not read.
func record(req *http.Request, resp *http.Response, body []byte) *Exchange {
	return &Exchange{
		Method: req.Method, URL: req.URL.Redacted(),
		Authorization: maskAuthorization(req.Header.Get("Authorization")),
		RequestType:   req.Header.Get("Content-Type"),
		RequestBody:   maskBody(req.Header.Get("Content-Type"), requestBody(req)),
		Status:        resp.StatusCode, WWWAuthenticate: resp.Header.Get("WWW-Authenticate"),
		ResponseType: resp.Header.Get("Content-Type"),
		ResponseBody: maskBody(resp.Header.Get("Content-Type"), body),
	}
}

// peekBody reads a small answer whole for the record and puts it back for
// the caller; a large or streamed answer is left alone (nil).
func peekBody(resp *http.Response) []byte {
	if resp.ContentLength < 0 || resp.ContentLength > maxRecorded {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRecorded+1))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	return data
}
