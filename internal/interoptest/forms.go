package interoptest

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A Page is what a browser without JavaScript shows: the URL it ended on
// after following redirects, the status and the HTML.
type Page struct {
	URL    *url.URL
	Status int
	Body   string
}

// A Form is one <form> of a page, with the values its inputs carry.
type Form struct {
	ID     string
	Action string // as written in the page; resolve against Page.URL
	Method string // upper case; GET when the page does not say
	Fields url.Values
}

// Has reports whether the form has an input with that name.
func (f Form) Has(name string) bool { _, ok := f.Fields[name]; return ok }

var (
	formPattern  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputPattern = regexp.MustCompile(`(?is)<(?:input|button)\b([^>]*)>`)
	attrPattern  = regexp.MustCompile(`(?s)([a-zA-Z][\w.-]*)(?:\s*=\s*"([^"]*)")?`)
)

// Forms lists the page's forms. It reads only the simple HTML that
// server-rendered login pages use (double-quoted attributes, no nesting),
// which is what the pages under test send.
func (p Page) Forms() []Form {
	var forms []Form
	for _, m := range formPattern.FindAllStringSubmatch(p.Body, -1) {
		attrs := attributes(m[1])
		form := Form{ID: attrs["id"], Action: attrs["action"], Method: strings.ToUpper(attrs["method"]), Fields: url.Values{}}
		if form.Method == "" {
			form.Method = http.MethodGet
		}
		for _, in := range inputPattern.FindAllStringSubmatch(m[2], -1) {
			a := attributes(in[1])
			// Buttons are submitted only when clicked: Submit adds the one it clicks.
			if name := a["name"]; name != "" && !strings.HasPrefix(strings.TrimSpace(strings.ToLower(in[0])), "<button") {
				form.Fields.Add(name, a["value"])
			}
		}
		forms = append(forms, form)
	}
	return forms
}

// Form returns the first form for which match is true.
func (p Page) Form(match func(Form) bool) (Form, bool) {
	for _, f := range p.Forms() {
		if match(f) {
			return f, true
		}
	}
	return Form{}, false
}

func attributes(s string) map[string]string {
	attrs := map[string]string{}
	for _, m := range attrPattern.FindAllStringSubmatch(s, -1) {
		attrs[strings.ToLower(m[1])] = html.UnescapeString(m[2])
	}
	return attrs
}

// A FormBrowser plays a browser without JavaScript: a cookie jar, redirects
// followed (also to a loopback redirect URI, which is how a CLI's listener
// receives the code), forms posted as application/x-www-form-urlencoded.
type FormBrowser struct {
	client *http.Client
}

// NewFormBrowser returns a FormBrowser with an empty cookie jar.
func NewFormBrowser(tb testing.TB) *FormBrowser {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &FormBrowser{client: &http.Client{Jar: jar, Timeout: 15 * time.Second}}
}

// Client is the browser's HTTP client (its cookies included).
func (b *FormBrowser) Client() *http.Client { return b.client }

// Get opens a URL.
func (b *FormBrowser) Get(ctx context.Context, rawURL string) (Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return Page{}, err
	}
	return b.do(req)
}

// Submit sends a form of page with its fields, after set has changed them.
func (b *FormBrowser) Submit(ctx context.Context, page Page, form Form, set url.Values) (Page, error) {
	action, err := page.URL.Parse(form.Action)
	if err != nil {
		return Page{}, fmt.Errorf("form action %q: %w", form.Action, err)
	}
	values := url.Values{}
	for k, v := range form.Fields {
		values[k] = append([]string(nil), v...)
	}
	for k, v := range set {
		values[k] = v
	}
	var req *http.Request
	if form.Method == http.MethodPost {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(values.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		action.RawQuery = values.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, action.String(), nil)
	}
	if err != nil {
		return Page{}, err
	}
	return b.do(req)
}

func (b *FormBrowser) do(req *http.Request) (Page, error) {
	resp, err := b.client.Do(req)
	if err != nil {
		return Page{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Page{}, fmt.Errorf("read %s: %w", resp.Request.URL, err)
	}
	return Page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(body)}, nil
}
