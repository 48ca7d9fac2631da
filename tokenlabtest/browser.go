package tokenlabtest

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// The authorize page as a browser fills it: what the authorization code
// grant needs from a user, without a real browser.

var (
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	pageError   = regexp.MustCompile(`(?s)<p class="error"[^>]*>(.*?)</p>`)
)

// maxPage bounds what is read of a page.
const maxPage = 1 << 20

// Authorize acts as the user's browser at an authorization request (the
// URL an app redirects to, such as oauth2.Config.AuthCodeURL's): it opens
// the login page, logs in as username and allows the app, and returns the
// redirect the server answers with — the app's redirect URI with code and
// state, or with error when the server refused. It fails the test when the
// login page does not accept the request or the password.
func (s *Server) Authorize(authCodeURL, username, password string) *url.URL {
	s.helper()
	if !strings.HasPrefix(authCodeURL, s.AuthURL()+"?") {
		s.fail("tokenlabtest: %q is not an authorization request to %s", authCodeURL, s.AuthURL())
		return nil
	}
	browser := &http.Client{Transport: s.http.Transport,
		// A browser would follow the redirect to the app; the test reads it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	status, _, body := s.visit(browser, http.MethodGet, authCodeURL, nil)
	if status != http.StatusOK {
		s.fail("tokenlabtest: the authorize page answered %d: %s", status, body)
		return nil
	}
	form := url.Values{"username": {username}, "password": {password}, "action": {"approve"}}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	status, header, body := s.visit(browser, http.MethodPost, s.AuthURL(), form)
	if status != http.StatusFound {
		why := body
		if m := pageError.FindStringSubmatch(body); m != nil {
			why = html.UnescapeString(m[1])
		}
		s.fail("tokenlabtest: logging in as %s on the authorize page answered %d: %s", username, status, why)
		return nil
	}
	loc, err := url.Parse(header.Get("Location"))
	if err != nil {
		s.fail("tokenlabtest: the authorize page redirected to a bad URL: %v", err)
		return nil
	}
	return loc
}

// visit sends one request as a browser would and reads the answer.
func (s *Server) visit(browser *http.Client, method, target string, form url.Values) (int, http.Header, string) {
	s.helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, target, body)
	if err != nil {
		s.fail("tokenlabtest: %v", err)
		return 0, nil, ""
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := browser.Do(req)
	if err != nil {
		s.fail("tokenlabtest: %s %s: %v", method, target, err)
		return 0, nil, ""
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		s.fail("tokenlabtest: read %s: %v", target, err)
	}
	return resp.StatusCode, resp.Header, string(page)
}
